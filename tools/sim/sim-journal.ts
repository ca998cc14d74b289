/**
 * The terminal's flash journal (modules/txn/flash-journal.ts over
 * modules/journal) with what the simulator shows beside it: the armed
 * records (the adapter keeps them private) and what settlement closed
 * during this run (for a headless run's reconcile). Nothing here reaches
 * flash; no PAN is kept, only its masked form.
 */
import { maskPan } from "../../modules/platform/log";
import { FlashJournal } from "../../modules/txn/flash-journal";
import type { ApprovedRecord, CardOnFile, ReversalReason, ReversalRecord } from "../../modules/txn/ports";

export interface ArmedView {
  readonly stan: string;
  readonly batch: string;
  readonly op: string;
  readonly amount: number;
  readonly panMasked: string;
}

/** Plain copies of closed records, without the PAN: identity and amount are all a reconcile needs. */
export type SettledRecord = Pick<ApprovedRecord, "stan" | "batch" | "op" | "amount" | "originalStan">;

const SETTLED_MAX = 10_000;

export class SimJournal extends FlashJournal {
  readonly #armed = new Map<string, ArmedView>();
  readonly settled: SettledRecord[] = [];

  override arm(record: ReversalRecord, card: CardOnFile): void {
    super.arm(record, card);
    this.#armed.set(record.stan, {
      stan: record.stan,
      batch: record.batch,
      op: record.op,
      amount: record.amount,
      panMasked: maskPan(card.pan),
    });
  }

  override complete(stan: string): void {
    super.complete(stan);
    this.#armed.delete(stan);
  }

  override approve(record: ApprovedRecord, unarmed?: ReversalRecord): void {
    super.approve(record, unarmed);
    this.#armed.delete(record.stan);
  }

  override reversalDue(stan: string, reason: ReversalReason, f55?: string, authCode?: string): void {
    super.reversalDue(stan, reason, f55, authCode);
    this.#armed.delete(stan);
  }

  override closeBatch(batch: string): void {
    const closing = this.approvedLog().filter((r) => r.batch === batch);
    super.closeBatch(batch);
    for (const r of closing) {
      if (this.settled.length >= SETTLED_MAX) this.settled.shift();
      this.settled.push({ stan: r.stan, batch: r.batch, op: r.op, amount: r.amount, originalStan: r.originalStan });
    }
  }

  /** Requests armed and not yet answered, oldest first. */
  armed(): readonly ArmedView[] {
    return [...this.#armed.values()];
  }
}
