/**
 * Magnetic stripe decoding (ISO/IEC 7811-2 encoding, ISO/IEC 7813 content)
 * from the bits a TTL reader presents at each strobe.
 *
 * Input is one byte per bit (0 or 1, 1 = /DATA active low at the strobe's
 * falling edge) in time order, plus a count: that is what the native strobe ISR
 * on the ESP32 hands to JS once /CLS rises (a byte per bit keeps the ISR a
 * single store). A reverse swipe is decoded by reading the whole buffer
 * backwards, never by searching for mirrored sentinels (a mirrored `;` is a
 * valid `:`).
 */
import { assert, assertInteger } from "../base/assert";
import { luhnValid } from "../crypto/pan";

/** The capture buffer limit of the reader ISR: room for a full track 1 at both ends' clocking zeros. */
export const MSR_BITS_MAX = 1024;

export type MsrFailure = "noStartSentinel" | "parity" | "noEndSentinel" | "noLrc" | "lrc" | "format" | "luhn";

/** A swipe that cannot be trusted; `character` is the index from the start sentinel (0) where it failed, or -1. */
export class MsrError extends Error {
  override readonly name = "MsrError";
  constructor(
    readonly reason: MsrFailure,
    readonly character: number,
    message: string,
  ) {
    super(message);
  }
}

export type MsrDirection = "forward" | "reverse";

export interface MsrTrack {
  readonly track: 1 | 2;
  readonly direction: MsrDirection;
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly serviceCode: string;
  /** Track 1 cardholder name, trimmed; "" on track 2. */
  readonly name: string;
  /** ASCII characters between the sentinels: goes only into the request being built; `wipe()` after. */
  readonly data: Uint8Array;
  wipe(): void;
}

interface TrackFormat {
  readonly track: 1 | 2;
  readonly bitsPerCharacter: number;
  /** Sentinel values are character codes minus `asciiOffset`, data bits only. */
  readonly startSentinel: number;
  readonly endSentinel: number;
  readonly asciiOffset: number;
  readonly charactersMax: number;
}

const TRACK2: TrackFormat = Object.freeze({
  track: 2,
  bitsPerCharacter: 5,
  startSentinel: 0x0b,
  endSentinel: 0x0f,
  asciiOffset: 0x30,
  charactersMax: 40,
});
const TRACK1: TrackFormat = Object.freeze({
  track: 1,
  bitsPerCharacter: 7,
  startSentinel: 0x05,
  endSentinel: 0x1f,
  asciiOffset: 0x20,
  charactersMax: 79,
});

/** One direction's outcome: the characters between sentinels, or how far it got before failing. */
type Attempt =
  { readonly ok: true; readonly format: TrackFormat; readonly data: Uint8Array } | { readonly ok: false; readonly error: MsrError };

/**
 * Decodes one track. Tries forward, then the whole buffer reversed; when both
 * fail, reports the failure of the direction that decoded further.
 */
export function decodeMsr(bits: Uint8Array, count: number): MsrTrack {
  assertInteger(count, 0, Math.min(bits.length, MSR_BITS_MAX), "msr bit count");
  const forward = decodeDirection(bits, count, false);
  if (forward.ok) return parseTrack(forward.format, forward.data, "forward");
  const reverse = decodeDirection(bits, count, true);
  if (reverse.ok) return parseTrack(reverse.format, reverse.data, "reverse");
  throw reverse.error.character > forward.error.character ? reverse.error : forward.error;
}

/** Reads `width` bits from `start` (LSB first) as a number; bits index from the buffer's end when reversed. */
function readCharacter(bits: Uint8Array, count: number, reversed: boolean, start: number, width: number): number {
  let value = 0;
  for (let i = 0; i < width; i++) {
    const at = start + i;
    const bit = reversed ? bits[count - 1 - at] : bits[at];
    value |= (bit & 1) << i;
  }
  return value;
}

function oddParity(value: number, width: number): boolean {
  let ones = 0;
  for (let i = 0; i < width; i++) ones += (value >> i) & 1;
  return ones % 2 === 1;
}

function withParity(format: TrackFormat, dataValue: number): number {
  const dataBits = format.bitsPerCharacter - 1;
  return oddParity(dataValue, dataBits) ? dataValue : dataValue | (1 << dataBits);
}

function decodeDirection(bits: Uint8Array, count: number, reversed: boolean): Attempt {
  // Clocking zeros precede the start sentinel; its first bit (b0) is a 1 on both tracks.
  let start = 0;
  while (start < count && (reversed ? bits[count - 1 - start] : bits[start]) === 0) start++;
  let format: TrackFormat | undefined;
  for (const candidate of [TRACK2, TRACK1]) {
    if (start + candidate.bitsPerCharacter > count) continue;
    const value = readCharacter(bits, count, reversed, start, candidate.bitsPerCharacter);
    if (value === withParity(candidate, candidate.startSentinel)) format = candidate;
    if (format) break;
  }
  if (!format) return { ok: false, error: new MsrError("noStartSentinel", -1, "no start sentinel") };

  const width = format.bitsPerCharacter;
  const dataMask = (1 << (width - 1)) - 1;
  const characters = new Uint8Array(format.charactersMax);
  let columns = 0;
  let length = 0;
  let endAt = -1;
  // Characters from the start sentinel through the LRC (the one after the end sentinel).
  for (let index = 0; index < format.charactersMax; index++) {
    const at = start + index * width;
    if (at + width > count) {
      const reason = endAt < 0 ? "noEndSentinel" : "noLrc";
      const what = endAt < 0 ? "the end sentinel" : "the LRC character";
      return { ok: false, error: new MsrError(reason, index, `bits ended at character ${index}, before ${what}`) };
    }
    const value = readCharacter(bits, count, reversed, at, width);
    if (!oddParity(value, width)) return { ok: false, error: new MsrError("parity", index, `parity error at character ${index}`) };
    columns ^= value & dataMask;
    if (endAt >= 0) {
      if (columns !== 0) return { ok: false, error: new MsrError("lrc", index, `LRC mismatch at character ${index}`) };
      return { ok: true, format, data: characters.subarray(1, endAt) };
    }
    characters[index] = (value & dataMask) + format.asciiOffset;
    length = index + 1;
    if ((value & dataMask) === format.endSentinel) endAt = index;
  }
  return { ok: false, error: new MsrError("noEndSentinel", length, `no end sentinel within ${format.charactersMax} characters`) };
}

/** Splits the characters between the sentinels into PAN, expiry, service code (and name on track 1). */
function parseTrack(format: TrackFormat, data: Uint8Array, direction: MsrDirection): MsrTrack {
  const text = asciiOf(data);
  let pan: string;
  let rest: string;
  let name = "";
  if (format.track === 2) {
    const separator = text.indexOf("=");
    if (separator < 0) throw formatError("track 2 has no field separator '='");
    pan = text.slice(0, separator);
    rest = text.slice(separator + 1);
  } else {
    if (text[0] !== "B") throw formatError("track 1 is not format code B");
    const first = text.indexOf("^");
    const second = first < 0 ? -1 : text.indexOf("^", first + 1);
    if (second < 0) throw formatError("track 1 lacks its two '^' separators");
    pan = text.slice(1, first);
    name = text.slice(first + 1, second).trim();
    rest = text.slice(second + 1);
  }
  if (!/^[0-9]{12,19}$/.test(pan)) throw formatError("PAN is not 12 to 19 digits");
  if (!/^[0-9]{7}/.test(rest)) throw formatError("expiry and service code are not 7 digits");
  if (!luhnValid(pan)) throw new MsrError("luhn", -1, "PAN fails the Luhn check");
  const copy = data.slice();
  assert(copy.length <= TRACK1.charactersMax, "track data within the track 1 limit");
  return Object.freeze({
    track: format.track,
    direction,
    pan,
    expiry: rest.slice(0, 4),
    serviceCode: rest.slice(4, 7),
    name,
    data: copy,
    wipe: () => copy.fill(0),
  });
}

function formatError(message: string): MsrError {
  return new MsrError("format", -1, message);
}

function asciiOf(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

/** Parses the `0`/`1` text form of a bit buffer (the CLI and tests use it). */
export function bitsFromText(text: string): Uint8Array {
  if (text.length > MSR_BITS_MAX) throw new MsrError("format", -1, `more than ${MSR_BITS_MAX} bits`);
  const bits = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "0" && c !== "1") throw new MsrError("format", -1, `bit ${i} is not 0 or 1`);
    bits[i] = c === "1" ? 1 : 0;
  }
  return bits;
}
