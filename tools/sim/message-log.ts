/**
 * The page's message log: every framed message the terminal sent or received,
 * decoded for display with sensitive fields masked. Track data (F35/F36), the
 * PIN block (F52), the chip data (F55) and key material (F62) are never shown
 * raw; the PAN (F2) is masked first 6 / last 4; the expiry is hidden. The hex
 * dump is the message's bytes with every byte of those fields shown as `**`.
 */
import { Iso8583Codec, type IsoFields, type IsoMessage } from "../../modules/iso8583/codec";
import { CUP } from "../../modules/iso8583/dialect";
import { Iso8583Error } from "../../modules/iso8583/error";
import { maskPan } from "../../modules/platform/log";
import type { Direction } from "./network";

export interface LoggedMessage {
  readonly id: number;
  readonly direction: Direction;
  /** Wall-clock milliseconds. */
  readonly atMs: number;
  readonly mti: string;
  readonly stan: string;
  readonly f39?: string;
  /** Received messages: time since their request (MTI − 10, same STAN) went out, on the terminal's clock (time scale included). */
  readonly elapsedMs?: number;
  readonly bytes: number;
  /** Field number → display value (masked). */
  readonly fields: Readonly<Record<string, string>>;
  readonly error?: string;
  /** The message's bytes as hex, two characters a byte, `**` where a hidden field's byte was. */
  readonly hex?: string;
  /** The terminal ignored this answer (its `recv` event said why): late, mismatch, badMac, duplicate. */
  discarded?: string;
}

const ENTRIES_MAX = 200;

const HIDDEN: Readonly<Record<number, (value: string) => string>> = Object.freeze({
  2: (v) => maskPan(v),
  14: () => "****",
  35: (v) => `[track 2 hidden, ${v.length} digits]`,
  36: (v) => `[track 3 hidden, ${v.length} digits]`,
  52: () => "[PIN block hidden]",
  55: (v) => `[chip data hidden, ${v.length / 2} bytes]`,
  62: (v) => `[key data hidden, ${v.length / 2} bytes]`,
});

/** Fields whose bytes the hex dump hides; F2 keeps its first 6 and last 4 digits. */
const HIDDEN_BYTES: readonly number[] = Object.freeze([2, 14, 35, 36, 52, 55, 62]);

/** The field's value with its hidden part replaced by `fill` repeated (same length, so the encoding keeps its layout). */
function filled(field: number, value: string, fill: string): string {
  if (field === 2)
    return value.length <= 10 ? fill.repeat(value.length) : value.slice(0, 6) + fill.repeat(value.length - 10) + value.slice(-4);
  return fill.repeat(value.length);
}

function withFill(message: IsoMessage, fill: string): IsoMessage {
  const fields: IsoFields = { ...message.fields };
  for (const field of HIDDEN_BYTES) {
    const value = fields[field];
    // Binary fields are hex strings: any hex digit keeps them valid, as any digit keeps BCD valid.
    if (value !== undefined) fields[field] = filled(field, value, fill);
  }
  return { ...message, fields };
}

/**
 * The hex dump with the hidden fields' bytes as `**`: the message encoded twice with those fields
 * filled with 0s and with 9s; a byte that differs belongs to a hidden field.
 */
function maskedHex(codec: Iso8583Codec, message: Uint8Array, decoded: IsoMessage): string | undefined {
  let zeros: Uint8Array;
  let nines: Uint8Array;
  try {
    // Copies: encode returns a view of the codec's reused buffer.
    zeros = codec.encode(withFill(decoded, "0")).slice();
    nines = codec.encode(withFill(decoded, "9")).slice();
  } catch (error) {
    if (error instanceof Iso8583Error) return undefined;
    throw error;
  }
  if (zeros.length !== message.length || nines.length !== message.length) return undefined;
  let hex = "";
  for (let i = 0; i < message.length; i++) hex += zeros[i] !== nines[i] ? "**" : message[i].toString(16).padStart(2, "0");
  return hex;
}

export function maskFields(fields: IsoFields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const hide = HIDDEN[Number(key)];
    out[key] = hide === undefined ? value : hide(value);
  }
  return out;
}

export class MessageLog {
  readonly #codec = new Iso8583Codec({ dialect: CUP });
  readonly #entries: LoggedMessage[] = [];
  readonly #sentAt = new Map<string, number>();
  #nextId = 1;

  /** `atMs` wall clock for the time shown; `clockMs` the terminal's clock, which times answers (default `atMs`). */
  add(direction: Direction, message: Uint8Array, atMs: number, clockMs = atMs): LoggedMessage {
    let entry: LoggedMessage;
    try {
      const decoded = this.#codec.decode(message);
      const stan = decoded.fields[11] ?? "";
      // Keyed by the request's MTI and STAN: a 0400 keeps the STAN of its 0200, and a late 0210 is timed from the 0200.
      const requestMti = direction === "out" ? decoded.mti : String(Number(decoded.mti) - 10).padStart(4, "0");
      if (direction === "out") this.#sentAt.set(`${requestMti} ${stan}`, clockMs);
      const sent = this.#sentAt.get(`${requestMti} ${stan}`);
      entry = {
        id: this.#nextId++,
        direction,
        atMs,
        mti: decoded.mti,
        stan,
        f39: decoded.fields[39],
        elapsedMs: direction === "in" && sent !== undefined ? clockMs - sent : undefined,
        bytes: message.length,
        fields: maskFields(decoded.fields),
        hex: maskedHex(this.#codec, message, decoded),
      };
    } catch (error) {
      if (!(error instanceof Iso8583Error)) throw error;
      entry = { id: this.#nextId++, direction, atMs, mti: "????", stan: "", bytes: message.length, fields: {}, error: error.message };
    }
    this.#entries.push(entry);
    if (this.#entries.length > ENTRIES_MAX) this.#entries.shift();
    if (this.#sentAt.size > ENTRIES_MAX) this.#sentAt.delete(this.#sentAt.keys().next().value!);
    return entry;
  }

  entries(): readonly LoggedMessage[] {
    return this.#entries;
  }

  /**
   * Marks the newest received message of this type and STAN as discarded by the terminal, so a late
   * answer reads as late, not as an answer that took long. False when no such message is logged.
   */
  markDiscarded(mti: string, stan: string, reason: string): boolean {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i];
      if (entry.direction !== "in" || entry.mti !== mti || entry.stan !== stan || entry.discarded !== undefined) continue;
      entry.discarded = reason;
      return true;
    }
    return false;
  }
}
