/**
 * The host simulator's manifest signer with Node's crypto: SHA-256 and ECDSA P-256 (raw r||s) under the
 * TEST key in tools/host/test-keys (public on purpose: see its README), the one TEST key pair of the
 * repository. The terminal holds only the public key (`testPublicKey`).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import type { ImageSigner } from "./tms";

/** The TEST key, PKCS#8 PEM, from tools/host/test-keys (read when asked: a worker bundle has no module URL and is handed the text). */
export function readTestKeyPem(): string {
  return fs.readFileSync(new URL("./test-keys/tms-signing-TEST-ONLY.pem", import.meta.url), "utf8");
}

/** Bytes of an uncompressed P-256 point (04 || X || Y), the end of its SPKI DER. */
const RAW_PUBLIC_KEY_BYTES = 65;

/** A signer with `keyPem` (PKCS#8 P-256), default the TEST key. */
export function nodeImageSigner(keyPem: string | Buffer = readTestKeyPem()): ImageSigner {
  const key = crypto.createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw new Error("the TMS signing key must be an ECDSA P-256 key");
  return {
    sha256: (bytes) => new Uint8Array(crypto.createHash("sha256").update(bytes).digest()),
    sign: (message) => new Uint8Array(crypto.sign("sha256", message, { key, dsaEncoding: "ieee-p1363" })),
  };
}

/** The public half of `keyPem` (default the TEST key) as a terminal is provisioned with it: 04 || X || Y, 65 bytes. */
export function testPublicKey(keyPem: string | Buffer = readTestKeyPem()): Uint8Array {
  const der = crypto.createPublicKey(keyPem).export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - RAW_PUBLIC_KEY_BYTES));
}

/** Verifies a manifest signature with the TEST key's public half (tests: what the terminal's check must agree with). */
export function verifyManifestSignature(manifest: Uint8Array, signature: Uint8Array): boolean {
  const key = crypto.createPublicKey(readTestKeyPem());
  return crypto.verify("sha256", manifest, { key, dsaEncoding: "ieee-p1363" }, signature);
}
