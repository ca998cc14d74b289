/**
 * The terminal's battery-backed calendar clock (its RTC) in simulation: a
 * source of wall time derived from virtual time, plus whatever offset the host
 * set at sign-on. Shared by the scenario runner, the chaos runner and the XS
 * device-sale measurement so that host time stamps replay identically.
 */
import type { WallClock } from "../txn/ports";

/** Virtual time 0 is this wall-clock instant in every simulation. */
export const SIMULATION_EPOCH_MS = Date.UTC(2026, 0, 15, 9, 0, 0);

export class VirtualWallClock implements WallClock {
  #offsetMs = 0;

  /** `wallNowMs`: milliseconds since 1970 as the simulation sees them, before any `set`. */
  constructor(readonly wallNowMs: () => number) {}

  nowMs(): number {
    return this.wallNowMs() + this.#offsetMs;
  }

  set(ms: number): void {
    this.#offsetMs = ms - this.wallNowMs();
  }
}
