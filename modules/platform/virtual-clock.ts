import { assert, assertInteger } from "../base/assert";
import type { Clock, TimerHandle } from "./clock";

interface PendingTimer {
  readonly handle: TimerHandle;
  readonly dueMs: number;
  readonly callback: () => void;
}

export interface VirtualClockOptions {
  /** Upper bound on timers pending at once; exceeding it is a bug (a leak). */
  timersMax?: number;
}

/**
 * A deterministic clock: time moves only when the test or the simulator says
 * so. Timers due at the same instant fire in the order they were scheduled.
 */
export class VirtualClock implements Clock {
  #nowMs = 0;
  #nextId = 1;
  #pending: PendingTimer[] = [];
  readonly #timersMax: number;

  constructor(options: VirtualClockOptions = {}) {
    this.#timersMax = options.timersMax ?? 4096;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    assertInteger(delayMs, 0, 2 ** 40, "delayMs");
    assert(this.#pending.length < this.#timersMax, "VirtualClock: too many pending timers");
    const handle: TimerHandle = { id: this.#nextId++ };
    const timer: PendingTimer = { handle, dueMs: this.#nowMs + delayMs, callback };
    // Keep #pending sorted by (dueMs, id): insert after every timer due at or before this one.
    let index = this.#pending.length;
    while (index > 0 && this.#pending[index - 1].dueMs > timer.dueMs) index--;
    this.#pending.splice(index, 0, timer);
    return handle;
  }

  cancel(handle: TimerHandle): void {
    const index = this.#pending.findIndex((t) => t.handle.id === handle.id);
    if (index >= 0) this.#pending.splice(index, 1);
  }

  /** Number of timers waiting to fire. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** When the next timer is due, or undefined when nothing is scheduled. */
  get nextDueMs(): number | undefined {
    return this.#pending.length > 0 ? this.#pending[0].dueMs : undefined;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number, firingsMax = 100_000): number {
    assertInteger(ms, 0, 2 ** 40, "ms");
    const targetMs = this.#nowMs + ms;
    let fired = 0;
    while (this.#pending.length > 0 && this.#pending[0].dueMs <= targetMs) {
      assert(fired < firingsMax, "VirtualClock.advance: firing limit reached (a timer loop?)");
      const timer = this.#pending.shift() as PendingTimer;
      this.#nowMs = timer.dueMs;
      timer.callback();
      fired++;
    }
    this.#nowMs = targetMs;
    return fired;
  }

  /**
   * Fires timers in order until none is pending or `horizonMs` of virtual
   * time has passed. Returns false when the horizon was reached with work left.
   */
  runUntilIdle(horizonMs: number, firingsMax = 100_000): boolean {
    const limitMs = this.#nowMs + horizonMs;
    let fired = 0;
    while (this.#pending.length > 0) {
      const next = this.#pending[0];
      if (next.dueMs > limitMs) return false;
      assert(fired < firingsMax, "VirtualClock.runUntilIdle: firing limit reached (a timer loop?)");
      this.#pending.shift();
      this.#nowMs = next.dueMs;
      next.callback();
      fired++;
    }
    return true;
  }
}
