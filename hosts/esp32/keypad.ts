/**
 * A 4×4 matrix keypad scanned from the Clock: rows are outputs driven low one
 * at a time, columns are pulled-up inputs. Scanning (instead of edge
 * interrupts) keeps the GPIO interrupt service free for the magstripe ISR
 * (msr-capture.c), which installs it IRAM-safe. A key counts once it reads
 * the same on `debounceScans` consecutive scans.
 */
import { assert, assertInteger } from "../../modules/base/assert";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import type { Digital, DigitalOptions } from "../../modules/platform/io";
import type { Key } from "../../modules/ui/terminal-ui";

/** Row-major legend of the terminal's keypad; null = no key at that crossing. */
export const KEYPAD_LAYOUT: readonly (readonly (Key | null)[])[] = Object.freeze([
  Object.freeze(["1", "2", "3", "cancel"] as const),
  Object.freeze(["4", "5", "6", "clear"] as const),
  Object.freeze(["7", "8", "9", null] as const),
  Object.freeze([null, "0", null, "enter"] as const),
]);

export interface KeypadOptions {
  readonly clock: Clock;
  readonly open: (options: DigitalOptions) => Digital;
  readonly rows: readonly number[];
  readonly columns: readonly number[];
  readonly onKey: (key: Key) => void;
  readonly scanIntervalMs?: number;
  readonly debounceScans?: number;
}

export class Keypad {
  readonly #clock: Clock;
  readonly #rows: readonly Digital[];
  readonly #columns: readonly Digital[];
  readonly #onKey: (key: Key) => void;
  readonly #scanIntervalMs: number;
  readonly #debounceScans: number;
  #candidate: Key | null = null;
  #stableScans = 0;
  #reported: Key | null = null;
  #timer: TimerHandle | undefined;

  constructor(options: KeypadOptions) {
    assert(options.rows.length === KEYPAD_LAYOUT.length, "keypad: one pin per layout row");
    assert(options.columns.length === KEYPAD_LAYOUT[0].length, "keypad: one pin per layout column");
    this.#scanIntervalMs = options.scanIntervalMs ?? 10;
    this.#debounceScans = options.debounceScans ?? 3;
    assertInteger(this.#scanIntervalMs, 1, 100, "scanIntervalMs");
    assertInteger(this.#debounceScans, 1, 10, "debounceScans");
    this.#clock = options.clock;
    this.#onKey = options.onKey;
    this.#rows = options.rows.map((pin) => options.open({ pin, mode: "output" }));
    this.#columns = options.columns.map((pin) => options.open({ pin, mode: "inputPullUp" }));
    for (const row of this.#rows) row.write(1);
    this.#timer = this.#clock.schedule(this.#scanIntervalMs, () => this.#scan());
  }

  close(): void {
    if (this.#timer !== undefined) this.#clock.cancel(this.#timer);
    this.#timer = undefined;
    for (const pin of [...this.#rows, ...this.#columns]) pin.close();
  }

  #scan(): void {
    const pressed = this.#pressedKey();
    if (pressed === this.#candidate) this.#stableScans = Math.min(this.#stableScans + 1, this.#debounceScans);
    else {
      this.#candidate = pressed;
      this.#stableScans = 1;
    }
    if (this.#stableScans === this.#debounceScans && this.#candidate !== this.#reported) {
      this.#reported = this.#candidate;
      if (this.#reported !== null) this.#onKey(this.#reported);
    }
    this.#timer = this.#clock.schedule(this.#scanIntervalMs, () => this.#scan());
  }

  /** The first pressed key in row-major order; two keys at once read as the first. */
  #pressedKey(): Key | null {
    let found: Key | null = null;
    for (let r = 0; r < this.#rows.length && found === null; r++) {
      this.#rows[r].write(0);
      for (let c = 0; c < this.#columns.length && found === null; c++) {
        if (this.#columns[c].read() === 0) found = KEYPAD_LAYOUT[r][c];
      }
      this.#rows[r].write(1);
    }
    return found;
  }
}
