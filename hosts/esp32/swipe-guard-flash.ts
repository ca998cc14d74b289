/**
 * The Flash handed to the journal and the state record, held back while a
 * card is in the magstripe slot. A sector erase keeps the flash cache off for
 * 45 ms or more (a program for well under 1 ms), and with it every interrupt
 * whose code sits in flash: the strobe ISR survives only when the GPIO ISR
 * service was installed IRAM-safe (msr-capture.c), and even then its message
 * post to the XS task is not proven IRAM-resident. modules/journal has no
 * hook for this, so the wrapper waits here: before an erase (always) and
 * before a program (when the ISR is not IRAM-safe), it polls the capture
 * until no strobes are expected, for at most `waitMsMax`. A swipe takes
 * 0.1–1 s; a card left in the slot past the bound does not stall the journal:
 * the operation runs, and a swipe cut short fails its LRC and is asked again.
 *
 * Waiting (rather than deferring) keeps the journal's contract: each call is
 * durable when it returns, which the engine relies on before a byte leaves.
 */
import { assertInteger } from "../../modules/base/assert";
import type { Flash } from "../../modules/platform/flash";

export interface SwipeGuardFlashOptions {
  readonly flash: Flash;
  /** True while strobes can arrive: a card in the slot or bits being clocked in. */
  readonly strobesExpected: () => boolean;
  readonly nowMs: () => number;
  /** Programs wait too: set when the strobe ISR is not IRAM-safe. */
  readonly guardWrites: boolean;
  readonly waitMsMax?: number;
  /** Upper bound on polls, in case the clock does not move. */
  readonly pollsMax?: number;
  /** After a wait: how long, and whether it ran out (the operation went ahead during a swipe). */
  readonly onWaited?: (waitedMs: number, timedOut: boolean) => void;
}

export class SwipeGuardFlash implements Flash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly #options: SwipeGuardFlashOptions;
  readonly #waitMsMax: number;
  readonly #pollsMax: number;

  constructor(options: SwipeGuardFlashOptions) {
    this.#options = options;
    this.blockSize = options.flash.blockSize;
    this.byteLength = options.flash.byteLength;
    this.#waitMsMax = options.waitMsMax ?? 1500;
    this.#pollsMax = options.pollsMax ?? 1_000_000;
    // The task watchdog fires after 5 s by default: a wait must stay well below it.
    assertInteger(this.#waitMsMax, 0, 3000, "waitMsMax");
    assertInteger(this.#pollsMax, 1, 100_000_000, "pollsMax");
  }

  erase(sector: number): void {
    this.#waitForSwipe();
    this.#options.flash.erase(sector);
  }

  read(offset: number, length: number): ArrayBuffer {
    return this.#options.flash.read(offset, length);
  }

  write(offset: number, length: number, bytes: Uint8Array): void {
    if (this.#options.guardWrites) this.#waitForSwipe();
    this.#options.flash.write(offset, length, bytes);
  }

  #waitForSwipe(): void {
    const { strobesExpected, nowMs, onWaited } = this.#options;
    if (!strobesExpected()) return;
    const startMs = nowMs();
    let waitedMs = 0;
    for (let polls = 1; polls < this.#pollsMax && waitedMs < this.#waitMsMax; polls++) {
      if (!strobesExpected()) {
        onWaited?.(waitedMs, false);
        return;
      }
      waitedMs = nowMs() - startMs;
    }
    onWaited?.(waitedMs, true);
  }
}
