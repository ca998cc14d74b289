/**
 * ISO 8583 encoder/decoder driven by a dialect table. One codec object owns a
 * fixed-size output buffer (encode returns a view of it, valid until the next
 * encode) and a small scratch for building strings, so neither direction
 * allocates per byte. Every length read from the wire is checked against the
 * bytes actually present before anything is read or allocated.
 */
import { assert, assertInteger } from "../base/assert";
import { FIELD_NUMBER_MAX, type Dialect, type FieldDef } from "./dialect";
import { Iso8583Error, PART_BITMAP, PART_HEADER, PART_LENGTH, PART_MTI, PART_TPDU } from "./error";

/**
 * Field values follow docs/contracts.md: n = the digits, z = uppercase hex
 * nibbles (pad dropped), a/an/ans = the text, b = uppercase hex of the bytes.
 */
export type IsoFields = { [field: number]: string | undefined };

export interface IsoMessage {
  /** CUP: 10 hex digits (`60` + destination + source). Present when the codec's header is on. */
  tpdu?: string;
  /** CUP: 12 hex digits (6-byte message header). */
  header?: string;
  mti: string;
  fields: IsoFields;
  /**
   * Write a secondary bitmap although no field above 64 is present. Decode sets it
   * when the wire had such an empty secondary bitmap (npm iso_8583 always sends
   * one), so decode then encode gives back the same bytes.
   */
  secondaryBitmap?: boolean;
}

export interface Iso8583CodecOptions {
  readonly dialect: Dialect;
  /** The 2-byte big-endian length prefix (not counting itself) is present. Default false. */
  readonly framed?: boolean;
  /** The dialect's TPDU and header precede the MTI. Default true. */
  readonly header?: boolean;
  /** Largest message, prefix included. Default 4096. */
  readonly messageBytesMax?: number;
}

const MESSAGE_BYTES_DEFAULT = 4096;
const FRAME_BYTES_MAX = 2 + 0xffff;
const MAC_BYTES = 8;
/** Characters converted to a string by one apply: bounds the argument count of String.fromCharCode. */
const APPLY_CHUNK = 128;

/*
 * How each field is read and written, one code per field number, precomputed
 * from the dialect table so the hot loops switch on a small integer.
 */
const UNDEFINED = 0;
/** ASCII digits (n in iso87ascii). */
const DIGITS = 1;
/** ASCII uppercase hex characters (z in iso87ascii). */
const HEX_CHARS = 2;
/** Printable ASCII (a, an). */
const TEXT = 3;
/** Printable ASCII or bytes 0x80-0xFF (ans: GBK names in responses survive a round trip). */
const TEXT_ANS = 4;
/** Bytes, as uppercase hex in the value (b). */
const BINARY = 5;
/** Packed BCD digits (n in cup). */
const BCD_DIGITS = 6;
/** Packed nibbles 0-F (z in cup: track data keeps its `D`). */
const BCD_NIBBLES = 7;

const HEX_DIGITS = "0123456789ABCDEF";

/** Value of an uppercase or lowercase hex digit, -1 otherwise. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

function kindCode(def: FieldDef, bcd: boolean): number {
  switch (def.kind) {
    case "n":
      return bcd ? BCD_DIGITS : DIGITS;
    case "z":
      return bcd ? BCD_NIBBLES : HEX_CHARS;
    case "b":
      return BINARY;
    case "ans":
      return TEXT_ANS;
    default:
      return TEXT;
  }
}

/**
 * The string whose character codes are `codes[o, o + count)`. Short values,
 * nearly every field, pass their codes as explicit arguments: V8 runs that
 * several times faster than `apply` on a typed array, and XS at the same
 * cost. Long values go through `apply` in chunks, so XS does not copy a
 * growing string once per 16 characters.
 */
function charsOf(codes: Uint8Array, o: number, count: number): string {
  const c = codes;
  const i = o;
  // prettier-ignore
  switch (count) {
    case 0: return "";
    case 1: return String.fromCharCode(c[i]);
    case 2: return String.fromCharCode(c[i], c[i + 1]);
    case 3: return String.fromCharCode(c[i], c[i + 1], c[i + 2]);
    case 4: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3]);
    case 5: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4]);
    case 6: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5]);
    case 7: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6]);
    case 8: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7]);
    case 9: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7], c[i + 8]);
    case 10: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7], c[i + 8],
      c[i + 9]);
    case 11: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7], c[i + 8],
      c[i + 9], c[i + 10]);
    case 12: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7], c[i + 8],
      c[i + 9], c[i + 10], c[i + 11]);
    case 13: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7], c[i + 8],
      c[i + 9], c[i + 10], c[i + 11], c[i + 12]);
    case 14: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7], c[i + 8],
      c[i + 9], c[i + 10], c[i + 11], c[i + 12], c[i + 13]);
    case 15: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7], c[i + 8],
      c[i + 9], c[i + 10], c[i + 11], c[i + 12], c[i + 13], c[i + 14]);
    case 16: return String.fromCharCode(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5], c[i + 6], c[i + 7], c[i + 8],
      c[i + 9], c[i + 10], c[i + 11], c[i + 12], c[i + 13], c[i + 14], c[i + 15]);
  }
  if (count <= 48) return charsOf(c, i, 16) + charsOf(c, i + 16, count - 16);
  let text = "";
  for (let k = i; k < i + count; k += APPLY_CHUNK) {
    text += String.fromCharCode.apply(null, c.subarray(k, Math.min(k + APPLY_CHUNK, i + count)) as unknown as number[]);
  }
  return text;
}

export class Iso8583Codec {
  readonly dialect: Dialect;
  readonly #framed: boolean;
  readonly #ascii: boolean;
  readonly #tpduBytes: number;
  readonly #headerBytes: number;
  readonly #mtiBytes: number;
  /** Bytes of one bitmap (primary or secondary) on the wire. */
  readonly #bitmapBytes: number;
  /** Per field number: one of the kind codes above (UNDEFINED: no definition). */
  readonly #kinds = new Uint8Array(FIELD_NUMBER_MAX + 1);
  /** Per field number: the fixed length or the variable maximum (digits for n/z, bytes otherwise). */
  readonly #lengths = new Uint16Array(FIELD_NUMBER_MAX + 1);
  /** Per field number: bytes of the length prefix, 0 for a fixed field. */
  readonly #prefixBytes = new Uint8Array(FIELD_NUMBER_MAX + 1);
  /** Per field number: 1 when an odd BCD digit count puts the pad nibble first (right-aligned). */
  readonly #padFirst = new Uint8Array(FIELD_NUMBER_MAX + 1);
  readonly #buffer: Uint8Array;
  /** Character codes of a value being decoded (hex, BCD digits). */
  readonly #chars: Uint8Array;
  /** The same memory as #chars, two characters per element: one store per byte decoded. */
  readonly #charPairs: Uint16Array;
  /** Decoded bitmap, binary, primary then secondary. */
  readonly #bitmap = new Uint8Array(16);
  /** Encode: the numbers of the fields present, ascending. */
  readonly #present = new Uint8Array(FIELD_NUMBER_MAX);
  /*
   * Hex tables for the per-byte loops: in XS a table read costs a fraction of
   * a function call, and V8 reads a typed array several times faster than a
   * frozen Array (module-level tables must be frozen, so these live here).
   */
  /** Character code of each uppercase hex digit, by its value. */
  readonly #hexCodes = new Uint8Array(16);
  /** Value of each hex digit (either case) by character code below 128, -1 for any other character. */
  readonly #hexValues = new Int8Array(128);
  /** By byte value: its two uppercase hex digits as one #charPairs element (in the platform's byte order). */
  readonly #hexPairs = new Uint16Array(256);

  constructor(options: Iso8583CodecOptions) {
    const bytesMax = options.messageBytesMax ?? MESSAGE_BYTES_DEFAULT;
    assertInteger(bytesMax, 64, FRAME_BYTES_MAX, "messageBytesMax");
    this.dialect = options.dialect;
    this.#framed = options.framed ?? false;
    const header = options.header ?? true;
    this.#tpduBytes = header ? this.dialect.tpduBytes : 0;
    this.#headerBytes = header ? this.dialect.headerBytes : 0;
    this.#ascii = this.dialect.encoding === "ascii";
    this.#mtiBytes = this.#ascii ? 4 : 2;
    this.#bitmapBytes = this.#ascii ? 16 : 8;
    this.#buffer = new Uint8Array(bytesMax);
    for (let i = 0; i < 16; i++) this.#hexCodes[i] = HEX_DIGITS.charCodeAt(i);
    for (let code = 0; code < 128; code++) this.#hexValues[code] = hexValue(code);
    const pair = new Uint8Array(this.#hexPairs.buffer);
    for (let b = 0; b < 256; b++) {
      pair[2 * b] = this.#hexCodes[b >> 4];
      pair[2 * b + 1] = this.#hexCodes[b & 15];
    }
    // TPDU and header (10 and 12 hex digits), MTI and every hex or BCD value fit; text is read from the bytes.
    let charsMax = 12;
    for (let n = 2; n <= FIELD_NUMBER_MAX; n++) {
      const def = this.dialect.fields[n];
      if (def === undefined) continue;
      assert(def.length <= 999, "field lengths fit a 3-digit prefix");
      this.#kinds[n] = kindCode(def, !this.#ascii);
      this.#lengths[n] = def.length;
      const digits = def.lengthType === "fixed" ? 0 : def.lengthType === "LL" ? 2 : 3;
      this.#prefixBytes[n] = this.#ascii ? digits : (digits + 1) >> 1;
      this.#padFirst[n] = def.align === "right" ? 1 : 0;
      if (def.kind === "b") charsMax = Math.max(charsMax, 2 * def.length);
      else if (this.#kinds[n] >= BCD_DIGITS) charsMax = Math.max(charsMax, def.length + 1);
    }
    this.#chars = new Uint8Array(charsMax + (charsMax % 2));
    this.#charPairs = new Uint16Array(this.#chars.buffer);
  }

  /** Offset of the MTI: where the MAC input starts. */
  get #mtiOffset(): number {
    return (this.#framed ? 2 : 0) + this.#tpduBytes + this.#headerBytes;
  }

  // ---------------------------------------------------------------- encode

  /** Encodes into the codec's buffer; the returned view is valid until the next encode. */
  encode(message: IsoMessage): Uint8Array {
    const out = this.#buffer;
    let o = this.#framed ? 2 : 0;
    if (this.#tpduBytes > 0) {
      o = this.#writeHex(PART_TPDU, message.tpdu ?? "", o, this.#tpduBytes);
      o = this.#writeHex(PART_HEADER, message.header ?? "", o, this.#headerBytes);
    }
    o = this.#writeMti(message.mti, o);

    const fields = message.fields;
    const kinds = this.#kinds;
    const bitmap = this.#bitmap;
    const present = this.#present;
    bitmap.fill(0);
    let count = 0;
    for (let n = 2; n <= FIELD_NUMBER_MAX; n++) {
      if (fields[n] === undefined) continue;
      if (kinds[n] === UNDEFINED) throw new Iso8583Error(n, o, "undefinedField");
      bitmap[(n - 1) >> 3] |= 0x80 >> ((n - 1) & 7);
      present[count++] = n;
    }
    const secondary = message.secondaryBitmap === true || (count > 0 && present[count - 1] > 64);
    if (secondary) bitmap[0] |= 0x80;
    o = this.#writeBitmap(o, secondary ? 16 : 8);
    for (let k = 0; k < count; k++) {
      const n = present[k];
      o = this.#writeField(n, fields[n]!, o);
    }
    if (this.#framed) {
      const length = o - 2;
      if (length > 0xffff) throw new Iso8583Error(PART_LENGTH, 0, "messageTooLong");
      out[0] = length >> 8;
      out[1] = length & 0xff;
    }
    return out.subarray(0, o);
  }

  #need(field: number, start: number, o: number, bytes: number): void {
    if (o + bytes > this.#buffer.length) throw new Iso8583Error(field, start, "messageTooLong", `limit ${this.#buffer.length} bytes`);
  }

  #writeHex(field: number, hex: string, o: number, bytes: number): number {
    if (hex.length !== bytes * 2) throw new Iso8583Error(field, o, "wrongLength", `${bytes} bytes expected`);
    this.#need(field, o, o, bytes);
    return this.#writeHexBytes(field, hex, o, o, bytes);
  }

  #writeHexBytes(field: number, hex: string, o: number, start: number, bytes: number): number {
    const out = this.#buffer;
    const values = this.#hexValues;
    for (let i = 0; i < bytes; i++) {
      const high = hex.charCodeAt(2 * i);
      const low = hex.charCodeAt(2 * i + 1);
      const hi = high < 128 ? values[high] : -1;
      const lo = low < 128 ? values[low] : -1;
      if (hi < 0 || lo < 0) throw new Iso8583Error(field, start, "badHex");
      out[o + i] = (hi << 4) | lo;
    }
    return o + bytes;
  }

  #writeMti(mti: string, o: number): number {
    if (mti.length !== 4) throw new Iso8583Error(PART_MTI, o, "wrongLength", "4 digits expected");
    this.#need(PART_MTI, o, o, this.#mtiBytes);
    return this.#ascii ? this.#writeChars(PART_MTI, DIGITS, mti, o, o) : this.#writeBcd(PART_MTI, BCD_DIGITS, mti, o, o, false);
  }

  #writeBitmap(o: number, bytes: number): number {
    const out = this.#buffer;
    const bitmap = this.#bitmap;
    if (!this.#ascii) {
      this.#need(PART_BITMAP, o, o, bytes);
      for (let i = 0; i < bytes; i++) out[o + i] = bitmap[i];
      return o + bytes;
    }
    this.#need(PART_BITMAP, o, o, bytes * 2);
    const codes = this.#hexCodes;
    for (let i = 0; i < bytes; i++) {
      out[o++] = codes[bitmap[i] >> 4];
      out[o++] = codes[bitmap[i] & 15];
    }
    return o;
  }

  #writeField(field: number, value: string, start: number): number {
    const kind = this.#kinds[field];
    const lengthMax = this.#lengths[field];
    const prefixBytes = this.#prefixBytes[field];
    let count = value.length;
    if (kind === BINARY) {
      if (count % 2 !== 0) throw new Iso8583Error(field, start, "badHex", "odd number of hex digits");
      count /= 2;
    }
    if (prefixBytes === 0) {
      if (count !== lengthMax) throw new Iso8583Error(field, start, "wrongLength", `${count} instead of ${lengthMax}`);
    } else if (count > lengthMax) {
      throw new Iso8583Error(field, start, "lengthOverMaximum", `${count} > ${lengthMax}`);
    }
    const dataBytes = kind >= BCD_DIGITS ? (count + 1) >> 1 : count;
    this.#need(field, start, start, prefixBytes + dataBytes);
    const o = prefixBytes === 0 ? start : this.#writeLength(count, start, prefixBytes);
    if (kind === BINARY) return this.#writeHexBytes(field, value, o, start, count);
    if (kind >= BCD_DIGITS) return this.#writeBcd(field, kind, value, o, start, this.#padFirst[field] === 1);
    return this.#writeChars(field, kind, value, o, start);
  }

  #writeLength(count: number, o: number, prefixBytes: number): number {
    const out = this.#buffer;
    const hundreds = Math.floor(count / 100);
    const tens = Math.floor(count / 10) % 10;
    const units = count % 10;
    if (this.#ascii) {
      if (prefixBytes === 3) out[o++] = 0x30 + hundreds;
      out[o++] = 0x30 + tens;
      out[o++] = 0x30 + units;
      return o;
    }
    if (prefixBytes === 2) out[o++] = hundreds;
    out[o++] = (tens << 4) | units;
    return o;
  }

  /** Packs digits (BCD_DIGITS) or nibbles (BCD_NIBBLES); an odd count gets a 0 pad nibble first (padFirst) or last. */
  #writeBcd(field: number, kind: number, value: string, o: number, start: number, padFirst: boolean): number {
    const out = this.#buffer;
    const values = this.#hexValues;
    const nibbleMax = kind === BCD_DIGITS ? 9 : 15;
    const count = value.length;
    // Two characters per byte; the pad is a virtual "0" at index -1 (first) or at index count (last).
    for (let k = count % 2 === 1 && padFirst ? -1 : 0; k < count; k += 2) {
      const high = k >= 0 ? value.charCodeAt(k) : 0x30;
      const low = k + 1 < count ? value.charCodeAt(k + 1) : 0x30;
      const hi = high < 128 ? values[high] : -1;
      const lo = low < 128 ? values[low] : -1;
      if (hi < 0 || hi > nibbleMax || lo < 0 || lo > nibbleMax)
        throw this.#characterError(field, start, kind, hi < 0 || hi > nibbleMax ? k : k + 1);
      out[o++] = (hi << 4) | lo;
    }
    return o;
  }

  #writeChars(field: number, kind: number, value: string, o: number, start: number): number {
    const out = this.#buffer;
    const count = value.length;
    // One loop per kind: the per-character work stays a few comparisons.
    if (kind === DIGITS) {
      for (let k = 0; k < count; k++) {
        const code = value.charCodeAt(k);
        if (code < 0x30 || code > 0x39) throw this.#characterError(field, start, kind, k);
        out[o + k] = code;
      }
    } else if (kind === HEX_CHARS) {
      const values = this.#hexValues;
      const codes = this.#hexCodes;
      for (let k = 0; k < count; k++) {
        const code = value.charCodeAt(k);
        const nibble = code < 128 ? values[code] : -1;
        if (nibble < 0) throw this.#characterError(field, start, kind, k);
        out[o + k] = codes[nibble];
      }
    } else {
      const codeMax = kind === TEXT_ANS ? 0xff : 0x7e;
      for (let k = 0; k < count; k++) {
        const code = value.charCodeAt(k);
        if (code < 0x20 || code > codeMax || code === 0x7f) throw this.#characterError(field, start, kind, k);
        out[o + k] = code;
      }
    }
    return o + count;
  }

  /** The error for the bad character at `index` of a value being encoded. */
  #characterError(field: number, start: number, kind: number, index: number): Iso8583Error {
    const reason = kind === TEXT || kind === TEXT_ANS ? "nonText" : kind === DIGITS || kind === BCD_DIGITS ? "nonDigit" : "badHex";
    return new Iso8583Error(field, start, reason, `character ${index + 1}`);
  }

  // ---------------------------------------------------------------- decode

  decode(bytes: Uint8Array): IsoMessage {
    const end = bytes.length;
    if (end > this.#buffer.length) throw new Iso8583Error(PART_LENGTH, 0, "messageTooLong", `limit ${this.#buffer.length} bytes`);
    let o = 0;
    if (this.#framed) {
      if (end < 2) throw new Iso8583Error(PART_LENGTH, 0, "truncated");
      const length = (bytes[0] << 8) | bytes[1];
      if (length !== end - 2) throw new Iso8583Error(PART_LENGTH, 0, "lengthMismatch", `prefix ${length}, ${end - 2} bytes follow`);
      o = 2;
    }
    let tpdu = "";
    let header = "";
    if (this.#tpduBytes > 0) {
      if (o + this.#tpduBytes + this.#headerBytes > end)
        throw new Iso8583Error(o + this.#tpduBytes > end ? PART_TPDU : PART_HEADER, o, "truncated");
      tpdu = this.#hexText(bytes, o, this.#tpduBytes);
      o += this.#tpduBytes;
      header = this.#hexText(bytes, o, this.#headerBytes);
      o += this.#headerBytes;
    }
    if (o + this.#mtiBytes > end) throw new Iso8583Error(PART_MTI, o, "truncated");
    const mti = this.#ascii ? this.#charText(PART_MTI, DIGITS, bytes, o, 4) : this.#bcdText(PART_MTI, BCD_DIGITS, bytes, o, 4, false);
    o += this.#mtiBytes;

    o = this.#readBitmap(bytes, o, 0);
    const bitmap = this.#bitmap;
    const secondary = (bitmap[0] & 0x80) !== 0;
    if (secondary) o = this.#readBitmap(bytes, o, 8);

    const fields: IsoFields = {};
    // V8 grows an object's indexed storage in a slow runtime call each time a
    // higher field number arrives; setting the highest number first sizes it once.
    const highest = this.#highestField(secondary);
    if (highest > 0) fields[highest] = "";
    const kinds = this.#kinds;
    const lengths = this.#lengths;
    const prefixes = this.#prefixBytes;
    let lastPresent: number = PART_BITMAP;
    const bitmapBytes = secondary ? 16 : 8;
    for (let i = 0; i < bitmapBytes; i++) {
      // Bit 1 announces the secondary bitmap, not a field.
      let bits = i === 0 ? bitmap[0] & 0x7f : bitmap[i];
      // Each turn clears the highest set bit, so a byte takes at most 8 turns: the loop's limit, and the
      // assertion after it, hold that invariant rather than trust it.
      for (let turn = 0; turn < 8 && bits !== 0; turn++) {
        const bit = Math.clz32(bits) - 24;
        bits ^= 0x80 >> bit;
        const n = 8 * i + bit + 1;
        const kind = kinds[n];
        if (kind === UNDEFINED) throw new Iso8583Error(n, o, "undefinedField");
        let count = lengths[n];
        const prefixBytes = prefixes[n];
        if (prefixBytes !== 0) {
          if (o + prefixBytes > end) throw new Iso8583Error(n, o, "truncated", "length prefix");
          count = this.#readLength(n, bytes, o, prefixBytes);
          if (count > lengths[n]) throw new Iso8583Error(n, o, "lengthOverMaximum", `${count} > ${lengths[n]}`);
          o += prefixBytes;
        }
        const dataBytes = kind >= BCD_DIGITS ? (count + 1) >> 1 : count;
        if (o + dataBytes > end) throw new Iso8583Error(n, o, "truncated", `${dataBytes} bytes declared, ${end - o} left`);
        if (kind === BINARY) fields[n] = this.#hexText(bytes, o, count);
        else if (kind >= BCD_DIGITS) fields[n] = this.#bcdText(n, kind, bytes, o, count, this.#padFirst[n] === 1);
        else fields[n] = this.#charText(n, kind, bytes, o, count);
        o += dataBytes;
        lastPresent = n;
      }
      assert(bits === 0, "decode: every bit of a bitmap byte read in at most 8 turns");
    }
    if (o !== end) throw new Iso8583Error(lastPresent, o, "trailingBytes", `${end - o} bytes after the last field`);
    // Built in contract order (tpdu, header, mti, fields) so JSON output reads that way.
    const message: IsoMessage = this.#tpduBytes > 0 ? { tpdu, header, mti, fields } : { mti, fields };
    if (secondary && lastPresent <= 64) message.secondaryBitmap = true;
    return message;
  }

  /** The highest field number the decoded bitmap announces, 0 when none. */
  #highestField(secondary: boolean): number {
    const bitmap = this.#bitmap;
    for (let i = secondary ? 15 : 7; i >= 0; i--) {
      const bits = i === 0 ? bitmap[0] & 0x7f : bitmap[i];
      // The lowest set bit is the highest field of this byte.
      if (bits !== 0) return 8 * i - 23 + Math.clz32(bits & -bits);
    }
    return 0;
  }

  #readBitmap(bytes: Uint8Array, o: number, into: number): number {
    const bitmap = this.#bitmap;
    if (o + this.#bitmapBytes > bytes.length) throw new Iso8583Error(PART_BITMAP, o, "truncated");
    if (!this.#ascii) {
      for (let i = 0; i < 8; i++) bitmap[into + i] = bytes[o + i];
      return o + 8;
    }
    const values = this.#hexValues;
    for (let i = 0; i < 8; i++) {
      const high = bytes[o + 2 * i];
      const low = bytes[o + 2 * i + 1];
      // Uppercase only, so decode then encode gives back the same bytes.
      const hi = high < 0x61 ? values[high] : -1;
      const lo = low < 0x61 ? values[low] : -1;
      if (hi < 0 || lo < 0) throw new Iso8583Error(PART_BITMAP, o + 2 * i, "badHex");
      bitmap[into + i] = (hi << 4) | lo;
    }
    return o + 16;
  }

  #readLength(field: number, bytes: Uint8Array, o: number, prefixBytes: number): number {
    let value = 0;
    if (this.#ascii) {
      for (let i = 0; i < prefixBytes; i++) {
        const digit = bytes[o + i] - 0x30;
        if (digit < 0 || digit > 9) throw new Iso8583Error(field, o + i, "nonDigit", "length prefix");
        value = value * 10 + digit;
      }
      return value;
    }
    for (let i = 0; i < prefixBytes; i++) {
      const b = bytes[o + i];
      if (b >> 4 > 9 || (b & 15) > 9) throw new Iso8583Error(field, o + i, "badBcdNibble", "length prefix");
      value = value * 100 + (b >> 4) * 10 + (b & 15);
    }
    return value;
  }

  #hexText(bytes: Uint8Array, o: number, count: number): string {
    const pairs = this.#charPairs;
    const hexPairs = this.#hexPairs;
    for (let i = 0; i < count; i++) pairs[i] = hexPairs[bytes[o + i]];
    return charsOf(this.#chars, 0, 2 * count);
  }

  /** `count` digits or nibbles packed from `bytes[o]`; an odd count has a 0 pad nibble first (padFirst) or last. */
  #bcdText(field: number, kind: number, bytes: Uint8Array, o: number, count: number, padFirst: boolean): string {
    const bytesCount = (count + 1) >> 1;
    if (count % 2 === 1) {
      const at = padFirst ? o : o + bytesCount - 1;
      if ((padFirst ? bytes[at] >> 4 : bytes[at] & 15) !== 0) throw new Iso8583Error(field, at, "badPadNibble");
    }
    const pairs = this.#charPairs;
    const hexPairs = this.#hexPairs;
    // Every nibble, the pad included, becomes a character; the string skips a leading pad.
    if (kind === BCD_DIGITS) {
      for (let i = 0; i < bytesCount; i++) {
        const b = bytes[o + i];
        if (b >= 0xa0 || (b & 15) > 9) throw new Iso8583Error(field, o + i, "badBcdNibble");
        pairs[i] = hexPairs[b];
      }
    } else {
      for (let i = 0; i < bytesCount; i++) pairs[i] = hexPairs[bytes[o + i]];
    }
    return charsOf(this.#chars, count % 2 === 1 && padFirst ? 1 : 0, count);
  }

  /** One character per byte, checked against the kind: the bytes themselves are the character codes. */
  #charText(field: number, kind: number, bytes: Uint8Array, o: number, count: number): string {
    const end = o + count;
    if (kind === DIGITS) {
      for (let i = o; i < end; i++) {
        const code = bytes[i];
        if (code < 0x30 || code > 0x39) throw new Iso8583Error(field, i, "nonDigit");
      }
    } else if (kind === HEX_CHARS) {
      for (let i = o; i < end; i++) {
        const code = bytes[i];
        if (code < 0x30 || (code > 0x39 && code < 0x41) || code > 0x46) throw new Iso8583Error(field, i, "badHex");
      }
    } else {
      const codeMax = kind === TEXT_ANS ? 0xff : 0x7e;
      for (let i = o; i < end; i++) {
        const code = bytes[i];
        if (code < 0x20 || code > codeMax || code === 0x7f) throw new Iso8583Error(field, i, "nonText");
      }
    }
    return charsOf(bytes, o, count);
  }

  // ---------------------------------------------------------------- MAC

  /**
   * Offset just past the MAC input: F64 must be the message's last field (bit 64
   * set, no secondary bitmap), so its 8 bytes are the last 8 of the message.
   */
  #macEnd(encoded: Uint8Array): number {
    const bitmapAt = this.#mtiOffset + this.#mtiBytes;
    if (encoded.length < bitmapAt + this.#bitmapBytes + MAC_BYTES)
      throw new Iso8583Error(64, encoded.length, "noMacField", "message too short");
    const ascii = this.dialect.encoding === "ascii";
    const first = ascii ? hexValue(encoded[bitmapAt]) << 4 : encoded[bitmapAt];
    const last = ascii ? hexValue(encoded[bitmapAt + 15]) : encoded[bitmapAt + 7];
    if (first < 0 || last < 0 || (first & 0x80) !== 0 || (last & 1) === 0) throw new Iso8583Error(64, bitmapAt, "noMacField");
    return encoded.length - MAC_BYTES;
  }

  /** The bytes the MAC covers: MTI up to the byte before F64 (TPDU, header and length excluded). */
  macInput(encoded: Uint8Array): Uint8Array {
    return encoded.subarray(this.#mtiOffset, this.#macEnd(encoded));
  }

  /** The F64 bytes of an encoded message (a view). */
  macField(encoded: Uint8Array): Uint8Array {
    return encoded.subarray(this.#macEnd(encoded));
  }

  /** Writes the 8 MAC bytes into F64 of an encoded message, in place. */
  writeMac(encoded: Uint8Array, mac: Uint8Array): void {
    assert(mac.length === MAC_BYTES, "writeMac: the MAC is 8 bytes");
    encoded.set(mac, this.#macEnd(encoded));
  }
}
