/**
 * The host simulator's manifest signer with Node's crypto: SHA-256 and ECDSA P-256 (raw r||s) under the
 * TEST key in tools/host/test-keys (public on purpose: see its README). The terminal holds only the
 * public key below.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ImageSigner } from "./tms";

export const TMS_TEST_KEY_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "test-keys/tms-signing-TEST-ONLY.pem");

/** The TEST signing key's public key: uncompressed P-256 point 04 || X || Y, hex. */
export const TMS_TEST_PUBLIC_KEY_HEX =
  "04D6B438232F0DDCBEA093AA76278341D47EFC777DDA37E11DD816E0013AF9DC6B6285E6B145CB4698943220E383A11564385FF25CE3E7163456ADC5FA00001A94";

/** A signer with `keyPem` (PKCS#8 P-256), default the TEST key. */
export function nodeImageSigner(keyPem: string | Buffer = fs.readFileSync(TMS_TEST_KEY_FILE)): ImageSigner {
  const key = crypto.createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw new Error("the TMS signing key must be an ECDSA P-256 key");
  return {
    sha256: (bytes) => new Uint8Array(crypto.createHash("sha256").update(bytes).digest()),
    sign: (message) => new Uint8Array(crypto.sign("sha256", message, { key, dsaEncoding: "ieee-p1363" })),
  };
}

/** Verifies a manifest signature with a raw public key (tests, and what the terminal's check must agree with). */
export function verifyManifestSignature(manifest: Uint8Array, signature: Uint8Array, publicKeyHex = TMS_TEST_PUBLIC_KEY_HEX): boolean {
  const raw = Buffer.from(publicKeyHex, "hex");
  const key = crypto.createPublicKey({
    key: { kty: "EC", crv: "P-256", x: raw.subarray(1, 33).toString("base64url"), y: raw.subarray(33, 65).toString("base64url") },
    format: "jwk",
  });
  return crypto.verify("sha256", manifest, { key, dsaEncoding: "ieee-p1363" }, signature);
}
