/** Hex text of bytes: short inputs and long ones (converted through character codes) give the same upper-case digits. */
import { fromHex, toHex } from "../../../modules/base/hex";

/** The digits of one byte, written out without toHex. */
function pair(b: number): string {
  const digits = "0123456789ABCDEF";
  return digits.charAt(b >> 4) + digits.charAt(b & 15);
}

describe("toHex", () => {
  test("every byte value, in a long input, and round trips through fromHex", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const text = toHex(all);
    expect(text.length).toBe(512);
    for (let b = 0; b < 256; b++) expect(text.slice(2 * b, 2 * b + 2)).toBe(pair(b));
    expect(fromHex(text)).toEqual(all);
  });

  test("lengths around the short/long border and the conversion chunks agree with byte-by-byte digits", () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 73 + 41) & 0xff);
    for (const length of [0, 1, 15, 16, 17, 63, 64, 65, 128, 129, 300]) {
      let expected = "";
      for (let i = 0; i < length; i++) expected += pair(bytes[i]);
      expect(toHex(bytes.subarray(0, length))).toBe(expected);
    }
  });

  test("a range of a long input: only bytes[start, end)", () => {
    const bytes = new Uint8Array(100).map((_, i) => i);
    expect(toHex(bytes, 10, 40)).toBe(toHex(bytes.subarray(10, 40)));
    expect(toHex(bytes, 90)).toBe("5A5B5C5D5E5F60616263");
    expect(() => toHex(bytes, 50, 101)).toThrow();
  });
});
