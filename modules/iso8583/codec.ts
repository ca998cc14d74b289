/**
 * ISO 8583 encoder/decoder driven by a dialect table. One codec object owns a
 * fixed-size output buffer (encode returns a view of it, valid until the next
 * encode) and a small scratch for building strings, so neither direction
 * allocates per byte. Every length read from the wire is checked against the
 * bytes actually present before anything is read or allocated.
 */
import { assert, assertInteger } from "../base/assert";
import { FIELD_NUMBER_MAX, type Dialect, type FieldDef, type FieldKind } from "./dialect";
import { Iso8583Error, PART_BITMAP, PART_HEADER, PART_LENGTH, PART_MTI, PART_TPDU } from "./error";

/**
 * Field values follow shared/contracts.md: n = the digits, z = uppercase hex
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

const HEX_DIGITS = "0123456789ABCDEF";
const MESSAGE_BYTES_DEFAULT = 4096;
const FRAME_BYTES_MAX = 2 + 0xffff;
const MAC_BYTES = 8;
/** Characters converted to a string at a time: bounds the argument count of String.fromCharCode. */
const STRING_CHUNK = 128;

/** Value of an uppercase or lowercase hex digit, -1 otherwise. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

function isTextCode(code: number, kind: FieldKind): boolean {
  // ans also carries bytes above 0x7F (GBK names in responses) so they survive a decode/encode round trip.
  return (code >= 0x20 && code <= 0x7e) || (kind === "ans" && code >= 0x80 && code <= 0xff);
}

function appendCodes(text: string, codes: Uint16Array, count: number): string {
  if (count === 0) return text;
  return text + String.fromCharCode.apply(null, (count === codes.length ? codes : codes.subarray(0, count)) as unknown as number[]);
}

function isPacked(dialect: Dialect, kind: FieldKind): boolean {
  return dialect.encoding === "bcd" && (kind === "n" || kind === "z");
}

export class Iso8583Codec {
  readonly dialect: Dialect;
  readonly #framed: boolean;
  readonly #tpduBytes: number;
  readonly #headerBytes: number;
  readonly #mtiBytes: number;
  /** Bytes of one bitmap (primary or secondary) on the wire. */
  readonly #bitmapBytes: number;
  readonly #buffer: Uint8Array;
  readonly #codes = new Uint16Array(STRING_CHUNK);
  /** Decoded bitmap, binary, primary then secondary. */
  readonly #bitmap = new Uint8Array(16);

  constructor(options: Iso8583CodecOptions) {
    const bytesMax = options.messageBytesMax ?? MESSAGE_BYTES_DEFAULT;
    assertInteger(bytesMax, 64, FRAME_BYTES_MAX, "messageBytesMax");
    this.dialect = options.dialect;
    this.#framed = options.framed ?? false;
    const header = options.header ?? true;
    this.#tpduBytes = header ? this.dialect.tpduBytes : 0;
    this.#headerBytes = header ? this.dialect.headerBytes : 0;
    const ascii = this.dialect.encoding === "ascii";
    this.#mtiBytes = ascii ? 4 : 2;
    this.#bitmapBytes = ascii ? 16 : 8;
    this.#buffer = new Uint8Array(bytesMax);
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
    const bitmap = this.#bitmap;
    bitmap.fill(0);
    let secondary = message.secondaryBitmap === true;
    for (let n = 2; n <= FIELD_NUMBER_MAX; n++) {
      if (fields[n] === undefined) continue;
      if (this.dialect.fields[n] === undefined) throw new Iso8583Error(n, o, "undefinedField");
      bitmap[(n - 1) >> 3] |= 0x80 >> ((n - 1) & 7);
      if (n > 64) secondary = true;
    }
    if (secondary) bitmap[0] |= 0x80;
    o = this.#writeBitmap(o, secondary ? 16 : 8);

    const last = secondary ? FIELD_NUMBER_MAX : 64;
    for (let n = 2; n <= last; n++) {
      const value = fields[n];
      if (value !== undefined) o = this.#writeField(this.dialect.fields[n]!, value, o);
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
    const out = this.#buffer;
    for (let i = 0; i < bytes; i++) {
      const hi = hexValue(hex.charCodeAt(2 * i));
      const lo = hexValue(hex.charCodeAt(2 * i + 1));
      if (hi < 0 || lo < 0) throw new Iso8583Error(field, o, "badHex");
      out[o + i] = (hi << 4) | lo;
    }
    return o + bytes;
  }

  #writeMti(mti: string, o: number): number {
    if (mti.length !== 4) throw new Iso8583Error(PART_MTI, o, "wrongLength", "4 digits expected");
    this.#need(PART_MTI, o, o, this.#mtiBytes);
    return this.dialect.encoding === "ascii" ? this.#writeChars(PART_MTI, mti, o, o, "n") : this.#writeBcd(PART_MTI, mti, o, o, false, "n");
  }

  #writeBitmap(o: number, bytes: number): number {
    const out = this.#buffer;
    if (this.dialect.encoding === "bcd") {
      this.#need(PART_BITMAP, o, o, bytes);
      out.set(this.#bitmap.subarray(0, bytes), o);
      return o + bytes;
    }
    this.#need(PART_BITMAP, o, o, bytes * 2);
    for (let i = 0; i < bytes; i++) {
      out[o++] = HEX_DIGITS.charCodeAt(this.#bitmap[i] >> 4);
      out[o++] = HEX_DIGITS.charCodeAt(this.#bitmap[i] & 15);
    }
    return o;
  }

  #writeField(def: FieldDef, value: string, start: number): number {
    const field = def.number;
    let count = value.length;
    if (def.kind === "b") {
      if (count % 2 !== 0) throw new Iso8583Error(field, start, "badHex", "odd number of hex digits");
      count /= 2;
    }
    if (def.lengthType === "fixed") {
      if (count !== def.length) throw new Iso8583Error(field, start, "wrongLength", `${count} instead of ${def.length}`);
    } else if (count > def.length) {
      throw new Iso8583Error(field, start, "lengthOverMaximum", `${count} > ${def.length}`);
    }
    const packed = isPacked(this.dialect, def.kind);
    const dataBytes = packed ? (count + 1) >> 1 : count;
    let o = start;
    if (def.lengthType !== "fixed") {
      const prefixBytes = this.#prefixBytes(def);
      this.#need(field, start, o, prefixBytes + dataBytes);
      o = this.#writeLength(count, o, prefixBytes);
    } else {
      this.#need(field, start, o, dataBytes);
    }
    if (def.kind === "b") return this.#writeHex(field, value, o, count);
    if (packed) return this.#writeBcd(field, value, o, start, def.align === "right", def.kind);
    return this.#writeChars(field, value, o, start, def.kind);
  }

  #prefixBytes(def: FieldDef): number {
    const digits = def.lengthType === "LL" ? 2 : 3;
    return this.dialect.encoding === "ascii" ? digits : digits === 2 ? 1 : 2;
  }

  #writeLength(count: number, o: number, prefixBytes: number): number {
    const out = this.#buffer;
    if (this.dialect.encoding === "ascii") {
      if (prefixBytes === 3) out[o++] = 0x30 + Math.floor(count / 100);
      out[o++] = 0x30 + (Math.floor(count / 10) % 10);
      out[o++] = 0x30 + (count % 10);
      return o;
    }
    if (prefixBytes === 2) out[o++] = Math.floor(count / 100);
    out[o++] = ((Math.floor(count / 10) % 10) << 4) | (count % 10);
    return o;
  }

  /** Packs digits (n) or nibbles (z); an odd count gets a 0 pad nibble first (padFirst) or last. */
  #writeBcd(field: number, value: string, o: number, start: number, padFirst: boolean, kind: FieldKind): number {
    const out = this.#buffer;
    const count = value.length;
    const bytes = (count + 1) >> 1;
    const shift = padFirst && count % 2 === 1 ? 1 : 0;
    out.fill(0, o, o + bytes);
    for (let k = 0; k < count; k++) {
      const code = value.charCodeAt(k);
      const nibble = kind === "n" ? (code >= 0x30 && code <= 0x39 ? code - 0x30 : -1) : hexValue(code);
      if (nibble < 0) throw new Iso8583Error(field, start, kind === "n" ? "nonDigit" : "badHex", `character ${k + 1}`);
      const position = k + shift;
      out[o + (position >> 1)] |= position & 1 ? nibble : nibble << 4;
    }
    return o + bytes;
  }

  #writeChars(field: number, value: string, o: number, start: number, kind: FieldKind): number {
    const out = this.#buffer;
    for (let k = 0; k < value.length; k++) {
      let code = value.charCodeAt(k);
      if (kind === "n") {
        if (code < 0x30 || code > 0x39) throw new Iso8583Error(field, start, "nonDigit", `character ${k + 1}`);
      } else if (kind === "z") {
        const nibble = hexValue(code);
        if (nibble < 0) throw new Iso8583Error(field, start, "badHex", `character ${k + 1}`);
        code = HEX_DIGITS.charCodeAt(nibble);
      } else if (!isTextCode(code, kind)) {
        throw new Iso8583Error(field, start, "nonText", `character ${k + 1}`);
      }
      out[o + k] = code;
    }
    return o + value.length;
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
    // Built in contract order (tpdu, header, mti, fields) so JSON output reads that way.
    const message = {} as IsoMessage;
    if (this.#tpduBytes > 0) {
      if (o + this.#tpduBytes + this.#headerBytes > end)
        throw new Iso8583Error(o + this.#tpduBytes > end ? PART_TPDU : PART_HEADER, o, "truncated");
      message.tpdu = this.#hexText(bytes, o, this.#tpduBytes);
      o += this.#tpduBytes;
      message.header = this.#hexText(bytes, o, this.#headerBytes);
      o += this.#headerBytes;
    }
    if (o + this.#mtiBytes > end) throw new Iso8583Error(PART_MTI, o, "truncated");
    message.mti =
      this.dialect.encoding === "ascii" ? this.#charText(PART_MTI, bytes, o, 4, "n") : this.#bcdText(PART_MTI, bytes, o, 4, 0, "n");
    message.fields = {};
    o += this.#mtiBytes;

    o = this.#readBitmap(bytes, o, 0);
    const secondary = (this.#bitmap[0] & 0x80) !== 0;
    if (secondary) o = this.#readBitmap(bytes, o, 8);

    const last = secondary ? FIELD_NUMBER_MAX : 64;
    const bitmap = this.#bitmap;
    let lastPresent: number = PART_BITMAP;
    for (let n = 2; n <= last; n++) {
      if ((bitmap[(n - 1) >> 3] & (0x80 >> ((n - 1) & 7))) === 0) continue;
      const def = this.dialect.fields[n];
      if (def === undefined) throw new Iso8583Error(n, o, "undefinedField");
      o = this.#readField(def, bytes, o, message.fields);
      lastPresent = n;
    }
    if (o !== end) throw new Iso8583Error(lastPresent, o, "trailingBytes", `${end - o} bytes after the last field`);
    if (secondary && lastPresent <= 64) message.secondaryBitmap = true;
    return message;
  }

  #readBitmap(bytes: Uint8Array, o: number, into: number): number {
    const wireBytes = this.#bitmapBytes;
    if (o + wireBytes > bytes.length) throw new Iso8583Error(PART_BITMAP, o, "truncated");
    if (this.dialect.encoding === "bcd") {
      this.#bitmap.set(bytes.subarray(o, o + 8), into);
      return o + 8;
    }
    for (let i = 0; i < 8; i++) {
      const hi = bytes[o + 2 * i];
      const lo = bytes[o + 2 * i + 1];
      // Uppercase only, so decode then encode gives back the same bytes.
      if (hexValue(hi) < 0 || hexValue(lo) < 0 || hi >= 0x61 || lo >= 0x61) throw new Iso8583Error(PART_BITMAP, o + 2 * i, "badHex");
      this.#bitmap[into + i] = (hexValue(hi) << 4) | hexValue(lo);
    }
    return o + 16;
  }

  #readField(def: FieldDef, bytes: Uint8Array, start: number, fields: IsoFields): number {
    const field = def.number;
    const end = bytes.length;
    let o = start;
    let count = def.length;
    if (def.lengthType !== "fixed") {
      const prefixBytes = this.#prefixBytes(def);
      if (o + prefixBytes > end) throw new Iso8583Error(field, o, "truncated", "length prefix");
      count = this.#readLength(field, bytes, o, prefixBytes);
      if (count > def.length) throw new Iso8583Error(field, o, "lengthOverMaximum", `${count} > ${def.length}`);
      o += prefixBytes;
    }
    const packed = isPacked(this.dialect, def.kind);
    const dataBytes = packed ? (count + 1) >> 1 : count;
    if (o + dataBytes > end) throw new Iso8583Error(field, o, "truncated", `${dataBytes} bytes declared, ${end - o} left`);
    if (def.kind === "b") fields[field] = this.#hexText(bytes, o, count);
    else if (packed) fields[field] = this.#bcdText(field, bytes, o, count, def.align === "right" ? 1 : 0, def.kind);
    else fields[field] = this.#charText(field, bytes, o, count, def.kind);
    return o + dataBytes;
  }

  #readLength(field: number, bytes: Uint8Array, o: number, prefixBytes: number): number {
    let value = 0;
    if (this.dialect.encoding === "ascii") {
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
    const codes = this.#codes;
    let text = "";
    let j = 0;
    for (let i = o; i < o + count; i++) {
      codes[j++] = HEX_DIGITS.charCodeAt(bytes[i] >> 4);
      codes[j++] = HEX_DIGITS.charCodeAt(bytes[i] & 15);
      if (j === STRING_CHUNK) {
        text = appendCodes(text, codes, j);
        j = 0;
      }
    }
    return appendCodes(text, codes, j);
  }

  /** `count` digits (n) or nibbles (z) starting `shift` nibbles into `bytes[o]`; the pad nibble must be 0. */
  #bcdText(field: number, bytes: Uint8Array, o: number, count: number, shift: number, kind: FieldKind): string {
    if (count % 2 === 1) {
      const pad = shift === 1 ? bytes[o] >> 4 : bytes[o + (count >> 1)] & 15;
      if (pad !== 0) throw new Iso8583Error(field, shift === 1 ? o : o + (count >> 1), "badPadNibble");
    } else {
      shift = 0;
    }
    const codes = this.#codes;
    let text = "";
    let j = 0;
    for (let k = 0; k < count; k++) {
      const position = k + shift;
      const b = bytes[o + (position >> 1)];
      const nibble = position & 1 ? b & 15 : b >> 4;
      if (kind === "n" && nibble > 9) throw new Iso8583Error(field, o + (position >> 1), "badBcdNibble");
      codes[j++] = HEX_DIGITS.charCodeAt(nibble);
      if (j === STRING_CHUNK) {
        text = appendCodes(text, codes, j);
        j = 0;
      }
    }
    return appendCodes(text, codes, j);
  }

  #charText(field: number, bytes: Uint8Array, o: number, count: number, kind: FieldKind): string {
    for (let i = o; i < o + count; i++) {
      const code = bytes[i];
      if (kind === "n" ? code < 0x30 || code > 0x39 : kind === "z" ? hexValue(code) < 0 || code >= 0x61 : !isTextCode(code, kind)) {
        throw new Iso8583Error(field, i, kind === "n" ? "nonDigit" : kind === "z" ? "badHex" : "nonText");
      }
    }
    // One character per byte: the bytes themselves are the character codes.
    let text = "";
    for (let i = o; i < o + count; i += STRING_CHUNK) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(i + STRING_CHUNK, o + count)) as unknown as number[]);
    }
    return text;
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
