/**
 * Every length of the codec's variable fields, written out byte by byte here and compared with what the codec
 * encodes and decodes: the short-value cases of the character builder (one per length up to 16, pairs up to 48),
 * its 128-character chunks, BCD pads, prefixes of 2 and 3 digits, both dialects. The properties
 * sample lengths at random; this walks them.
 */
import { fromHex, toHex } from "../../../modules/base/hex";
import { CUP, ISO87_ASCII, Iso8583Codec, type IsoMessage } from "../../../modules/iso8583";

/** 0 to 50, then each side of every multiple of 64 up to the maximum, and the maximum. */
function lengthsUpTo(max: number): number[] {
  const lengths = new Set<number>();
  for (let n = 0; n <= Math.min(max, 50); n++) lengths.add(n);
  for (let k = 64; k <= max + 1; k += 64) for (const n of [k - 1, k, k + 1]) if (n <= max) lengths.add(n);
  lengths.add(max);
  return [...lengths].sort((a, b) => a - b);
}

/** A value of `length` characters taken from `alphabet`, so that neighbouring positions differ. */
function valueOf(alphabet: string, length: number, stride: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[(i * stride + 3) % alphabet.length];
  return text;
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
/** The length as BCD: `digits` digits, a 0 first when odd. */
const bcdLength = (length: number, digits: number) => String(length).padStart(digits + (digits % 2), "0");
/** Nibbles packed two a byte, an odd count padded with 0 last (CUP's variable n and z fields are left-aligned). */
const packed = (nibbles: string) => (nibbles.length % 2 === 0 ? nibbles : nibbles + "0");
const asciiHex = (text: string) => Array.from(text, (c) => hex2(c.charCodeAt(0))).join("");

const PRINTABLE = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).join("");
/** Printable, then bytes 0x80-0xFF (ans keeps them: GBK names). */
const ANS = PRINTABLE + Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i)).join("");
const DIGITS = "0123456789";
const NIBBLES = "0123456789ABCDEF";

/** The primary bitmap with only `field` set, as hex. */
function bitmapOf(field: number): string {
  const bits = new Uint8Array(8);
  bits[(field - 1) >> 3] = 0x80 >> ((field - 1) & 7);
  return toHex(bits);
}

/** Encodes `{mti, field: value}`, compares the bytes with `wire` (hex), decodes them back to the same message. */
function roundTrip(codec: Iso8583Codec, field: number, value: string, wire: string): void {
  const message: IsoMessage = { mti: "0200", fields: { [field]: value } };
  const bytes = codec.encode(message);
  expect(toHex(bytes)).toBe(wire);
  expect(codec.decode(fromHex(wire))).toStrictEqual(message);
}

describe("cup: every length of the variable fields", () => {
  const codec = () => new Iso8583Codec({ dialect: CUP, header: false });
  const head = (field: number) => "0200" + bitmapOf(field);

  test("F59 ans...600: text of 0 to 600 characters", () => {
    const cup = codec();
    const longest = valueOf(ANS, 600, 37);
    const longestHex = asciiHex(longest);
    const lengths = lengthsUpTo(600);
    for (const length of lengths) {
      roundTrip(cup, 59, longest.slice(0, length), head(59) + bcdLength(length, 3) + longestHex.slice(0, 2 * length));
    }
    expect(lengths.length).toBeGreaterThan(75);
  });

  test("F62 b...512: 0 to 512 bytes as hex", () => {
    const cup = codec();
    const longest = Array.from({ length: 512 }, (_, i) => hex2((i * 37 + 11) & 0xff)).join("");
    for (const length of lengthsUpTo(512)) {
      const value = longest.slice(0, 2 * length);
      roundTrip(cup, 62, value, head(62) + bcdLength(length, 3) + value);
    }
  });

  test("F48 n...322 (pad last) and F36 z...104 (pad last, nibbles A-F kept)", () => {
    const cup = codec();
    for (const length of lengthsUpTo(322)) {
      const value = valueOf(DIGITS, length, 7);
      roundTrip(cup, 48, value, head(48) + bcdLength(length, 3) + packed(value));
    }
    for (const length of lengthsUpTo(104)) {
      const value = valueOf(NIBBLES, length, 5);
      roundTrip(cup, 36, value, head(36) + bcdLength(length, 3) + packed(value));
    }
  });

  test("F32 n..11 and F2 n..19: one-byte prefixes, pad last", () => {
    const cup = codec();
    for (let length = 0; length <= 11; length++) {
      const value = valueOf(DIGITS, length, 3);
      roundTrip(cup, 32, value, head(32) + bcdLength(length, 2) + packed(value));
    }
    for (let length = 0; length <= 19; length++) {
      const value = valueOf(DIGITS, length, 3);
      roundTrip(cup, 2, value, head(2) + bcdLength(length, 2) + packed(value));
    }
  });
});

describe("iso87ascii: every length of the variable fields", () => {
  const codec = () => new Iso8583Codec({ dialect: ISO87_ASCII });
  const head = (field: number) => asciiHex("0200" + bitmapOf(field));

  test("F48 ans...999: text of 0 to 999 characters, a 3-digit ASCII prefix", () => {
    const ascii = codec();
    const longest = valueOf(ANS, 999, 41);
    const longestHex = asciiHex(longest);
    for (const length of lengthsUpTo(999)) {
      const prefix = asciiHex(String(length).padStart(3, "0"));
      roundTrip(ascii, 48, longest.slice(0, length), head(48) + prefix + longestHex.slice(0, 2 * length));
    }
  });

  test("F2 n..19 digits and F35 z..37 hex characters, 2-digit ASCII prefixes", () => {
    const ascii = codec();
    for (let length = 0; length <= 19; length++) {
      const value = valueOf(DIGITS, length, 3);
      roundTrip(ascii, 2, value, head(2) + asciiHex(String(length).padStart(2, "0")) + asciiHex(value));
    }
    for (let length = 0; length <= 37; length++) {
      const value = valueOf(NIBBLES, length, 5);
      roundTrip(ascii, 35, value, head(35) + asciiHex(String(length).padStart(2, "0")) + asciiHex(value));
    }
  });
});
