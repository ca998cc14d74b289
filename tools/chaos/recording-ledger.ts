/**
 * The host ledger behind a recorder: every booked key in order, and every
 * reversal with its outcome, so the oracle can ask what the host did (and how
 * many times) without reaching into the ledger's storage.
 */
import type {
  BatchTotals,
  BatchUploadRecord,
  Ledger,
  ReconcileView,
  ReversalOutcome,
  ReversalRequest,
  SettlementRecord,
  StoredTransaction,
  TerminalSession,
  TransactionRecord,
} from "../host/ledger";

export interface HostReversal {
  readonly batch: string;
  readonly stan: string;
  readonly outcome: ReversalOutcome;
  readonly nowMs: number;
}

export class RecordingLedger implements Ledger {
  /** Keys (tid/batch/stan) of every booked transaction, in booking order. */
  readonly booked: { readonly tid: string; readonly batch: string; readonly stan: string }[] = [];
  readonly reversals: HostReversal[] = [];
  /** Undoing effects per key (outcome "reversed"): more than one is a double effect. */
  readonly effects = new Map<string, number>();

  constructor(readonly inner: Ledger) {}

  find(tid: string, batch: string, stan: string): StoredTransaction | undefined {
    return this.inner.find(tid, batch, stan);
  }
  latestSale(tid: string, stan: string): StoredTransaction | undefined {
    return this.inner.latestSale(tid, stan);
  }
  refundedAmount(tid: string, batch: string, stan: string): number {
    return this.inner.refundedAmount(tid, batch, stan);
  }
  book(record: TransactionRecord): boolean {
    const booked = this.inner.book(record);
    if (booked) this.booked.push({ tid: record.tid, batch: record.batch, stan: record.stan });
    return booked;
  }
  reverse(request: ReversalRequest): ReversalOutcome {
    const outcome = this.inner.reverse(request);
    this.reversals.push({ batch: request.batch, stan: request.stan, outcome, nowMs: request.nowMs });
    if (outcome === "reversed") {
      const key = `${request.batch}/${request.stan}`;
      this.effects.set(key, (this.effects.get(key) ?? 0) + 1);
    }
    return outcome;
  }
  totals(tid: string, batch: string): BatchTotals {
    return this.inner.totals(tid, batch);
  }
  settle(record: SettlementRecord): void {
    this.inner.settle(record);
  }
  uploadBatchRecord(record: BatchUploadRecord): void {
    this.inner.uploadBatchRecord(record);
  }
  session(tid: string): TerminalSession | undefined {
    return this.inner.session(tid);
  }
  saveSession(session: TerminalSession): void {
    this.inner.saveSession(session);
  }
  view(tid: string): ReconcileView {
    return this.inner.view(tid);
  }
  close(): void {
    this.inner.close();
  }

  /** Every booked transaction as it stands now. */
  transactions(): StoredTransaction[] {
    return this.booked.map((k) => this.inner.find(k.tid, k.batch, k.stan)).filter((t): t is StoredTransaction => t !== undefined);
  }
}
