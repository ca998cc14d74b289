/**
 * Time enters the core only through a Clock. The device binds it to Moddable's
 * `timer` module, the simulator to Node timers or to a VirtualClock, which is
 * what makes every run replayable from a seed.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin; never goes backwards. */
  nowMs(): number;
  /** Calls `callback` once, `delayMs` from now (0 = after the current work). */
  schedule(delayMs: number, callback: () => void): TimerHandle;
  /** Cancels a pending timer; cancelling a fired or cancelled timer does nothing. */
  cancel(handle: TimerHandle): void;
}
