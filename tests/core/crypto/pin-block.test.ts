/** PIN blocks: ISO 9564 format 0 (moov-io vector, reference §3.6), format 3, the 16-byte SM4 block. */
import { fromHex, toHex } from "../../../modules/base/hex";
import { ecbDecrypt, ecbEncrypt } from "../../../modules/crypto/block-cipher";
import { TripleDes } from "../../../modules/crypto/des";
import { CryptoInputError } from "../../../modules/crypto/errors";
import { pinBlockFormat0, pinBlockFormat3, pinFromBlock, sm4PinBlock } from "../../../modules/crypto/pin-block";
import { Sm4 } from "../../../modules/crypto/sm4";
import { SeededRandom } from "../../../modules/platform/random";

const PAN = "5432101234567891";

describe("ISO 9564 format 0", () => {
  test("PIN 1234, PAN 5432101234567891 -> 041215FEDCBA9876", () => {
    expect(toHex(pinBlockFormat0("1234", PAN))).toBe("041215FEDCBA9876");
  });

  test("a 12-digit PIN fills the block; a 19-digit PAN uses its 12 digits before the check digit", () => {
    // PIN field 0C123456789012 + FF; PAN field 0000 + 234567890123 (from 6212345678901234567's digits 7..18).
    const block = pinBlockFormat0("123456789012", "6212345678901234567");
    expect(pinFromBlock(block, "6212345678901234567")).toBe("123456789012");
    expect(toHex(block).slice(0, 4)).toBe("0C12");
  });

  test("encrypted under a 3DES PIK and back", () => {
    const pik = new TripleDes(fromHex("0123456789ABCDEFFEDCBA9876543210"));
    const encrypted = ecbEncrypt(pik, pinBlockFormat0("1234", PAN));
    expect(toHex(encrypted)).not.toBe("041215FEDCBA9876");
    expect(pinFromBlock(ecbDecrypt(pik, encrypted), PAN)).toBe("1234");
  });
});

describe("ISO 9564 format 3", () => {
  test("control nibble 3, random A-F filler, decodes back; two blocks of the same PIN differ", () => {
    const random = new SeededRandom(7);
    const a = pinBlockFormat3("9876", PAN, random);
    const b = pinBlockFormat3("9876", PAN, random);
    expect(toHex(a)[0]).toBe("3");
    expect(a).not.toEqual(b);
    expect(pinFromBlock(a, PAN)).toBe("9876");
    expect(pinFromBlock(b, PAN)).toBe("9876");
    // The filler nibbles, once the PAN field is removed, are all A-F.
    const clearField = toHex(pinBlockFormat3("9876", PAN, new SeededRandom(1)));
    const panField = "0000" + PAN.slice(-13, -1);
    let filler = "";
    for (let i = 6; i < 16; i++) filler += (parseInt(clearField[i], 16) ^ parseInt(panField[i], 16)).toString(16).toUpperCase();
    expect(filler).toMatch(/^[A-F]{10}$/);
  });
});

describe("SM4 PIN block (F59 tag A1)", () => {
  test("16 bytes: format 0 PIN field to 32 nibbles XOR the PAN field right-aligned", () => {
    // PIN field 041234 + 26 x F; PAN field 20 x 0 + 210123456789.
    expect(toHex(sm4PinBlock("1234", PAN))).toBe("041234FFFFFFFFFFFFFFDEFEDCBA9876");
  });

  test("encrypted under an SM4 PIK and back", () => {
    const pik = new Sm4(fromHex("0123456789ABCDEFFEDCBA9876543210"));
    const encrypted = ecbEncrypt(pik, sm4PinBlock("246810", PAN));
    expect(encrypted).toHaveLength(16);
    expect(pinFromBlock(ecbDecrypt(pik, encrypted), PAN)).toBe("246810");
  });
});

describe("bad input: typed errors that never echo the PIN, the PAN or the block", () => {
  test.each(["123", "1234567890123", "12a4", "", "12 34"])("PIN %j is refused", (pin) => {
    let caught: unknown;
    try {
      pinBlockFormat0(pin, PAN);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CryptoInputError);
    expect((caught as CryptoInputError).what).toBe("pin");
    if (pin.length > 0) expect((caught as Error).message).not.toContain(pin);
  });

  test.each(["543210123456", "54321012345678901234", "54321012345678X1"])("PAN %j is refused", (pan) => {
    expect(() => pinBlockFormat0("1234", pan)).toThrow(CryptoInputError);
    try {
      pinBlockFormat0("1234", pan);
    } catch (error) {
      expect((error as Error).message).not.toContain(pan);
      expect((error as Error).message).not.toContain("1234");
    }
  });

  test("decoding with the wrong PAN, a damaged block or a bad length fails without showing the block", () => {
    const block = pinBlockFormat0("1234", PAN);
    expect(() => pinFromBlock(block, "6212345678901234")).toThrow(CryptoInputError);
    const damaged = block.slice();
    damaged[0] = 0x14;
    expect(() => pinFromBlock(damaged, PAN)).toThrow("unsupported format nibble");
    expect(() => pinFromBlock(new Uint8Array(9), PAN)).toThrow("8 or 16 bytes");
    try {
      pinFromBlock(block, "6212345678901234");
    } catch (error) {
      expect((error as Error).message).not.toContain(toHex(block));
      expect((error as Error).message).not.toContain("1234");
    }
  });
});
