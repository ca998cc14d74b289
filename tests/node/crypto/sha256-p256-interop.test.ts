/**
 * modules/crypto's SHA-256 and P-256 verify against node:crypto (OpenSSL) on random inputs and fresh keys;
 * the V8 hosts' OpenSSL signature check (tools/host/tms-signing.ts) gives the core's verdicts and errors.
 */
import crypto from "node:crypto";
import { toHex } from "../../../modules/base/hex";
import { CryptoInputError } from "../../../modules/crypto/errors";
import { verifyP256, verifyP256Sha256 } from "../../../modules/crypto/p256";
import { nodeP256Check } from "../../../tools/host/tms-signing";
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

test("nodeP256Check gives verifyP256Sha256's verdict on good, altered, out-of-range and other-key signatures, and its errors", () => {
  const check = nodeP256Check();
  const n = Buffer.from("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", "hex");
  const keys = Array.from({ length: 4 }, () => crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }));
  const raw = (key: crypto.KeyObject) => new Uint8Array(key.export({ format: "der", type: "spki" }).subarray(-65));
  let verdicts = 0;
  for (const [i, { privateKey, publicKey }] of keys.entries()) {
    const message = new Uint8Array(crypto.randomBytes(1 + 50 * i));
    const good = new Uint8Array(crypto.sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" }));
    const flipped = good.slice();
    flipped[i * 9] ^= 0x10;
    const zeroR = good.slice().fill(0, 0, 32);
    const bigS = good.slice();
    bigS.set(n, 32);
    const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
      [raw(publicKey), message, good],
      [raw(publicKey), message, flipped],
      [raw(publicKey), message, zeroR],
      [raw(publicKey), message, bigS],
      [raw(publicKey), message.subarray(1), good],
      [raw(keys[(i + 1) % keys.length].publicKey), message, good],
    ];
    for (const [key, m, signature] of cases) {
      const expected = verifyP256Sha256(key, m, signature);
      expect(check(key, m, signature)).toBe(expected);
      expect(check(key, m, signature)).toBe(expected); // the kept verdict
      if (expected) verdicts++;
    }
    const offCurve = raw(publicKey);
    offCurve[64] ^= 1;
    expect(() => check(offCurve, message, good)).toThrow(CryptoInputError);
    expect(() => check(raw(publicKey).subarray(1), message, good)).toThrow(CryptoInputError);
    expect(() => check(raw(publicKey), message, good.subarray(1))).toThrow(CryptoInputError);
  }
  expect(verdicts).toBe(keys.length); // the good signatures only
});
