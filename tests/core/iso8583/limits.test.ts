/**
 * The codec's edges: a message that fills the buffer exactly, the text each encode error carries, characters
 * outside ASCII in hex, the secondary-bitmap flag, and scratch memory sized from any dialect's longest field.
 */
import { toHex } from "../../../modules/base/hex";
import { CUP, Iso8583Codec, Iso8583Error, type Dialect, type FieldDef, type IsoMessage } from "../../../modules/iso8583";
import { isoErrorOf } from "./iso-error";

const encodeError = (codec: Iso8583Codec, message: IsoMessage): Iso8583Error => isoErrorOf(() => codec.encode(message));

const digits = (count: number) => Array.from({ length: count }, (_, i) => String((i * 7 + 1) % 10)).join("");

describe("the buffer's edge", () => {
  // 64 bytes: MTI 2 + bitmap 8 + F48's prefix 2 + 52 bytes of packed digits.
  const small = () => new Iso8583Codec({ dialect: CUP, header: false, messageBytesMax: 64 });

  test("a message of exactly the limit encodes (packed digits count half a byte each); one digit pair more does not", () => {
    const codec = small();
    const message = { mti: "0200", fields: { 48: digits(104) } };
    expect(codec.encode(message).length).toBe(64);
    expect(codec.decode(codec.encode(message).slice())).toStrictEqual(message);
    const over = encodeError(codec, { mti: "0200", fields: { 48: digits(106) } });
    expect([over.field, over.reason, over.message]).toEqual([48, "messageTooLong", "field 48 at byte 10: messageTooLong (limit 64 bytes)"]);
  });

  test("binary counts a byte per two hex digits: 52 bytes fill it", () => {
    const codec = small();
    expect(codec.encode({ mti: "0200", fields: { 62: "AB".repeat(52) } }).length).toBe(64);
  });
});

describe("encode errors say what was expected", () => {
  const cup = new Iso8583Codec({ dialect: CUP });
  const header = { tpdu: "6000030000", header: "603100311312" };

  test.each<[string, IsoMessage, string]>([
    ["a TPDU of 4 bytes", { ...header, tpdu: "60000300", mti: "0200", fields: {} }, "TPDU at byte 0: wrongLength (5 bytes expected)"],
    [
      "a header of 7 bytes",
      { ...header, header: "60310031131200", mti: "0200", fields: {} },
      "header at byte 5: wrongLength (6 bytes expected)",
    ],
    ["an MTI of 3 digits", { ...header, mti: "020", fields: {} }, "MTI at byte 11: wrongLength (4 digits expected)"],
    [
      "an odd count of hex digits",
      { ...header, mti: "0200", fields: { 55: "123" } },
      "field 55 at byte 21: badHex (odd number of hex digits)",
    ],
    [
      "a fixed field one digit short",
      { ...header, mti: "0200", fields: { 3: "00000" } },
      "field 3 at byte 21: wrongLength (5 instead of 6)",
    ],
    [
      "a variable field over its maximum",
      { ...header, mti: "0200", fields: { 2: "1".repeat(20) } },
      "field 2 at byte 21: lengthOverMaximum (20 > 19)",
    ],
  ])("%s", (_name, message, text) => {
    expect(encodeError(cup, message).message).toBe(text);
  });

  test("hex outside ASCII is badHex in either digit of a pair, and so is a bad first digit alone", () => {
    for (const value of ["\u00c10", "0\u00c1", "\u00800", "0\u0080", "G0", "0G"]) {
      const error = encodeError(cup, { ...header, mti: "0200", fields: { 52: value + "00000000000000" } });
      expect([value, error.field, error.reason]).toEqual([value, 52, "badHex"]);
    }
  });
});

describe("the secondary bitmap flag", () => {
  const cup = new Iso8583Codec({ dialect: CUP, header: false });

  test("secondaryBitmap: true writes an empty secondary bitmap, which decodes back to the flag", () => {
    const message = { mti: "0800", fields: { 11: "000001" }, secondaryBitmap: true };
    const bytes = cup.encode(message);
    expect(toHex(bytes)).toBe("0800" + "8020000000000000" + "0000000000000000" + "000001");
    expect(cup.decode(bytes.slice())).toStrictEqual(message);
  });

  test("secondaryBitmap: false or absent writes none", () => {
    for (const flag of [false, undefined]) {
      expect(toHex(cup.encode({ mti: "0800", fields: { 11: "000001" }, secondaryBitmap: flag }))).toBe(
        "0800" + "0020000000000000" + "000001",
      );
    }
  });
});

describe("a dialect's longest field sizes the decoder's scratch", () => {
  /** A BCD dialect with F2 n..19 and the one long field `def`. */
  function dialectWith(def: Omit<FieldDef, "number">): Dialect {
    const fields: (FieldDef | undefined)[] = new Array<FieldDef | undefined>(129).fill(undefined);
    fields[2] = { number: 2, kind: "n", lengthType: "LL", length: 19, align: "left" };
    fields[48] = { number: 48, ...def };
    return { name: "cup", encoding: "bcd", tpduBytes: 0, headerBytes: 0, fields };
  }

  test.each<[string, Omit<FieldDef, "number">, string]>([
    ["b...999", { kind: "b", lengthType: "LLL", length: 999, align: "left" }, "5A".repeat(998) + "C3"],
    ["n...999", { kind: "n", lengthType: "LLL", length: 999, align: "left" }, digits(999)],
    ["z...998", { kind: "z", lengthType: "LLL", length: 998, align: "left" }, "D7".repeat(498) + "9E"],
  ])("%s: a value of the maximum length decodes whole", (_name, def, value) => {
    const codec = new Iso8583Codec({ dialect: dialectWith(def), messageBytesMax: 2048 });
    const message = { mti: "0200", fields: { 2: "4", 48: value } };
    expect(codec.decode(codec.encode(message).slice())).toStrictEqual(message);
  });
});
