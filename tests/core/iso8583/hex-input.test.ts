/**
 * Hex given to the encoder (b values, z values, TPDU, header) may use either case: a-f write the same bytes as A-F,
 * and decoding gives uppercase back. Only the 22 hex digits pass: the characters just outside a-f (` and g) and
 * A-F (@ and G) are badHex.
 */
import { toHex } from "../../../modules/base/hex";
import { CUP, ISO87_ASCII, Iso8583Codec, Iso8583Error, type IsoMessage } from "../../../modules/iso8583";
import { isoErrorOf } from "./iso-error";

const encodeError = (codec: Iso8583Codec, message: IsoMessage): Iso8583Error => isoErrorOf(() => codec.encode(message));

describe("hex in either case", () => {
  const cup = new Iso8583Codec({ dialect: CUP });
  const ascii = new Iso8583Codec({ dialect: ISO87_ASCII });
  const header = { tpdu: "6000030000", header: "603100311312" };

  test("b, z, TPDU and header: a-f write what A-F write; decode gives uppercase", () => {
    const upper: IsoMessage = { ...header, mti: "0200", fields: { 35: "6217ABCDEF0D2312", 52: "0123456789ABCDEF" } };
    const lower: IsoMessage = {
      tpdu: "6000030000",
      header: "6031003113ab",
      mti: "0200",
      fields: { 35: "6217abcdef0d2312", 52: "0123456789abcdef" },
    };
    const expected = toHex(cup.encode({ ...upper, header: "6031003113AB" }));
    expect(toHex(cup.encode(lower))).toBe(expected);
    expect(cup.decode(cup.encode(lower))).toStrictEqual({ ...upper, header: "6031003113AB" });
  });

  test("iso87ascii z (hex characters): a-f are written as A-F", () => {
    const bytes = ascii.encode({ mti: "0200", fields: { 35: "12abcdef" } });
    expect(String.fromCharCode(...bytes.subarray(4 + 16))).toBe("0812ABCDEF");
  });

  test.each(["`", "g", "@", "G", "/", ":"])("%s is not a hex digit", (character) => {
    expect(encodeError(cup, { ...header, mti: "0200", fields: { 52: `012345678${character}ABCDEF` } }).reason).toBe("badHex");
    expect(encodeError(cup, { ...header, mti: "0200", fields: { 35: `62${character}1` } }).reason).toBe("badHex");
    expect(encodeError(ascii, { mti: "0200", fields: { 35: `62${character}1` } }).reason).toBe("badHex");
    expect(encodeError(cup, { tpdu: `600003000${character}`, header: header.header, mti: "0200", fields: {} }).reason).toBe("badHex");
  });
});
