/**
 * What the transaction engine needs from the rest of the terminal, as small
 * interfaces. The journal (modules/journal on flash), the card readers
 * (modules/card) and the persisted terminal state plug in here; tests and the
 * scenario runner plug in emulated ones.
 */
import type { IsoFields } from "../iso8583/codec";

import type { ReversalReason } from "../journal/record";
import type { BatchTotals } from "./events";

export type { ReversalReason };
export type FinancialOp = "sale" | "void" | "refund";

/**
 * What a reversal needs, saved before the request's first byte is written.
 * Field rules of the 0400 (docs/cup-dialect.md): no track
 * data, no PIN block, no F26/F37/F53; F2 only for chip/contactless cards.
 */
export interface ReversalRecord {
  readonly stan: string;
  readonly batch: string;
  /** Sale, void or refund: every financial request is armed before its first byte and reversed with a 0400. */
  readonly op: FinancialOp;
  readonly amount: number;
  /** The original request's fields the 0400 repeats (F11 included: the same STAN). */
  readonly fields: IsoFields;
  readonly state: "armed" | "reversalDue" | "failed";
  readonly reason?: ReversalReason;
  /** Reversal attempts made so far, as the journal persisted them (`attempt`); absent: none counted. */
  readonly attempts?: number;
}

/** An approved financial transaction in the current batch (terminal log). */
export interface ApprovedRecord {
  readonly stan: string;
  readonly batch: string;
  readonly op: FinancialOp;
  readonly amount: number;
  readonly panMasked: string;
  /** Full PAN and expiry, for a void: the flash journal keeps them encrypted (AEAD), never in clear. */
  readonly pan: string;
  readonly expiry: string;
  readonly domestic: boolean;
  readonly authCode: string;
  readonly rrn: string;
  /** Voids and refunds: the STAN of the original sale. */
  readonly originalStan?: string;
}

/**
 * The approved log's totals per card origin (F48 of the 0500 carries both): sales net of their voids (a
 * voided sale no longer counts as a sale), voids counted on their own, refunds. A void carries its sale's
 * card, so the two origins add up to the whole log's totals.
 */
export interface ApprovedTotals {
  readonly domestic: BatchTotals;
  readonly foreign: BatchTotals;
}

/** The card of a journal record: kept for a later void, the PAN sealed on flash, never in clear. */
export interface CardOnFile {
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly domestic: boolean;
}

export interface TxnJournal {
  /**
   * Room for one more transaction record and everything it may need until it is resolved (its
   * REVERSAL, the batch's SETTLE), and fewer unresolved reversals than the journal's limit. Asked
   * before a sale, void or refund connects: false refuses the operation with nothing sent, so `arm`
   * never fails for room inside the link's write callback.
   */
  canArm(): boolean;
  /** Durable when it returns: the reversal exists before any byte can leave. */
  arm(record: ReversalRecord, card: CardOnFile): void;
  /** The host's answer needs no reversal (declined): the armed record closes. */
  complete(stan: string): void;
  /** One atomic step: the armed record (sale, void or refund) closes and the approval is logged. */
  approve(record: ApprovedRecord): void;
  /** `f55`: refreshed after the second GENERATE AC (06); `authCode`: F38 of an approval being reversed. */
  reversalDue(stan: string, reason: ReversalReason, f55?: string, authCode?: string): void;
  /**
   * Before each 0400 is sent: the attempt is durable when it returns; returns the attempts so far. Kept
   * on flash so that a reboot mid-episode continues the count instead of granting a fresh set of
   * attempts.
   */
  attempt(stan: string): number;
  reversed(stan: string): void;
  /** 冲正失败: attempts exhausted; kept, never deleted silently. */
  failed(stan: string): void;
  /** Records still needing a reversal (reversal-due and failed), oldest first. */
  pending(): readonly ReversalRecord[];
  /**
   * The approved log (approved, not yet settled) is read on demand, never held as objects: a full batch
   * does not fit the device's heap that way (docs/device.md). The record with this STAN, or undefined.
   */
  approved(stan: string): ApprovedRecord | undefined;
  /** Records in the approved log, without reading them. */
  approvedCount(): number;
  /**
   * Visits the approved log oldest first (`index` from 0), each record read as it goes; `visit` returning
   * false stops the walk. A record kept past its visit stays valid while it is in the log (its PAN opens on demand).
   * `afterStan`: the walk starts after that approved record (which must be in the log), reading nothing before it.
   */
  forEachApproved(visit: (record: ApprovedRecord, index: number) => unknown, afterStan?: string): void;
  /** The approved log's totals, kept as running numbers: asked before every sale and at settlement. */
  approvedTotals(): ApprovedTotals;
  /** Boot: every armed record becomes reversal-due (98). Returns how many records need a reversal (reversal-due and 冲正失败). */
  recover(): number;
  /** After settlement: the approved log of `batch` is closed. */
  closeBatch(batch: string): void;
}

/** The terminal's calendar clock (an RTC on the device): journal time stamps, EMV 9A. */
export interface WallClock {
  /** Milliseconds since 1970 (UTC). */
  nowMs(): number;
  set(ms: number): void;
}

/** Settlement survives a reboot at any point: where it stopped. */
export interface SettlementProgress {
  readonly batch: string;
  readonly phase: "upload" | "end";
  /** Index of the next record to upload among the approved log's records that are not voids (`forEachApproved` order). */
  readonly next: number;
}

export interface TerminalState {
  /** Next STAN to use: made durable before the STAN is used, so none is reused after a cut. */
  readonly stanNext: number;
  readonly batch: string;
  readonly signedOn: boolean;
  readonly settlement?: SettlementProgress;
}

export interface TerminalStateStore {
  load(): TerminalState | undefined;
  /** Durable when it returns. */
  save(state: TerminalState): void;
}

/** A card as the readers deliver it. Track data and PIN never reach the journal. */
export interface PresentedCard {
  /** F22: 021 swipe, 051 contact chip, 071 contactless. */
  readonly entryMode: string;
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  /** Track 2 equivalent as nibbles (`D` separator), swipe only. */
  readonly track2?: string;
  /** F23 card sequence number, chip only. */
  readonly cardSequence?: string;
  /** F55 of the first GENERATE AC (hex), chip only. */
  readonly f55?: string;
  /** UnionPay (domestic totals) or not. */
  readonly domestic: boolean;
  /**
   * Chip only: the second GENERATE AC with the host's answer. `accepted`
   * false is an AAC after an approval: reversal reason 06 with `f55` refreshed.
   */
  completeChip?(f39: string, issuerData: string | undefined): { readonly accepted: boolean; readonly f55: string };
}
