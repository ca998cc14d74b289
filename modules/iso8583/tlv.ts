/**
 * BER-TLV as EMV uses it in F55: tags of 1 to 3 bytes, lengths in short form
 * or 0x81/0x82 long form. Values are views into the decoded bytes (no copies);
 * constructed values are kept whole. Errors carry field 55 and the offset in
 * the F55 value. Decode and encode accept the same tags (`isTlvTag`), so what
 * decodes re-encodes to the same bytes and what encodes decodes.
 */
import { Iso8583Error } from "./error";

export interface TlvItem {
  /** The tag bytes as one big-endian number, e.g. 0x9F26. */
  readonly tag: number;
  readonly value: Uint8Array;
}

/** F55 holds at most 255 bytes; 2-byte TLVs give at most ~128 items. */
export const TLV_ITEMS_MAX = 128;
const TAG_BYTES_MAX = 3;
const FIELD = 55;
/** Lengths up to 0x82 form (two length bytes). */
const VALUE_BYTES_MAX = 0xffff;

/**
 * A BER-TLV tag of 1 to 3 bytes, as one big-endian number: the first byte is
 * neither 00 nor FF (EMV's padding bytes, never a tag); when its low 5 bits
 * are all set, more bytes follow, each but the last with bit 8 set; otherwise
 * it stands alone.
 */
export function isTlvTag(tag: number): boolean {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffff) return false;
  const count = tagBytes(tag);
  const first = (tag >> ((count - 1) * 8)) & 0xff;
  if (first === 0xff) return false;
  if (count === 1) return (first & 0x1f) !== 0x1f;
  if ((first & 0x1f) !== 0x1f) return false;
  for (let i = count - 2; i >= 0; i--) {
    const more = ((tag >> (i * 8)) & 0x80) !== 0;
    if (more !== i > 0) return false;
  }
  return true;
}

/**
 * `skipPadding`: card data (EMV Book 3, Annex B) may carry 00 bytes before, between and after its
 * objects (and some cards FF); they are skipped there. F55 has no padding: off, so what decodes
 * re-encodes to the same bytes.
 */
export function decodeTlv(bytes: Uint8Array, options: { readonly skipPadding?: boolean } = {}): TlvItem[] {
  const items: TlvItem[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (options.skipPadding === true && (bytes[o] === 0x00 || bytes[o] === 0xff)) {
      o++;
      continue;
    }
    if (items.length === TLV_ITEMS_MAX) throw new Iso8583Error(FIELD, o, "badTlv", `more than ${TLV_ITEMS_MAX} items`);
    const start = o;
    let tag = bytes[o++];
    if (tag === 0x00 || tag === 0xff)
      throw new Iso8583Error(FIELD, start, "badTlv", `tag cannot start with ${tag === 0 ? "00" : "FF"} (padding)`);
    if ((tag & 0x1f) === 0x1f) {
      // Subsequent tag bytes continue while bit 8 is set.
      for (;;) {
        if (o >= bytes.length) throw new Iso8583Error(FIELD, start, "truncated", "the bytes end inside a tag");
        if (o - start === TAG_BYTES_MAX) throw new Iso8583Error(FIELD, start, "badTlv", `tag longer than ${TAG_BYTES_MAX} bytes`);
        const b = bytes[o++];
        tag = (tag << 8) | b;
        if ((b & 0x80) === 0) break;
      }
    }
    if (o >= bytes.length) throw new Iso8583Error(FIELD, o, "truncated", "the bytes end before the length of a tag");
    let length = bytes[o++];
    if (length > 0x7f) {
      const lengthBytes = length & 0x7f;
      if (lengthBytes < 1 || lengthBytes > 2)
        throw new Iso8583Error(FIELD, o - 1, "badTlv", `length form ${hexByte(length)}: only short form, 81 and 82 are accepted`);
      if (o + lengthBytes > bytes.length) throw new Iso8583Error(FIELD, o, "truncated", "the bytes end inside a long-form length");
      length = lengthBytes === 1 ? bytes[o] : (bytes[o] << 8) | bytes[o + 1];
      // DER-minimal only: a longer form than needed would not re-encode to the same bytes.
      if (length < (lengthBytes === 1 ? 0x80 : 0x100))
        throw new Iso8583Error(
          FIELD,
          o - 1,
          "badTlv",
          `length ${length} in the ${lengthBytes === 1 ? "81" : "82"} form; a shorter form is required`,
        );
      o += lengthBytes;
    }
    if (o + length > bytes.length) throw new Iso8583Error(FIELD, o, "truncated", `${length} bytes declared, ${bytes.length - o} left`);
    items.push({ tag, value: bytes.subarray(o, o + length) });
    o += length;
  }
  return items;
}

function tagBytes(tag: number): number {
  return tag > 0xffff ? 3 : tag > 0xff ? 2 : 1;
}

function lengthBytes(length: number): number {
  return length < 0x80 ? 1 : length <= 0xff ? 2 : 3;
}

function hexByte(value: number): string {
  return (value < 16 ? "0" : "") + value.toString(16).toUpperCase();
}

/** Bad items throw Iso8583Error (field 55, offset = where the item would start), as decode does. */
export function encodeTlv(items: readonly TlvItem[]): Uint8Array {
  if (items.length > TLV_ITEMS_MAX) throw new Iso8583Error(FIELD, 0, "badTlv", `${items.length} items; at most ${TLV_ITEMS_MAX}`);
  let size = 0;
  for (const item of items) {
    if (!isTlvTag(item.tag)) throw new Iso8583Error(FIELD, size, "badTlv", "not a BER-TLV tag of 1 to 3 bytes");
    if (item.value.length > VALUE_BYTES_MAX)
      throw new Iso8583Error(FIELD, size, "badTlv", `value of ${item.value.length} bytes; at most ${VALUE_BYTES_MAX}`);
    size += tagBytes(item.tag) + lengthBytes(item.value.length) + item.value.length;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const { tag, value } of items) {
    for (let shift = (tagBytes(tag) - 1) * 8; shift >= 0; shift -= 8) out[o++] = (tag >> shift) & 0xff;
    const length = value.length;
    if (length >= 0x80) {
      if (length > 0xff) {
        out[o++] = 0x82;
        out[o++] = length >> 8;
      } else {
        out[o++] = 0x81;
      }
    }
    out[o++] = length & 0xff;
    out.set(value, o);
    o += length;
  }
  return out;
}

export function findTlv(items: readonly TlvItem[], tag: number): Uint8Array | undefined {
  for (const item of items) if (item.tag === tag) return item.value;
  return undefined;
}
