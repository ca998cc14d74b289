/**
 * How a reversal episode spends its attempts. Two policies, both frozen: the
 * one most terminal templates follow (the reference the resilience bench
 * measures against, docs/transactions.md) and the one xspos ships. Neither
 * bends a CUP rule: the same STAN, the 0400 before any other online message,
 * a record closed only by a final 0410 with a good MAC.
 */
export interface ReversalPolicy {
  readonly name: "reference" | "xspos";
  /**
   * An attempt refused before its first byte (refused, handshake, connect timeout) counts toward
   * 冲正失败. The reference counts it; xspos does not: nothing reached the bank, so nothing is known.
   */
  readonly countUnsentAttempts: boolean;
  /** Waits before attempt 2, 3, … of an episode (the last entry repeats); empty: back to back. */
  readonly backoffMs: readonly number[];
  /**
   * While the terminal is idle, reversals still owed are retried on their own, the i-th time after
   * `idleRetryMs[i]` of idleness, not only before the next online message; once the list is spent the
   * terminal waits for the next operation or a link that comes back (a bounded worker: a host that
   * never answers does not keep the radio busy forever). No entries: never.
   */
  readonly idleRetryMs: readonly number[];
  /** A link that comes back (Wi-Fi up) sends what is owed at once; the reference waits for the next online message. */
  readonly retryOnLinkUp: boolean;
}

export const REFERENCE_POLICY: ReversalPolicy = Object.freeze({
  name: "reference",
  countUnsentAttempts: true,
  backoffMs: Object.freeze([]),
  idleRetryMs: Object.freeze([]),
  retryOnLinkUp: false,
});

export const XSPOS_POLICY: ReversalPolicy = Object.freeze({
  name: "xspos",
  countUnsentAttempts: false,
  backoffMs: Object.freeze([2_000, 5_000, 10_000]),
  idleRetryMs: Object.freeze([5_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000]),
  retryOnLinkUp: true,
});
