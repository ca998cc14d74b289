/**
 * BER-TLV as EMV uses it in F55: tags of 1 to 3 bytes, lengths in short form
 * or 0x81/0x82 long form. Values are views into the decoded bytes (no copies);
 * constructed values are kept whole. Errors carry field 55 and the offset in
 * the F55 value.
 */
import { assert } from "../base/assert";
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

export function decodeTlv(bytes: Uint8Array): TlvItem[] {
  const items: TlvItem[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (items.length === TLV_ITEMS_MAX) throw new Iso8583Error(FIELD, o, "badTlv", `more than ${TLV_ITEMS_MAX} items`);
    const start = o;
    let tag = bytes[o++];
    if ((tag & 0x1f) === 0x1f) {
      // Subsequent tag bytes continue while bit 8 is set.
      for (;;) {
        if (o >= bytes.length) throw new Iso8583Error(FIELD, start, "truncated", "tag");
        if (o - start === TAG_BYTES_MAX) throw new Iso8583Error(FIELD, start, "badTlv", "tag longer than 3 bytes");
        const b = bytes[o++];
        tag = (tag << 8) | b;
        if ((b & 0x80) === 0) break;
      }
    }
    if (o >= bytes.length) throw new Iso8583Error(FIELD, o, "truncated", "length");
    let length = bytes[o++];
    if (length > 0x7f) {
      const lengthBytes = length & 0x7f;
      if (lengthBytes < 1 || lengthBytes > 2) throw new Iso8583Error(FIELD, o - 1, "badTlv", "length form");
      if (o + lengthBytes > bytes.length) throw new Iso8583Error(FIELD, o, "truncated", "length");
      length = lengthBytes === 1 ? bytes[o] : (bytes[o] << 8) | bytes[o + 1];
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

export function encodeTlv(items: readonly TlvItem[]): Uint8Array {
  assert(items.length <= TLV_ITEMS_MAX, "encodeTlv: too many items");
  let size = 0;
  for (const item of items) {
    assert(Number.isInteger(item.tag) && item.tag > 0 && item.tag <= 0xffffff, "encodeTlv: tag out of range");
    assert(item.value.length <= 0xffff, "encodeTlv: value too long");
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
