import { fromHex, toHex } from "../../../modules/base/hex";
import {
  CUP,
  ISO87_ASCII,
  Iso8583Codec,
  Iso8583Error,
  PART_BITMAP,
  PART_LENGTH,
  PART_MTI,
  type IsoMessage,
} from "../../../modules/iso8583";
import { isoErrorOf } from "./iso-error";
import { IC_SALE, SIGN_ON_FRAMED } from "./samples";

const cup = new Iso8583Codec({ dialect: CUP, header: false });
const ascii = new Iso8583Codec({ dialect: ISO87_ASCII, framed: true });

function decodeError(codec: Iso8583Codec, hex: string): Iso8583Error {
  try {
    codec.decode(fromHex(hex));
  } catch (error) {
    if (error instanceof Iso8583Error) return error;
    throw error;
  }
  throw new Error("decoded without an error");
}

const encodeError = (codec: Iso8583Codec, message: IsoMessage): Iso8583Error => isoErrorOf(() => codec.encode(message));

/** 0200 with the primary bitmap `bitmap` and field bytes `body`, CUP without header. */
const cupMessage = (bitmap: string, body: string) => `0200${bitmap}${body}`;

describe("CUP encoding rules", () => {
  test("odd-length n fields: F22 left-aligned, F23 right-aligned, F2 pad nibble last", () => {
    const hex = toHex(cup.encode({ mti: "0200", fields: { 2: "123", 22: "051", 23: "001" } }));
    expect(hex).toBe("0200" + "4000060000000000" + "031230" + "0510" + "0001");
  });

  test("LLLVAR lengths are 2 BCD bytes counting digits for n, bytes for b", () => {
    const hex = toHex(cup.encode({ mti: "0800", fields: { 60: "00000001003", 62: "0102" } }));
    expect(hex).toBe("0800" + "0000000000000014" + "0011000000010030" + "00020102");
  });

  test("track 2 keeps the D separator as a nibble", () => {
    const m = { mti: "0200", fields: { 35: "6217973910000725090D2312" } };
    const bytes = cup.encode(m);
    expect(toHex(bytes).slice(20)).toBe("246217973910000725090D2312");
    expect(cup.decode(bytes)).toStrictEqual(m);
  });

  test("a secondary bitmap is written when a field above 64 is present (iso87ascii) and decodes back", () => {
    const m = { mti: "0200", fields: { 3: "000000", 100: "12345", 128: "0102030405060708" } };
    const bytes = ascii.encode(m);
    expect(String.fromCharCode(...bytes.subarray(6, 38))).toBe("A000000000000000" + "0000000010000001");
    expect(ascii.decode(bytes)).toStrictEqual(m);
  });

  test("values at their maximum length round-trip (b...512, n...322 odd and even, z...104)", () => {
    const hex = Array.from({ length: 512 }, (_, i) => (i & 0xff).toString(16).padStart(2, "0").toUpperCase()).join("");
    const digits = (count: number) => Array.from({ length: count }, (_, i) => String(i % 10)).join("");
    const m = { mti: "0500", fields: { 36: "D".repeat(103), 48: digits(322), 60: digits(17), 62: hex } };
    expect(cup.decode(cup.encode(m))).toStrictEqual(m);
    const odd = { mti: "0500", fields: { 48: digits(321) } };
    expect(cup.decode(cup.encode(odd))).toStrictEqual(odd);
  });

  test("encode reuses one buffer: the previous view changes", () => {
    const first = cup.encode({ mti: "0800", fields: { 11: "000001" } });
    const copy = toHex(first);
    cup.encode({ mti: "0800", fields: { 11: "999999" } });
    expect(toHex(first)).not.toBe(copy);
  });
});

describe("decode errors name field, offset and reason", () => {
  test.each([
    ["truncated MTI", "02", PART_MTI, 0, "truncated"],
    ["bad BCD nibble in the MTI", "020A" + "0000000000000000", PART_MTI, 1, "badBcdNibble"],
    ["truncated bitmap", "0200" + "20", PART_BITMAP, 2, "truncated"],
    ["truncated fixed field", cupMessage("2000000000000000", "0000"), 3, 10, "truncated"],
    ["non-digit BCD nibble in an n field", cupMessage("2000000000000000", "00A000"), 3, 11, "badBcdNibble"],
    ["LLVAR length over the maximum", cupMessage("4000000000000000", "20" + "00".repeat(10)), 2, 10, "lengthOverMaximum"],
    ["bad BCD nibble in a length prefix", cupMessage("4000000000000000", "1A"), 2, 10, "badBcdNibble"],
    ["LLLVAR length over the maximum (F55 > 255)", cupMessage("0000000000000200", "0256" + "00".repeat(256)), 55, 10, "lengthOverMaximum"],
    ["length prefix longer than the bytes", cupMessage("0000000000000200", "0010" + "0102"), 55, 12, "truncated"],
    ["bitmap bit without a definition", cupMessage("0800000000000000", "000000"), 5, 10, "undefinedField"],
    ["secondary bitmap field without a definition in CUP", cupMessage("8000000000000000", "8000000000000000"), 65, 18, "undefinedField"],
    ["pad nibble not zero", cupMessage("4000000000000000", "031231"), 2, 12, "badPadNibble"],
    ["bytes after the last field", cupMessage("2000000000000000", "000000FF"), 3, 13, "trailingBytes"],
    ["control character in a text field", cupMessage("0000000000800000", "3132333435360037"), 41, 16, "nonText"],
  ])("%s", (_name, hex, field, offset, reason) => {
    const error = decodeError(cup, hex);
    expect(error).toBeInstanceOf(Iso8583Error);
    expect({ field: error.field, offset: error.offset, reason: error.reason }).toEqual({ field, offset, reason });
    expect(error.message).toContain(`at byte ${offset}`);
  });

  test("framed: a length prefix disagreeing with the bytes", () => {
    const codec = new Iso8583Codec({ dialect: CUP, framed: true });
    const error = decodeError(codec, "005C" + SIGN_ON_FRAMED.slice(4));
    expect([error.field, error.offset, error.reason]).toEqual([PART_LENGTH, 0, "lengthMismatch"]);
  });

  test("iso87ascii: non-digit in an n field, lowercase hex bitmap, ASCII length prefix", () => {
    const hexOf = (text: string) => toHex(Uint8Array.from(text, (c) => c.charCodeAt(0)));
    const frame = (text: string) =>
      (text.length >> 8).toString(16).padStart(2, "0") + (text.length & 0xff).toString(16).padStart(2, "0") + hexOf(text);
    expect(decodeError(ascii, frame("02002000000000000000" + "00A000")).reason).toBe("nonDigit");
    expect(decodeError(ascii, frame("0200a000000000000000")).reason).toBe("badHex");
    const length = decodeError(ascii, frame("02004000000000000000" + "2X"));
    expect([length.field, length.offset, length.reason]).toEqual([2, 23, "nonDigit"]);
  });

  test("a message over the codec's limit is refused before it is read", () => {
    const small = new Iso8583Codec({ dialect: CUP, messageBytesMax: 64 });
    expect(decodeError(small, "00".repeat(65)).reason).toBe("messageTooLong");
  });

  test("the header is required when the codec expects it", () => {
    const codec = new Iso8583Codec({ dialect: CUP });
    expect(decodeError(codec, "6000030000").field).toBe(-1);
  });
});

describe("encode errors", () => {
  test.each([
    ["fixed field of the wrong length", { 3: "00000" }, 3, "wrongLength"],
    ["variable field over its maximum", { 2: "1".repeat(20) }, 2, "lengthOverMaximum"],
    ["non-digit in an n field", { 4: "00000000100A" }, 4, "nonDigit"],
    ["non-hex in a b field", { 52: "00000000000000GG" }, 52, "badHex"],
    ["odd hex digits in a b field", { 55: "123" }, 55, "badHex"],
    ["non-hex in a z field", { 35: "1234=5678" }, 35, "badHex"],
    ["control character in text", { 41: "1234567\n" }, 41, "nonText"],
    ["field without definition", { 5: "000000000000" }, 5, "undefinedField"],
  ])("%s", (_name, fields, field, reason) => {
    const error = encodeError(cup, { mti: "0200", fields });
    expect([error.field, error.reason]).toEqual([field, reason]);
  });

  test.each([
    ["pad nibble first (F23)", cup, { 23: "0X1" }, 23, "nonDigit", 2],
    ["pad nibble last (F22)", cup, { 22: "05X" }, 22, "nonDigit", 3],
    ["second digit of a BCD pair (F4)", cup, { 4: "00000000100A" }, 4, "nonDigit", 12],
    ["LLVAR, odd length (F2)", cup, { 2: "12345X7" }, 2, "nonDigit", 6],
    ["z nibbles (F35)", cup, { 35: "1234=5678" }, 35, "badHex", 5],
    ["ans text (F41)", cup, { 41: "1234567\u007f" }, 41, "nonText", 8],
    ["ASCII digits (iso87ascii F3)", ascii, { 3: "00A000" }, 3, "nonDigit", 3],
    ["ASCII z (iso87ascii F35)", ascii, { 35: "12D4G6" }, 35, "badHex", 5],
  ])("the error names the bad character: %s", (_name, codec, fields, field, reason, character) => {
    const error = encodeError(codec, { mti: "0200", fields });
    expect([error.field, error.reason]).toEqual([field, reason]);
    expect(error.message).toContain(`(character ${character})`);
  });

  test("ans keeps bytes 0x80-0xFF, other text kinds refuse them", () => {
    const bytes = cup.encode({ mti: "0210", fields: { 63: "CUP\u00c4\u00d6" } });
    expect(cup.decode(bytes).fields[63]).toBe("CUP\u00c4\u00d6");
    expect(encodeError(cup, { mti: "0210", fields: { 39: "0\u00c4" } }).reason).toBe("nonText");
  });

  test("a bad MTI", () => {
    expect(encodeError(cup, { mti: "200", fields: {} }).reason).toBe("wrongLength");
    expect(encodeError(cup, { mti: "02X0", fields: {} }).reason).toBe("nonDigit");
  });

  test("a message larger than the buffer", () => {
    const small = new Iso8583Codec({ dialect: CUP, header: false, messageBytesMax: 64 });
    expect(encodeError(small, { mti: "0200", fields: { 62: "00".repeat(100) } }).reason).toBe("messageTooLong");
  });

  test("the TPDU and header must be there, in hex, when the codec writes them", () => {
    const codec = new Iso8583Codec({ dialect: CUP });
    expect(encodeError(codec, { mti: "0800", fields: {} }).field).toBe(-2);
    expect(encodeError(codec, { tpdu: "6000030000", header: "60310031131Z", mti: "0800", fields: {} }).reason).toBe("badHex");
  });
});

describe("MAC helpers", () => {
  test("writeMac puts 8 bytes into F64 in place; macInput excludes length, TPDU and header", () => {
    const codec = new Iso8583Codec({ dialect: CUP, framed: true });
    const bytes = codec.encode({
      tpdu: "6000030000",
      header: "603100311312",
      mti: "0200",
      fields: { 11: "000001", 64: "0000000000000000" },
    });
    expect(toHex(codec.macInput(bytes))).toBe("0200" + "0020000000000001" + "000001");
    codec.writeMac(bytes, fromHex("0102030405060708"));
    expect(codec.decode(bytes).fields[64]).toBe("0102030405060708");
  });

  test("a message without F64 has no MAC range", () => {
    const bytes = cup.encode({ mti: "0800", fields: { 11: "000001", 41: "12345678" } });
    expect(() => cup.macInput(bytes)).toThrow(Iso8583Error);
    expect(() => cup.macInput(fromHex(IC_SALE).subarray(0, 5))).toThrow(Iso8583Error);
  });

  test("iso87ascii: F64 found through the hex bitmap", () => {
    const codec = new Iso8583Codec({ dialect: ISO87_ASCII });
    const bytes = codec.encode({ mti: "0200", fields: { 3: "000000", 64: "0000000000000000" } });
    expect(codec.macInput(bytes).length).toBe(4 + 16 + 6);
  });
});
