/**
 * The host simulator's manifest signer with Node's crypto: SHA-256 and ECDSA P-256 (raw r||s) under the
 * TEST key in tools/host/test-keys (public on purpose: see its README), the one TEST key pair of the
 * repository. The terminal holds only the public key (`testPublicKey`).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { checkP256Inputs, P256_SIGNATURE_BYTES, type P256Check } from "../../modules/crypto/p256";
import type { ImageSigner } from "./tms";

/** The TEST key, PKCS#8 PEM, from tools/host/test-keys (read when asked: a worker bundle has no module URL and is handed the text). */
export function readTestKeyPem(): string {
  return fs.readFileSync(new URL("./test-keys/tms-signing-TEST-ONLY.pem", import.meta.url), "utf8");
}

/** Bytes of an uncompressed P-256 point (04 || X || Y), the end of its SPKI DER. */
const RAW_PUBLIC_KEY_BYTES = 65;

/** The P-256 group order. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const SCALAR_BYTES = 32;

/**
 * A signer with `keyPem` (PKCS#8 P-256), default the TEST key. Its ECDSA signatures are deterministic (the
 * nonce is HMAC-SHA256 of the private key over the digest, as RFC 6979 means it, so no randomness is
 * needed): the same publication always has the same bytes, so a chaos seed or a scenario replays byte for
 * byte (`--pcap`). Node's crypto does the point multiplication (ECDH's public key of the nonce).
 */
export function nodeImageSigner(keyPem: string | Buffer = readTestKeyPem()): ImageSigner {
  const key = crypto.createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw new Error("the TMS signing key must be an ECDSA P-256 key");
  const secret = Buffer.from(key.export({ format: "jwk" }).d!, "base64url");
  const d = scalarOf(secret);
  return {
    sha256: (bytes) => new Uint8Array(crypto.createHash("sha256").update(bytes).digest()),
    sign: (message) => {
      const digest = crypto.createHash("sha256").update(message).digest();
      const z = scalarOf(digest);
      for (let counter = 0; ; counter++) {
        const k = scalarOf(crypto.createHmac("sha256", secret).update(digest).update(Buffer.of(counter)).digest()) % P256_ORDER;
        if (k === 0n) continue;
        const ecdh = crypto.createECDH("prime256v1");
        ecdh.setPrivateKey(bytesOf(k));
        const r = scalarOf(ecdh.getPublicKey().subarray(1, 1 + SCALAR_BYTES)) % P256_ORDER;
        const s = (inverse(k) * ((z + r * d) % P256_ORDER)) % P256_ORDER;
        if (r !== 0n && s !== 0n) return new Uint8Array(Buffer.concat([bytesOf(r), bytesOf(s)]));
      }
    },
  };
}

function scalarOf(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}

function bytesOf(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(2 * SCALAR_BYTES, "0"), "hex");
}

/** k⁻¹ mod n for 0 < k < n (extended Euclid: a fifth of the time of k^(n-2), which a chaos seed felt). */
function inverse(k: bigint): bigint {
  let [r0, r1] = [k, P256_ORDER];
  let [x0, x1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [x0, x1] = [x1, x0 - q * x1];
  }
  return x0 < 0n ? x0 + P256_ORDER : x0;
}

/** The public half of `keyPem` (default the TEST key) as a terminal is provisioned with it: 04 || X || Y, 65 bytes. */
export function testPublicKey(keyPem: string | Buffer = readTestKeyPem()): Uint8Array {
  const der = crypto.createPublicKey(keyPem).export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - RAW_PUBLIC_KEY_BYTES));
}

/**
 * The terminal's signature check on OpenSSL for V8 hosts (modules/crypto/p256.ts `P256Check`): the
 * core's input checks and errors first, then node:crypto's verdict, the same as the core's BigInt
 * verifyP256 (tests/node/crypto/sha256-p256-interop.test.ts) at a few hundredths of its cost. Each public
 * key is imported once per check function, and the last verdicts are kept (a verdict is a function of key,
 * message and signature): every trial boot's self-test asks the same two.
 */
export function nodeP256Check(): P256Check {
  const keys = new Map<string, crypto.KeyObject>();
  const verdicts = new Map<string, boolean>();
  return (publicKey, message, signature) => {
    const raw = Buffer.from(publicKey);
    const id = raw.toString("hex");
    // A key imported before passed the core's checks (shape, on the curve): then only the signature's length is left.
    if (!keys.has(id) || signature.length !== P256_SIGNATURE_BYTES) checkP256Inputs(publicKey, signature);
    const asked = `${id}/${Buffer.from(message).toString("hex")}/${Buffer.from(signature).toString("hex")}`;
    const known = verdicts.get(asked);
    if (known !== undefined) return known;
    let key = keys.get(id);
    if (key === undefined) {
      const coordinate = (from: number) => raw.subarray(from, from + SCALAR_BYTES).toString("base64url");
      key = crypto.createPublicKey({ key: { kty: "EC", crv: "P-256", x: coordinate(1), y: coordinate(1 + SCALAR_BYTES) }, format: "jwk" });
      keys.set(id, key);
    }
    const verdict = crypto.verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
    if (verdicts.size >= VERDICTS_KEPT) verdicts.clear();
    verdicts.set(asked, verdict);
    return verdict;
  };
}

/** Verdicts a check keeps (the self-test's two and the manifests of the images a terminal sees again). */
const VERDICTS_KEPT = 64;

/** Verifies a manifest signature with the TEST key's public half (tests: what the terminal's check must agree with). */
export function verifyManifestSignature(manifest: Uint8Array, signature: Uint8Array): boolean {
  const key = crypto.createPublicKey(readTestKeyPem());
  return crypto.verify("sha256", manifest, { key, dsaEncoding: "ieee-p1363" }, signature);
}
