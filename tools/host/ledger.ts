/**
 * The host's ledger: the truth about money that terminal reversals are judged
 * against. Synchronous on purpose: the host core runs inside the scenario and
 * chaos runners on a virtual clock, where nothing may await.
 */

/** Financial transaction kinds the host books. Balance inquiries move no money and are not booked. */
export type TransactionKind = "sale" | "void" | "refund";

/** approved → reversed (0400) or voided (an approved void names it); declined never changes. */
export type TransactionState = "approved" | "declined" | "reversed" | "voided";

export interface TransactionRecord {
  readonly tid: string;
  readonly mid: string;
  /** 60.2, six digits. */
  readonly batch: string;
  /** F11, six digits. With tid and batch, the key of a transaction. */
  readonly stan: string;
  readonly mti: string;
  readonly kind: TransactionKind;
  /** Minor units (F4). */
  readonly amount: number;
  /** First 6 / last 4 only: the ledger never holds a full PAN. */
  readonly panMasked: string;
  /** UnionPay card (domestic totals in 0500 F48) or not (foreign totals). */
  readonly domestic: boolean;
  readonly responseCode: string;
  readonly authCode: string;
  readonly rrn: string;
  /** Voids: the sale they cancel (F61). Refunds: the sale they give money back for, when the host has it. */
  readonly originalBatch?: string;
  readonly originalStan?: string;
  readonly createdMs: number;
}

export interface StoredTransaction extends TransactionRecord {
  readonly state: TransactionState;
}

export type ReversalOutcome =
  /** An approval was undone now. */
  | "reversed"
  /** The same reversal came before: nothing changes, answer success. */
  | "repeat"
  /** The original exists but was never approved (or is already void): nothing to undo, answer success. */
  | "nothingToReverse"
  /** No such original: answer 25. */
  | "unknownOriginal";

export interface ReversalRequest {
  readonly tid: string;
  readonly batch: string;
  readonly stan: string;
  /** F39 of the 0400: why the terminal reverses (98, A0, 06, ...). */
  readonly reason: string;
  readonly nowMs: number;
}

export interface Totals {
  /** Sales (debits) standing approved: amount in minor units, count. */
  readonly debitAmount: number;
  readonly debitCount: number;
  /** Refunds (credits) standing approved. */
  readonly creditAmount: number;
  readonly creditCount: number;
}

export interface BatchTotals {
  readonly domestic: Totals;
  readonly foreign: Totals;
}

export interface SettlementRecord {
  readonly tid: string;
  readonly batch: string;
  readonly terminalTotals: BatchTotals;
  readonly hostTotals: BatchTotals;
  readonly balanced: boolean;
  readonly createdMs: number;
}

export interface BatchUploadRecord {
  readonly tid: string;
  readonly batch: string;
  readonly stan: string;
  /** 60.3 network management code (201, 203, 207, ...). */
  readonly networkCode: string;
  /** F48 as uploaded (hex); batch-upload records carry no PAN in clear. */
  readonly recordHex: string;
  readonly createdMs: number;
}

/** Per-terminal session state the host keeps across restarts. */
export interface TerminalSession {
  readonly tid: string;
  /** The open batch the host hands out at sign-on (60.2). */
  readonly batch: string;
  /** Working keys as sent in F62: encrypted under the TMK, never in clear. */
  readonly workingKeysUnderTmk: Uint8Array | undefined;
  /**
   * Keys of a sign-on nobody has proven yet (no mTLS identity, no MAC under them so far): the
   * current keys stay valid until a request MAC'd under these arrives (docs/host-simulator.md "Keys").
   */
  readonly pendingKeysUnderTmk?: Uint8Array | undefined;
  readonly signedOnMs: number;
}

export interface ReconcileView {
  readonly tid: string;
  /** Approved and neither reversed nor voided: the money the host will settle. */
  readonly approved: { count: number; amount: number; transactions: LedgerLine[] };
  readonly reversed: { count: number; amount: number; transactions: LedgerLine[] };
  /** Standing sales minus standing refunds, minor units. */
  readonly net: number;
  /** Reversals of originals the host never saw, and batches that settled unbalanced. */
  readonly unresolved: { batch: string; stan?: string; reason: "unknownOriginal" | "unbalancedSettlement" }[];
}

export interface LedgerLine {
  readonly batch: string;
  readonly stan: string;
  readonly kind: TransactionKind;
  readonly amount: number;
}

export interface Ledger {
  find(tid: string, batch: string, stan: string): StoredTransaction | undefined;
  /** The newest sale booked for `tid` with this STAN, in any batch: a refund may name its sale by STAN alone. */
  latestSale(tid: string, stan: string): StoredTransaction | undefined;
  /** Approved refunds booked against the sale `tid`/`batch`/`stan` (their originalBatch/originalStan), summed in minor units. */
  refundedAmount(tid: string, batch: string, stan: string): number;
  /** Books a transaction (approved or declined); an approved void also voids its original. False when the key exists already. */
  book(record: TransactionRecord): boolean;
  /** Idempotent by tid + batch + stan. */
  reverse(request: ReversalRequest): ReversalOutcome;
  totals(tid: string, batch: string): BatchTotals;
  settle(record: SettlementRecord): void;
  uploadBatchRecord(record: BatchUploadRecord): void;
  session(tid: string): TerminalSession | undefined;
  saveSession(session: TerminalSession): void;
  view(tid: string): ReconcileView;
  /**
   * Runs `work` as one unit: when it throws, none of its writes stay. The host core handles each
   * message inside one. Ledgers without it (the in-memory ones of the runners) run `work` as is.
   */
  atomically?<T>(work: () => T): T;
  close(): void;
}
