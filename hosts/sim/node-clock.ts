/** The platform Clock on Node's real timers: the live simulator and the host-facing tools. */
import type { Clock, TimerHandle } from "../../modules/platform/clock";

export class NodeClock implements Clock {
  readonly #originMs = performance.now();
  #nextId = 1;
  readonly #timers = new Map<number, NodeJS.Timeout>();

  nowMs(): number {
    return Math.floor(performance.now() - this.#originMs);
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    const handle = { id: this.#nextId++ };
    const timer = setTimeout(() => {
      this.#timers.delete(handle.id);
      callback();
    }, delayMs);
    this.#timers.set(handle.id, timer);
    return handle;
  }

  cancel(handle: TimerHandle): void {
    const timer = this.#timers.get(handle.id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(handle.id);
  }

  /** Cancels every pending timer (shutdown). */
  cancelAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
