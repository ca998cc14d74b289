/**
 * Hex and ASCII conversions without TextEncoder: the device build has no
 * TextEncoder/TextDecoder globals, and every text this terminal handles on the
 * wire is ASCII.
 */
import { assert } from "./assert";

const HEX_DIGITS = "0123456789ABCDEF";
/** Longer inputs go through character codes: a string grown two characters at a time costs an allocation per byte on V8 and a copy per byte on XS. */
const HEX_CONCAT_BYTES_MAX = 16;
/** Characters converted by one String.fromCharCode.apply (bounds its argument count). */
const APPLY_CHUNK = 128;

/** Upper-case hex of `bytes[start, end)`. */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  assert(start >= 0 && start <= end && end <= bytes.length, "toHex: range out of bounds");
  if (end - start > HEX_CONCAT_BYTES_MAX) return longHex(bytes, start, end);
  let out = "";
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    out += HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 0x0f];
  }
  return out;
}

function longHex(bytes: Uint8Array, start: number, end: number): string {
  const codes = new Uint8Array(2 * (end - start));
  for (let i = start, o = 0; i < end; i++, o += 2) {
    codes[o] = hexCode(bytes[i] >> 4);
    codes[o + 1] = hexCode(bytes[i] & 0x0f);
  }
  let out = "";
  for (let k = 0; k < codes.length; k += APPLY_CHUNK)
    out += String.fromCharCode.apply(null, codes.subarray(k, Math.min(k + APPLY_CHUNK, codes.length)) as unknown as number[]);
  return out;
}

/** The character code of an upper-case hex digit. */
function hexCode(nibble: number): number {
  return nibble < 10 ? 0x30 + nibble : 0x37 + nibble;
}

function nibble(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

export function isHex(text: string): boolean {
  if (text.length % 2 !== 0) return false;
  for (let i = 0; i < text.length; i++) if (nibble(text.charCodeAt(i)) < 0) return false;
  return true;
}

/** Bytes of an even-length hex string; throws RangeError on anything else. */
export function fromHex(text: string): Uint8Array {
  if (text.length % 2 !== 0) throw new RangeError("hex text has an odd number of digits");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(text.charCodeAt(2 * i));
    const lo = nibble(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new RangeError(`hex text has a non-hex character near index ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Bytes of an ASCII string; throws RangeError on a character above 0x7E or below 0x20. */
export function fromAscii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new RangeError(`text has a non-printable-ASCII character at index ${i}`);
    out[i] = c;
  }
  return out;
}

/** ASCII text of `bytes[start, end)`; bytes outside printable ASCII become '?'. */
export function toAscii(bytes: Uint8Array, start = 0, end = bytes.length): string {
  assert(start >= 0 && start <= end && end <= bytes.length, "toAscii: range out of bounds");
  let out = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    out += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : "?";
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Overwrite sensitive bytes (keys, PIN blocks, track data) once they are no longer needed. */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}
