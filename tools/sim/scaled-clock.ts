/**
 * Real time that runs `scale` times faster (the simulator's time scale: a 60 s
 * response timeout takes 0.6 s at ×100). The scale can change while timers are
 * pending: the clock stays continuous (no jump in nowMs) and every pending timer
 * keeps its due time on the terminal's clock, rescheduled in real time.
 */
import type { Clock, TimerHandle } from "../../modules/platform/clock";

export const TIME_SCALE_MAX = 1000;

interface Pending {
  readonly dueMs: number;
  readonly callback: () => void;
  timer: ReturnType<typeof setTimeout>;
}

export class ScaledClock implements Clock {
  #scale = 1;
  /** nowMs = baseMs + (real now − realBaseMs) × scale. */
  #baseMs = 0;
  #realBaseMs = performance.now();
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  constructor(scale = 1) {
    this.scale = scale;
  }

  get scale(): number {
    return this.#scale;
  }

  /** Changes the speed from now on; pending timers keep their due time on this clock. */
  set scale(scale: number) {
    if (!Number.isInteger(scale) || scale < 1 || scale > TIME_SCALE_MAX)
      throw new RangeError(`time scale must be an integer from 1 to ${TIME_SCALE_MAX}`);
    const realNowMs = performance.now();
    this.#baseMs = this.#exactMs(realNowMs);
    this.#realBaseMs = realNowMs;
    this.#scale = scale;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.timer = this.#arm(id, pending.dueMs);
    }
  }

  nowMs(): number {
    return Math.floor(this.#exactMs(performance.now()));
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    const id = this.#nextId++;
    const dueMs = this.#exactMs(performance.now()) + Math.max(0, delayMs);
    this.#pending.set(id, { dueMs, callback, timer: this.#arm(id, dueMs) });
    return { id };
  }

  cancel(handle: TimerHandle): void {
    const pending = this.#pending.get(handle.id);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.#pending.delete(handle.id);
  }

  #exactMs(realMs: number): number {
    return this.#baseMs + (realMs - this.#realBaseMs) * this.#scale;
  }

  #arm(id: number, dueMs: number): ReturnType<typeof setTimeout> {
    const realDelayMs = Math.max(0, (dueMs - this.#exactMs(performance.now())) / this.#scale);
    return setTimeout(() => {
      const pending = this.#pending.get(id);
      if (pending === undefined) return;
      this.#pending.delete(id);
      pending.callback();
    }, realDelayMs);
  }
}
