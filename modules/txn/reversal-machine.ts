/**
 * The life of one reversible request (sale, void, refund) as data: its states
 * and the events that move it, one frozen table. The engine moves every record
 * through `nextReversalState`, so a transition the table does not name is a
 * bug that stops the terminal (an assertion), never a silent path; the table
 * in docs/transactions.md is checked against this one by a test.
 *
 * The journal keeps the durable part (armed, reversal-due, 冲正失败, closed);
 * `sent`, `answered` and `reversing` live in RAM only: a power cut in any of
 * them comes back as `reversalDue` (boot recovery), which is always safe
 * because the host answers a 0400 for an unknown STAN with 25.
 */
import { nextState, transition, type Transition } from "../base/transitions";

export type ReversalState =
  /** Durable before the first byte: the request may be on its way. */
  | "armed"
  /** The request's last byte was written: the response deadline runs. */
  | "sent"
  /** An answer arrived and is being checked (MAC, echoes, the chip's second GENERATE AC). */
  | "answered"
  /** Declined: nothing moved, the record closed. */
  | "completed"
  /** Approved: the record closed into the approved log in one atomic step. */
  | "approved"
  /** A 0400 is owed (reason 98, A0 or 06). */
  | "reversalDue"
  /** A 0400 attempt is on the wire. */
  | "reversing"
  /** The host confirmed the reversal (0410 00/12/25 with a good MAC): closed. */
  | "reversed"
  /** 冲正失败: attempts exhausted; kept, shown, retried before every later online message. */
  | "failed";

export type ReversalEvent =
  | "written"
  | "answer"
  | "declined"
  | "approved"
  /** No answer by the deadline, or the connection lost after the first byte (98). */
  | "noAnswer"
  /** An approval whose MAC fails (A0). */
  | "badMac"
  /** A failure on the terminal after the host approved: chip AAC, no echo, garbled answer (06). */
  | "failedAfterApproval"
  /** Power came back: whatever was in flight is reversal-due. */
  | "boot"
  /** A 0400 attempt is written (the count is durable first). */
  | "attempt"
  /** A final 0410 with a good MAC. */
  | "accepted"
  /** The attempt got no final answer (none, a decline, a bad MAC): another attempt may follow. */
  | "unanswered"
  /** The episode's attempts are spent. */
  | "exhausted";

export type ReversalTransition = Transition<ReversalState, ReversalEvent>;

const t = (from: ReversalState, on: ReversalEvent, to: ReversalState): ReversalTransition => transition(from, on, to);

export const REVERSAL_TRANSITIONS: readonly ReversalTransition[] = Object.freeze([
  t("armed", "written", "sent"),
  t("armed", "noAnswer", "reversalDue"),
  t("armed", "boot", "reversalDue"),
  t("sent", "answer", "answered"),
  t("sent", "noAnswer", "reversalDue"),
  t("sent", "failedAfterApproval", "reversalDue"),
  t("sent", "boot", "reversalDue"),
  t("answered", "declined", "completed"),
  t("answered", "approved", "approved"),
  t("answered", "badMac", "reversalDue"),
  t("answered", "failedAfterApproval", "reversalDue"),
  t("answered", "boot", "reversalDue"),
  t("reversalDue", "attempt", "reversing"),
  t("reversalDue", "exhausted", "failed"),
  t("reversalDue", "boot", "reversalDue"),
  t("reversing", "accepted", "reversed"),
  t("reversing", "unanswered", "reversalDue"),
  t("reversing", "boot", "reversalDue"),
  t("failed", "attempt", "reversing"),
  t("failed", "boot", "failed"),
]);

/** The state `event` moves `from` to; a pair the table does not name is a bug. */
export function nextReversalState(from: ReversalState, event: ReversalEvent): ReversalState {
  return nextState(REVERSAL_TRANSITIONS, "reversal", from, event);
}

/** States in which the record is closed for good: no further event applies. */
export const REVERSAL_FINAL_STATES: readonly ReversalState[] = Object.freeze(["completed", "approved", "reversed"]);
