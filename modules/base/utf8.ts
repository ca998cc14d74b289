/**
 * UTF-8 without TextEncoder/TextDecoder (the device build has neither): for the few texts that are not
 * ASCII, such as the hotline text a parameter download sets. Decode is strict: overlong forms,
 * surrogates, code points above U+10FFFF and cut sequences are refused, so a text re-encodes to the
 * same bytes.
 */

/** The UTF-8 bytes of `text`; a lone surrogate is a RangeError (it has no UTF-8 form). */
export function encodeUtf8(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = codePointAt(text, i);
    if (cp > 0xffff) i++;
    if (cp < 0x80) out[at++] = cp;
    else if (cp < 0x800) {
      out[at++] = 0xc0 | (cp >> 6);
      out[at++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[at++] = 0xe0 | (cp >> 12);
      out[at++] = 0x80 | ((cp >> 6) & 0x3f);
      out[at++] = 0x80 | (cp & 0x3f);
    } else {
      out[at++] = 0xf0 | (cp >> 18);
      out[at++] = 0x80 | ((cp >> 12) & 0x3f);
      out[at++] = 0x80 | ((cp >> 6) & 0x3f);
      out[at++] = 0x80 | (cp & 0x3f);
    }
  }
  return out;
}

/** Bytes `text` takes in UTF-8; a lone surrogate is a RangeError. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = codePointAt(text, i);
    if (cp > 0xffff) i++;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

function codePointAt(text: string, i: number): number {
  const cp = text.codePointAt(i)!;
  if (cp >= 0xd800 && cp <= 0xdfff) throw new RangeError(`text has a lone surrogate at index ${i}`);
  return cp;
}

/** The text of UTF-8 `bytes[start, end)`; a malformed sequence is a RangeError naming its offset. */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (start < 0 || start > end || end > bytes.length) throw new RangeError("decodeUtf8: range out of bounds");
  let out = "";
  let i = start;
  while (i < end) {
    const b = bytes[i];
    const extra = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (extra < 0 || i + extra > end - 1) throw new RangeError(`malformed UTF-8 at byte ${i - start}`);
    let cp = extra === 0 ? b : b & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) throw new RangeError(`malformed UTF-8 at byte ${i + k - start}`);
      cp = (cp << 6) | (c & 0x3f);
    }
    const overlong = (extra === 2 && cp < 0x800) || (extra === 3 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new RangeError(`malformed UTF-8 at byte ${i - start}`);
    out += String.fromCodePoint(cp);
    i += extra + 1;
  }
  return out;
}
