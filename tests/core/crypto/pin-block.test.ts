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

describe("PIN blocks: every refusal by name", () => {
  /** Sets clear nibble `i` (0 = control, 1 = length, 2… PIN and filler) of an 8-byte block; the PAN field starts at nibble 4. */
  function withNibble(block: Uint8Array, i: number, value: number): Uint8Array {
    expect(i).toBeLessThan(4);
    const out = block.slice();
    const shift = i % 2 === 0 ? 4 : 0;
    out[i >> 1] = (out[i >> 1] & ~(15 << shift)) | (value << shift);
    return out;
  }
  /** XORs `mask` into nibble `i` (anywhere), so its clear value changes by `mask`. */
  function flipNibble(block: Uint8Array, i: number, mask: number): Uint8Array {
    const out = block.slice();
    out[i >> 1] ^= mask << (i % 2 === 0 ? 4 : 0);
    return out;
  }

  test("PIN and PAN lengths: the messages say the limits; a 13-digit PAN is taken", () => {
    expect(() => pinBlockFormat0("123", PAN)).toThrow(new CryptoInputError("pin", "PIN must be 4 to 12 digits"));
    expect(() => pinBlockFormat0("1234", "123456789012")).toThrow(
      new CryptoInputError("pan", "PAN must be 13 to 19 digits (got 12 characters)"),
    );
    const block = pinBlockFormat0("1234", "1234567890128");
    expect(pinFromBlock(block, "1234567890128")).toBe("1234");
    expect(() => pinFromBlock(new Uint8Array(7), PAN)).toThrow(new CryptoInputError("pinBlock", "PIN block must be 8 or 16 bytes, got 7"));
  });

  test("format 3 reads back from an 8-byte block; format nibble 3 in a 16-byte block and 1 anywhere are refused", () => {
    const format3 = pinBlockFormat3("9876", PAN, new SeededRandom(3));
    expect(pinFromBlock(format3, PAN)).toBe("9876");
    const unsupported = new CryptoInputError("pinBlock", "PIN block has an unsupported format nibble");
    expect(() => pinFromBlock(withNibble(format3, 0, 1), PAN)).toThrow(unsupported);
    const sm4 = sm4PinBlock("9876", PAN);
    expect(pinFromBlock(sm4, PAN)).toBe("9876");
    expect(() => pinFromBlock(flipNibble(sm4, 0, 3), PAN)).toThrow(unsupported);
  });

  test.each([3, 13, 15])("a PIN length of %d is refused", (length) => {
    const block = withNibble(pinBlockFormat0("1234", PAN), 1, length);
    expect(() => pinFromBlock(block, PAN)).toThrow(new CryptoInputError("pinBlock", "PIN block has an invalid PIN length"));
  });

  test("lengths 4 and 12 are read", () => {
    expect(pinFromBlock(pinBlockFormat0("1234", PAN), PAN)).toBe("1234");
    expect(pinFromBlock(pinBlockFormat0("123456789012", PAN), PAN)).toBe("123456789012");
  });

  test("a non-digit in the PIN is refused", () => {
    const block = withNibble(pinBlockFormat0("1234", PAN), 2, 0xa);
    expect(() => pinFromBlock(block, PAN)).toThrow(new CryptoInputError("pinBlock", "PIN block has a non-digit in the PIN"));
  });

  test("a filler other than F (format 0) or below A (format 3) is refused: the wrong PAN or key", () => {
    const badFiller = new CryptoInputError("pinBlock", "PIN block has an invalid filler (wrong PAN or key?)");
    expect(() => pinFromBlock(flipNibble(pinBlockFormat0("1234", PAN), 6, 1), PAN)).toThrow(badFiller);
    // Format 3 filler nibbles are A-F: XOR 8 turns any of them into 2-7.
    expect(() => pinFromBlock(flipNibble(pinBlockFormat3("1234", PAN, new SeededRandom(5)), 6, 8), PAN)).toThrow(badFiller);
  });
});
