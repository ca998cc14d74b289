/**
 * The page's message log: every framed message the terminal sent or received,
 * decoded for display with sensitive fields masked. Track data (F35/F36), the
 * PIN block (F52), the chip data (F55) and key material (F62) are never shown
 * raw; the PAN (F2) is masked first 6 / last 4; the expiry is hidden.
 */
import { Iso8583Codec, type IsoFields } from "../../modules/iso8583/codec";
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
  /** Received messages: time since their request (MTI − 10, same STAN) went out. */
  readonly elapsedMs?: number;
  readonly bytes: number;
  /** Field number → display value (masked). */
  readonly fields: Readonly<Record<string, string>>;
  readonly error?: string;
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

  add(direction: Direction, message: Uint8Array, atMs: number): LoggedMessage {
    let entry: LoggedMessage;
    try {
      const decoded = this.#codec.decode(message);
      const stan = decoded.fields[11] ?? "";
      // Keyed by the request's MTI and STAN: a 0400 keeps the STAN of its 0200, and a late 0210 is timed from the 0200.
      const requestMti = direction === "out" ? decoded.mti : String(Number(decoded.mti) - 10).padStart(4, "0");
      if (direction === "out") this.#sentAt.set(`${requestMti} ${stan}`, atMs);
      const sent = this.#sentAt.get(`${requestMti} ${stan}`);
      entry = {
        id: this.#nextId++,
        direction,
        atMs,
        mti: decoded.mti,
        stan,
        f39: decoded.fields[39],
        elapsedMs: direction === "in" && sent !== undefined ? atMs - sent : undefined,
        bytes: message.length,
        fields: maskFields(decoded.fields),
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
