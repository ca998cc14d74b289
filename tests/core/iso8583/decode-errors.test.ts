/**
 * Where decoding stops and what the error says, part by part (length prefix, TPDU, header, MTI, bitmap, a field's
 * length prefix and data), and the character encode blames in packed and ASCII values, non-ASCII included.
 */
import { fromHex } from "../../../modules/base/hex";
import { CUP, ISO87_ASCII, Iso8583Codec, type IsoMessage } from "../../../modules/iso8583";
import { isoErrorOf } from "./iso-error";

const framed = new Iso8583Codec({ dialect: CUP, framed: true, messageBytesMax: 64 });
const bare = new Iso8583Codec({ dialect: CUP, header: false });
const TPDU_HEADER = "6000030000" + "603100311312";

describe("decode stops at the part that is short, and says so", () => {
  test.each<[string, Iso8583Codec, string, string]>([
    ["one byte of frame length", framed, "00", "length prefix at byte 0: truncated"],
    ["a frame of nothing", framed, "0000", "TPDU at byte 2: truncated"],
    ["a frame length that disagrees", framed, "0003" + "6000", "length prefix at byte 0: lengthMismatch (prefix 3, 2 bytes follow)"],
    ["part of a TPDU", framed, "0003" + "600003", "TPDU at byte 2: truncated"],
    ["a TPDU without its header", framed, "0005" + "6000030000", "header at byte 2: truncated"],
    ["TPDU and header, no MTI", framed, "000B" + TPDU_HEADER, "MTI at byte 13: truncated"],
    ["an MTI and no bitmap", bare, "0200", "bitmap at byte 2: truncated"],
    ["a message over the limit", framed, "00".repeat(65), "length prefix at byte 0: messageTooLong (limit 64 bytes)"],
    ["inside F2's length prefix", bare, "0200" + "4000000000000000", "field 2 at byte 10: truncated (length prefix)"],
    ["F2's digits short", bare, "0200" + "4000000000000000" + "19" + "1234", "field 2 at byte 11: truncated (10 bytes declared, 2 left)"],
    ["F2 over its maximum", bare, "0200" + "4000000000000000" + "20", "field 2 at byte 10: lengthOverMaximum (20 > 19)"],
    [
      "a byte after the last field",
      bare,
      "0200" + "2000000000000000" + "000000" + "FF",
      "field 3 at byte 13: trailingBytes (1 bytes after the last field)",
    ],
  ])("%s", (_name, codec, hex, text) => {
    expect(isoErrorOf(() => codec.decode(fromHex(hex))).message).toBe(text);
  });

  test("a BCD length prefix names the bad byte", () => {
    const hex = "0200" + "0000000000000200" + "002A";
    expect(isoErrorOf(() => bare.decode(fromHex(hex))).message).toBe("field 55 at byte 11: badBcdNibble (length prefix)");
  });

  test("an ASCII bitmap is uppercase hex in both digits of a pair, and the error names the pair", () => {
    const ascii = new Iso8583Codec({ dialect: ISO87_ASCII });
    const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
    expect(isoErrorOf(() => ascii.decode(bytesOf("0200" + "2a00000000000000"))).message).toBe("bitmap at byte 4: badHex");
    expect(isoErrorOf(() => ascii.decode(bytesOf("0200" + "0000g00000000000"))).message).toBe("bitmap at byte 8: badHex");
  });

  test("a secondary bitmap with no field at all decodes to no field", () => {
    const hex = "0800" + "8000000000000000" + "0000000000000000";
    expect(bare.decode(fromHex(hex))).toStrictEqual({ mti: "0800", fields: {}, secondaryBitmap: true });
  });

  test("a bitmap with no field decodes to no field", () => {
    expect(bare.decode(fromHex("0800" + "0000000000000000"))).toStrictEqual({ mti: "0800", fields: {} });
  });
});

describe("encode blames the right character", () => {
  const ascii = new Iso8583Codec({ dialect: ISO87_ASCII });
  const encodeText = (codec: Iso8583Codec, fields: IsoMessage["fields"]) => isoErrorOf(() => codec.encode({ mti: "0200", fields })).message;

  test.each<[string, Iso8583Codec, IsoMessage["fields"], string]>([
    ["a letter as the first digit of a packed pair", bare, { 4: "0000000010A0" }, "field 4 at byte 10: nonDigit (character 11)"],
    ["a letter after a 9 in a packed pair", bare, { 4: "00000000009X" }, "field 4 at byte 10: nonDigit (character 12)"],
    ["non-ASCII as the first digit of a packed pair", bare, { 4: "0000000010\u00c10" }, "field 4 at byte 10: nonDigit (character 11)"],
    ["non-ASCII as the second digit of a packed pair", bare, { 4: "00000000100\u0080" }, "field 4 at byte 10: nonDigit (character 12)"],
    ["a letter in ASCII digits", ascii, { 3: "00A000" }, "field 3 at byte 20: nonDigit (character 3)"],
    ["non-ASCII in ASCII hex characters", ascii, { 35: "12\u00c14" }, "field 35 at byte 20: badHex (character 3)"],
    ["U+0080 in ASCII hex characters", ascii, { 35: "12\u00804" }, "field 35 at byte 20: badHex (character 3)"],
  ])("%s", (_name, codec, fields, text) => {
    expect(encodeText(codec, fields)).toBe(text);
  });
});
