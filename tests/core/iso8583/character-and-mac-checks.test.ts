/**
 * The decoder's character checks at each edge of each class, and where the MAC helpers find F64 (the bytes
 * the terminal's MAC check trusts). Written for StrykerJS survivors of codec.ts (`#charText`, `#macEnd`,
 * `writeMac`): each boundary here was movable without a failing test.
 */
import { fromHex, toHex } from "../../../modules/base/hex";
import { CUP, ISO87_ASCII, Iso8583Codec, Iso8583Error } from "../../../modules/iso8583";
import { isoErrorOf, isoErrorWhere } from "./iso-error";

const cup = new Iso8583Codec({ dialect: CUP, header: false });
const ascii = new Iso8583Codec({ dialect: ISO87_ASCII });

const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const decodeError = (codec: Iso8583Codec, bytes: Uint8Array) => isoErrorWhere(() => codec.decode(bytes));

describe("iso87ascii n: ASCII digits only", () => {
  // MTI (4) and the hex bitmap (16) come first: F3's six characters start at byte 20.
  const f3 = (value: string) => bytesOf("0200" + "2000000000000000" + value);

  test("0 and 9 are digits", () => {
    expect(ascii.decode(f3("090909")).fields[3]).toBe("090909");
  });

  test.each([
    ["/ (just below 0)", "00/000", 22],
    [": (just above 9)", "0000:0", 24],
    ["a space", " 00000", 20],
  ])("%s is refused nonDigit where it stands", (_, value, offset) => {
    expect(decodeError(ascii, f3(value))).toEqual([3, offset, "nonDigit"]);
  });
});

describe("iso87ascii z (F35): uppercase hex characters only", () => {
  // F35 is LLVAR: two ASCII digits of length from byte 20, its characters from byte 22.
  const f35 = (value: string) => bytesOf("0200" + "0000000020000000" + String(value.length).padStart(2, "0") + value);

  test("every one of 0-9 and A-F is taken", () => {
    expect(ascii.decode(f35("0123456789ABCDEF")).fields[35]).toBe("0123456789ABCDEF");
  });

  test.each([
    ["/ (just below 0)", "12/4", 24],
    [": (just above 9)", "1:34", 23],
    ["@ (just below A)", "123@", 25],
    ["G (just above F)", "G234", 22],
    ["lowercase a", "12a4", 24],
    ["= (a track separator as z never carries it here)", "1234=5678", 26],
  ])("%s is refused badHex where it stands", (_, value, offset) => {
    expect(decodeError(ascii, f35(value))).toEqual([35, offset, "badHex"]);
  });
});

describe("length prefixes: digits only, each nibble of a BCD prefix 0-9", () => {
  test.each([
    ["/ (just below 0)", "0/"],
    ["a space", " 4"],
  ])("iso87ascii: %s in F2's prefix is refused nonDigit, length prefix", (_, prefix) => {
    const error = isoErrorOf(() => ascii.decode(bytesOf("0200" + "4000000000000000" + prefix + "1234")));
    expect([error.field, error.offset, error.reason]).toEqual([2, 20 + prefix.search(/[^0-9]/), "nonDigit"]);
    expect(error.message).toContain("length prefix");
  });

  test.each([
    ["high", "A1"],
    ["low", "1A"],
  ])("CUP: a %s nibble over 9 in F2's BCD prefix is refused badBcdNibble, length prefix", (_, prefix) => {
    const error = isoErrorOf(() => cup.decode(fromHex("0200" + "4000000000000000" + prefix + "1234567890123456")));
    expect([error.field, error.offset, error.reason]).toEqual([2, 10, "badBcdNibble"]);
    expect(error.message).toContain("length prefix");
  });
});

describe("text: an takes printable ASCII, ans takes GBK bytes too, neither takes control characters or DEL", () => {
  // CUP without header: MTI 2 bytes, bitmap 8, then the field's bytes from byte 10.
  const f39 = (hex: string) => fromHex("0200" + "0000000002000000" + hex); // an2
  const f41 = (hex: string) => fromHex("0200" + "0000000000800000" + hex); // ans8

  test("an: a space and ~ are text", () => {
    expect(cup.decode(f39("207E")).fields[39]).toBe(" ~");
  });

  test.each([
    ["0x80 (no GBK in an)", "3080", 11],
    ["0xFF", "FF30", 10],
    ["DEL", "7F30", 10],
    ["0x1F", "301F", 11],
  ])("an: %s is refused nonText", (_, hex, offset) => {
    expect(decodeError(cup, f39(hex))).toEqual([39, offset, "nonText"]);
  });

  test("ans: bytes 0x80-0xFF are taken (a GBK name survives)", () => {
    const value = cup.decode(f41("B2E2CAD480FF2020")).fields[41];
    expect(Array.from(value ?? "", (c) => c.charCodeAt(0))).toEqual([0xb2, 0xe2, 0xca, 0xd4, 0x80, 0xff, 0x20, 0x20]);
  });

  test.each([
    ["DEL", "303132337F353637", 14],
    ["0x1F", "1F31323334353637", 10],
  ])("ans: %s is refused nonText", (_, hex, offset) => {
    expect(decodeError(cup, f41(hex))).toEqual([41, offset, "nonText"]);
  });
});

describe("where the MAC helpers find F64", () => {
  const MAC = "0102030405060708";

  test("CUP without TPDU or header, the least message with F64: the MAC covers MTI and bitmap, F64 is the last 8 bytes", () => {
    const bytes = fromHex("0200" + "0000000000000001" + MAC);
    expect(toHex(cup.macInput(bytes))).toBe("0200" + "0000000000000001");
    expect(toHex(cup.macField(bytes))).toBe(MAC);
  });

  test("one byte shorter: refused noMacField, message too short, at its length", () => {
    const bytes = fromHex("0200" + "0000000000000001" + MAC.slice(2));
    const error = isoErrorOf(() => cup.macField(bytes));
    expect([error.field, error.offset, error.reason]).toEqual([64, 17, "noMacField"]);
    expect(error.message).toContain("message too short");
  });

  test.each([
    ["bit 64 clear", "0000000000000002"],
    ["a secondary bitmap announced (F64 is then not the last field)", "8000000000000001"],
  ])("CUP: %s: no MAC range, noMacField at the bitmap", (_, bitmap) => {
    const bytes = fromHex("0200" + bitmap + MAC);
    for (const helper of [() => cup.macInput(bytes), () => cup.macField(bytes), () => cup.writeMac(bytes, fromHex(MAC))])
      expect(isoErrorWhere(helper)).toEqual([64, 2, "noMacField"]);
  });

  test.each([
    ["the first bitmap character not hex", "G000000000000001"],
    ["the last bitmap character not hex", "000000000000000G"],
    ["the last bitmap character even (bit 64 clear)", "0000000000000002"],
    ["a secondary bitmap announced", "8000000000000001"],
  ])("iso87ascii: %s: noMacField at the bitmap", (_, bitmap) => {
    const bytes = bytesOf("0200" + bitmap + "\0".repeat(8));
    expect(isoErrorWhere(() => ascii.macInput(bytes))).toEqual([64, 4, "noMacField"]);
  });

  test("iso87ascii: a lowercase hex bitmap still names F64", () => {
    const bytes = bytesOf("0200" + "000000000000000b" + "\0".repeat(8));
    expect(ascii.macInput(bytes).length).toBe(20);
  });

  test("writeMac takes 8 bytes and nothing else", () => {
    const bytes = fromHex("0200" + "0000000000000001" + "0000000000000000");
    for (const length of [7, 9]) expect(() => cup.writeMac(bytes, new Uint8Array(length))).toThrow("writeMac: the MAC is 8 bytes");
    expect(toHex(bytes)).toBe("0200" + "0000000000000001" + "0000000000000000");
    cup.writeMac(bytes, fromHex(MAC));
    expect(toHex(cup.macField(bytes))).toBe(MAC);
  });

  test("every refusal is an Iso8583Error", () => {
    expect(() => cup.macInput(fromHex("0200"))).toThrow(Iso8583Error);
  });
});
