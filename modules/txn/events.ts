/**
 * What the transaction engine tells the rest of the terminal: domain events,
 * never screens. The terminal assembly (modules/terminal) forwards the
 * contract's events (boot, send, recv, journal, result, settlement) to the
 * trace and hands every event to the UI, which maps them to screens and slips.
 */
import type { FinancialOp, ReversalReason } from "./ports";

export type Operation = "sale" | "void" | "refund" | "balance" | "signOn" | "signOff" | "echo" | "settle" | "networkCheck";
export type Outcome = "approved" | "declined" | "timeout" | "refused" | "failed";

/** Why an operation was refused on the terminal, before anything was sent. */
export type RefusalReason =
  /** Not signed on (or no working keys). */
  | "notSignedOn"
  /** No connection could be made, nothing was written. */
  | "notSent"
  /** A 冲正失败 is open and the parameters pause sales until it goes through. */
  | "blocked"
  /** The journal has no room for another record: settle first. */
  | "journalFull"
  /** The amount is above the single-transaction limit (交易限额). */
  | "amountLimit"
  /** The open batch would pass its count or amount limit: settle first. */
  | "batchLimit"
  /** A reversal must go first and could not be sent (no network): nothing else may go before it. */
  | "reversalPending";

/** A link failure as a network check lists it: what failed and when (wall clock). */
export interface LinkFailure {
  readonly failure: "refused" | "handshake" | "connectTimeout" | "busy" | "timeout" | "closed" | "reset" | "protocol";
  readonly atMs: number;
}

/** One open 冲正失败 (or due reversal) as reports list it: no PAN. */
export interface OpenReversal {
  readonly stan: string;
  readonly op: FinancialOp;
  readonly amount: number;
  readonly state: "reversalDue" | "failed";
}

/** Totals of one batch by type, as settled (sales net of voids). */
export interface BatchTotals {
  readonly saleCount: number;
  readonly saleAmount: number;
  readonly voidCount: number;
  readonly voidAmount: number;
  readonly refundCount: number;
  readonly refundAmount: number;
}

export type TxnEvent =
  | { readonly ev: "boot"; readonly reversalDue: number }
  | { readonly ev: "send"; readonly mti: string; readonly stan: string; readonly f39?: string }
  | {
      readonly ev: "recv";
      readonly mti: string;
      readonly stan: string;
      readonly f39?: string;
      readonly discarded?: true;
      readonly reason?: "late" | "mismatch" | "badMac" | "duplicate";
    }
  | {
      readonly ev: "journal";
      readonly stan: string;
      readonly state: "armed" | "completed" | "reversalDue" | "reversed" | "failed";
      readonly reason?: ReversalReason;
    }
  | {
      readonly ev: "result";
      readonly op: Operation;
      readonly stan?: string;
      readonly outcome: Outcome;
      readonly f39?: string;
      /** Minor units: what the operation moved (sale, void, refund). */
      readonly amount?: number;
      /** A balance inquiry's answer (F54), minor units, negative when the account is in debit. */
      readonly balance?: number;
      /** The transaction was reversed with the bank in its own episode: the customer was not charged (credited). */
      readonly reversed?: true;
      /** Its reversal could not be sent (no network): it is owed and goes out by itself once the link is back. */
      readonly reversalPending?: true;
      /** Refused on the terminal: why. */
      readonly refusal?: RefusalReason;
    }
  /** A request is on its way: `connecting` (no byte yet), then `waiting` from its last byte with the response deadline. */
  | {
      readonly ev: "exchange";
      readonly op: Operation;
      readonly stan: string;
      readonly phase: "connecting" | "waiting";
      readonly timeoutMs?: number;
    }
  /**
   * A reversal episode: each `attempt` (k of `attempts`, its own deadline once written), then `reversed`
   * or `failed`. `deferred`: the record was owed from before (冲正失败 or a power cut), not the
   * operation now running. `firstFailure`: the record was not 冲正失败 before this episode.
   */
  /**
   * `attempt`: attempt k is about to go (connecting); `waiting`: it was written, its deadline runs;
   * `backoff`: attempt k waits `timeoutMs` before it goes (the previous one went unanswered).
   */
  | {
      readonly ev: "reversal";
      readonly phase: "attempt" | "waiting" | "backoff";
      readonly stan: string;
      readonly op: FinancialOp;
      readonly amount: number;
      readonly attempt: number;
      readonly attempts: number;
      readonly deferred: boolean;
      readonly timeoutMs?: number;
    }
  | {
      readonly ev: "reversal";
      readonly phase: "reversed";
      readonly stan: string;
      readonly op: FinancialOp;
      readonly amount: number;
      readonly attempt: number;
      readonly deferred: boolean;
      /** The record had been 冲正失败 before this episode. */
      readonly wasFailed: boolean;
    }
  | {
      readonly ev: "reversal";
      readonly phase: "failed";
      readonly stan: string;
      readonly op: FinancialOp;
      readonly amount: number;
      readonly attempts: number;
      readonly deferred: boolean;
      readonly firstFailure: boolean;
      readonly salesBlocked: boolean;
    }
  /** Settlement at work: totals sent, then (unbalanced) the batch upload, record `uploaded` of `toUpload`. */
  /** Nothing could be sent (no network): the record stays owed, not 冲正失败; retried once the link is back. */
  | {
      readonly ev: "reversal";
      readonly phase: "offline";
      readonly stan: string;
      readonly op: FinancialOp;
      readonly amount: number;
      readonly deferred: boolean;
    }
  | {
      readonly ev: "settlementProgress";
      readonly phase: "totals" | "upload";
      readonly batch: string;
      readonly uploaded: number;
      readonly toUpload: number;
    }
  /** The batch closed: what was settled, as the slip prints it. */
  | {
      readonly ev: "settlement";
      readonly batch: string;
      readonly stan: string;
      /** The host's 对账应答 (F48 of the 0510): balanced, or unbalanced and the batch uploaded. */
      readonly balanced: boolean;
      readonly totals: BatchTotals;
      /** Reversals still owed when settlement ran (冲正失败 reported to the acquirer). */
      readonly openReversals: readonly OpenReversal[];
    }
  /**
   * 检查网络连接's measurements: `connectMs` TCP connect and TLS handshake, `answerMs` the echo's round
   * trip from its last byte; `failures` the last link failures, newest last. The host was reached but the check
   * failed: `badMac` when its answer failed the MAC check (the working keys disagree), else `f39`, its code.
   */
  | {
      readonly ev: "networkCheck";
      readonly ok: boolean;
      readonly connectMs?: number;
      readonly answerMs?: number;
      readonly f39?: string;
      readonly badMac?: true;
      readonly failures: readonly LinkFailure[];
    }
  /** Nothing runs or waits any more: a screen that only showed progress may go. */
  | { readonly ev: "idle" }
  /** The sign-on answer's header asks for a TMS check (处理要求, docs/tms.md): the terminal runs one after the sign-on. */
  | { readonly ev: "tmsDue" };

/** The events of the contract's trace; the others (exchange, reversal, idle) feed the screen only. */
export const TRACE_EVENTS: readonly TxnEvent["ev"][] = Object.freeze([
  "boot",
  "send",
  "recv",
  "journal",
  "result",
  "settlement",
  "networkCheck",
]);
