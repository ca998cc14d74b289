/** modules/crypto's SHA-256 and P-256 verify against node:crypto (OpenSSL) on random inputs and fresh keys. */
import crypto from "node:crypto";
import { toHex } from "../../../modules/base/hex";
import { verifyP256 } from "../../../modules/crypto/p256";
import { sha256 } from "../../../modules/crypto/sha256";

test("SHA-256 equals OpenSSL's on 200 random messages of 0..2000 bytes", () => {
  for (let i = 0; i < 200; i++) {
    const message = crypto.randomBytes(crypto.randomInt(0, 2001));
    expect(toHex(sha256(new Uint8Array(message)))).toBe(crypto.createHash("sha256").update(message).digest("hex").toUpperCase());
  }
});

test("signatures OpenSSL makes with 8 fresh keys verify; the same signature under another key or digest does not", () => {
  const keys = Array.from({ length: 8 }, () => crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }));
  for (const [i, { privateKey, publicKey }] of keys.entries()) {
    const raw = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(-65));
    const message = crypto.randomBytes(64);
    const signature = new Uint8Array(crypto.sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" }));
    const digest = new Uint8Array(crypto.createHash("sha256").update(message).digest());
    expect(verifyP256(raw, digest, signature)).toBe(true);
    const other = new Uint8Array(keys[(i + 1) % keys.length].publicKey.export({ format: "der", type: "spki" }).subarray(-65));
    expect(verifyP256(other, digest, signature)).toBe(false);
    digest[0] ^= 0x80;
    expect(verifyP256(raw, digest, signature)).toBe(false);
  }
});
