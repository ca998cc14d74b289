/**
 * The platform Clock on Moddable's `timer` module. Time comes from Time.ticks
 * (milliseconds since boot, never set by SNTP, so it cannot jump), widened
 * past its 32-bit wrap so that nowMs() stays monotonic for the life of the
 * terminal.
 */
import Time from "time";
import Timer from "timer";
import { assert, assertInteger } from "../../modules/base/assert";
import type { Clock, TimerHandle } from "../../modules/platform/clock";

const DELAY_MS_MAX = 2 ** 31 - 1;

export interface TimerClockOptions {
  /** Upper bound on timers pending at once; exceeding it is a leak. */
  readonly timersMax?: number;
}

export class TimerClock implements Clock {
  readonly #timers = new Map<number, Timer>();
  readonly #timersMax: number;
  #nextId = 1;
  #lastTicks: number;
  #elapsedMs = 0;

  constructor(options: TimerClockOptions = {}) {
    this.#timersMax = options.timersMax ?? 64;
    assertInteger(this.#timersMax, 1, 4096, "timersMax");
    this.#lastTicks = Time.ticks;
  }

  nowMs(): number {
    const ticks = Time.ticks;
    // Unsigned 32-bit difference: correct across the wrap, whether XS hands ticks over signed or unsigned.
    this.#elapsedMs += (ticks - this.#lastTicks) >>> 0;
    this.#lastTicks = ticks;
    return this.#elapsedMs;
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    assertInteger(delayMs, 0, DELAY_MS_MAX, "delayMs");
    assert(this.#timers.size < this.#timersMax, "TimerClock: too many pending timers");
    const handle: TimerHandle = { id: this.#nextId++ };
    // A one-shot Moddable timer clears itself after firing; forget it before the callback can schedule again.
    const timer = Timer.set(() => {
      this.#timers.delete(handle.id);
      callback();
    }, delayMs);
    this.#timers.set(handle.id, timer);
    return handle;
  }

  cancel(handle: TimerHandle): void {
    const timer = this.#timers.get(handle.id);
    if (timer === undefined) return;
    Timer.clear(timer);
    this.#timers.delete(handle.id);
  }
}
