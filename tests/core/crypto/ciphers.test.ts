/**
 * Block ciphers against published known answers: NIST SP 800-17 (DES variable
 * plaintext / variable key), FIPS 81 (ECB and CBC "Now is the time for all "),
 * NIST SP 800-67 (3-key 3DES), GB/T 32907-2016 Annex A (SM4).
 */
import { fromAscii, fromHex, toHex } from "../../../modules/base/hex";
import { cbcDecrypt, cbcEncrypt, ecbDecrypt, ecbEncrypt, type BlockCipher } from "../../../modules/crypto/block-cipher";
import { softwareCiphers, typedSoftwareCiphers } from "../../../modules/crypto/ciphers";
import { Des, desTables, TripleDes } from "../../../modules/crypto/des";
import { CryptoInputError } from "../../../modules/crypto/errors";
import { Sm4 } from "../../../modules/crypto/sm4";
import { SeededRandom } from "../../../modules/platform/random";

function encryptHex(cipher: BlockCipher, plaintextHex: string): string {
  return toHex(ecbEncrypt(cipher, fromHex(plaintextHex)));
}

describe("DES known answers", () => {
  test.each([
    // SP 800-17 Table A.1 (variable plaintext, key 0101010101010101)
    ["0101010101010101", "8000000000000000", "95F8A5E5DD31D900"],
    ["0101010101010101", "4000000000000000", "DD7F121CA5015619"],
    // SP 800-17 Table A.2 (variable key, plaintext 0)
    ["8001010101010101", "0000000000000000", "95A8D72813DAA94D"],
    ["4001010101010101", "0000000000000000", "0EEC1487DD8C26D5"],
    // FIPS 81 appendix B, first block of "Now is the time for all "
    ["0123456789ABCDEF", "4E6F772069732074", "3FA40E8A984D4815"],
    // The worked example of the textbook walk-through (Stallings / Grabbe)
    ["133457799BBCDFF1", "0123456789ABCDEF", "85E813540F0AB405"],
    // KCV row of reference §3.6
    ["0123456789ABCDEF", "0000000000000000", "D5D44FF720683D0D"],
  ])("key %s plaintext %s -> %s", (key, plaintext, expected) => {
    // The frozen module tables, and the typed copies a V8 host hands in.
    for (const des of [new Des(fromHex(key)), new Des(fromHex(key), desTables())]) {
      expect(encryptHex(des, plaintext)).toBe(expected);
      expect(toHex(ecbDecrypt(des, fromHex(expected)))).toBe(plaintext);
    }
  });

  const fips81Plain = fromAscii("Now is the time for all ");
  test("FIPS 81 ECB over three blocks", () => {
    expect(toHex(ecbEncrypt(new Des(fromHex("0123456789ABCDEF")), fips81Plain))).toBe("3FA40E8A984D48156A271787AB8883F9893D51EC4B563B53");
  });

  test("FIPS 81 CBC with IV 1234567890ABCDEF, and back", () => {
    const des = new Des(fromHex("0123456789ABCDEF"));
    const iv = fromHex("1234567890ABCDEF");
    const cipherText = cbcEncrypt(des, iv, fips81Plain);
    expect(toHex(cipherText)).toBe("E5C7CDDE872BF27C43E934008C389C0F683788499A7C05F6");
    expect(cbcDecrypt(des, iv, cipherText)).toEqual(fips81Plain);
    // in place
    const buffer = fips81Plain.slice();
    cbcEncrypt(des, iv, buffer, buffer);
    cbcDecrypt(des, iv, buffer, buffer);
    expect(buffer).toEqual(fips81Plain);
  });
});

describe("3DES known answers", () => {
  test("2-key: E(0) under 0123456789ABCDEFFEDCBA9876543210 (reference §3.6 KCV row)", () => {
    expect(encryptHex(new TripleDes(fromHex("0123456789ABCDEFFEDCBA9876543210")), "0000000000000000")).toBe("08D7B4FB629D0885");
  });

  test("3-key: SP 800-67 example 'The qufck brown fox jump'", () => {
    const tdes = new TripleDes(fromHex("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"));
    const cipherText = ecbEncrypt(tdes, fromAscii("The qufck brown fox jump"));
    expect(toHex(cipherText)).toBe("A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900");
    expect(ecbDecrypt(tdes, cipherText)).toEqual(fromAscii("The qufck brown fox jump"));
  });

  test("with K1 = K2 = K3, 3DES equals single DES", () => {
    const key = fromHex("133457799BBCDFF1");
    const triple = new Uint8Array(24);
    triple.set(key, 0);
    triple.set(key, 8);
    triple.set(key, 16);
    expect(encryptHex(new TripleDes(triple), "0123456789ABCDEF")).toBe("85E813540F0AB405");
  });
});

describe("SM4 known answer", () => {
  test("GB/T 32907-2016 Annex A example 1", () => {
    const sm4 = new Sm4(fromHex("0123456789ABCDEFFEDCBA9876543210"));
    expect(encryptHex(sm4, "0123456789ABCDEFFEDCBA9876543210")).toBe("681EDF34D206965E86B3E94F536E4246");
    expect(toHex(ecbDecrypt(sm4, fromHex("681EDF34D206965E86B3E94F536E4246")))).toBe("0123456789ABCDEFFEDCBA9876543210");
  });
});

describe("every cipher decrypts what it encrypts", () => {
  const random = new SeededRandom(4);
  test.each([
    ["des", 8],
    ["tdes", 16],
    ["tdes", 24],
    ["sm4", 16],
  ] as const)("%s with %i-byte keys, CBC over random data", (algorithm, keyBytes) => {
    for (let round = 0; round < 20; round++) {
      const key = new Uint8Array(keyBytes);
      random.fill(key);
      const cipher = softwareCiphers.create(algorithm, key);
      const data = new Uint8Array(cipher.blockBytes * (1 + random.below(4)));
      random.fill(data);
      const iv = new Uint8Array(cipher.blockBytes);
      random.fill(iv);
      const encrypted = cbcEncrypt(cipher, iv, data);
      expect(encrypted).not.toEqual(data);
      expect(cbcDecrypt(cipher, iv, encrypted)).toEqual(data);
    }
  });
});

describe("bad input gets a typed error", () => {
  test.each([
    ["des", 16],
    ["tdes", 8],
    ["tdes", 32],
    ["sm4", 8],
  ] as const)("%s rejects a %i-byte key", (algorithm, keyBytes) => {
    expect(() => softwareCiphers.create(algorithm, new Uint8Array(keyBytes))).toThrow(CryptoInputError);
  });

  test("constructors check key length too", () => {
    expect(() => new Des(new Uint8Array(7))).toThrow("des key must be 8 bytes, got 7");
    expect(() => new TripleDes(new Uint8Array(8))).toThrow(CryptoInputError);
    expect(() => new Sm4(new Uint8Array(24))).toThrow(CryptoInputError);
  });

  test("modes reject partial blocks and a wrong IV", () => {
    const des = new Des(fromHex("0123456789ABCDEF"));
    expect(() => ecbEncrypt(des, new Uint8Array(7))).toThrow("whole number of 8-byte blocks");
    expect(() => cbcEncrypt(des, new Uint8Array(16), new Uint8Array(8))).toThrow(CryptoInputError);
    expect(() => cbcDecrypt(new Sm4(new Uint8Array(16)), new Uint8Array(16), new Uint8Array(8))).toThrow(CryptoInputError);
  });

  test("cipher objects do not show their key schedule", () => {
    const key = fromHex("0123456789ABCDEFFEDCBA9876543210");
    for (const cipher of [new TripleDes(key), new Sm4(key), new Des(key.subarray(0, 8))]) {
      expect(JSON.stringify(cipher)).toBe('"[redacted]"');
      expect(String(cipher)).toContain("[redacted]");
    }
  });
});

describe("typedSoftwareCiphers (typed copies of the DES tables, for V8 hosts)", () => {
  test("the same blocks as softwareCiphers for DES, 2-key and 3-key 3DES and SM4, on random keys", () => {
    const random = new SeededRandom(17);
    const typed = typedSoftwareCiphers();
    for (const [algorithm, keyBytes] of [
      ["des", 8],
      ["tdes", 16],
      ["tdes", 24],
      ["sm4", 16],
    ] as const)
      for (let n = 0; n < 20; n++) {
        const key = new Uint8Array(keyBytes);
        random.fill(key);
        const a = softwareCiphers.create(algorithm, key);
        const b = typed.create(algorithm, key);
        const block = new Uint8Array(a.blockBytes);
        random.fill(block);
        const expected = ecbEncrypt(a, block);
        expect(toHex(ecbEncrypt(b, block))).toBe(toHex(expected));
        expect(toHex(ecbDecrypt(b, expected))).toBe(toHex(block));
      }
  });

  test("each call builds its own tables: nothing shared is writable", () => {
    const first = desTables();
    const second = desTables();
    expect(first.sp).not.toBe(second.sp);
    expect(Array.from(first.sp)).toEqual(Array.from(second.sp));
  });
});
