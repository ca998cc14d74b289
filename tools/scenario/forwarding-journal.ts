/** The base of the journal decorators (settled-batch copies, the chaos oracle's watcher, planted bugs). */
import type { ApprovedRecord, ApprovedTotals, ReversalRecord, TxnJournal } from "../../modules/txn/ports";

/** The approved log as one array: tools on Node only (the firmware walks it with forEachApproved). */
export function approvedList(journal: Pick<TxnJournal, "forEachApproved">): ApprovedRecord[] {
  const records: ApprovedRecord[] = [];
  journal.forEachApproved((record) => {
    records.push(record);
  });
  return records;
}

/** A journal port that forwards every call; decorators override what they change. */
export class ForwardingJournal implements TxnJournal {
  constructor(readonly inner: TxnJournal) {}
  arm(...args: Parameters<TxnJournal["arm"]>): void {
    this.inner.arm(...args);
  }
  complete(stan: string): void {
    this.inner.complete(stan);
  }
  approve(...args: Parameters<TxnJournal["approve"]>): void {
    this.inner.approve(...args);
  }
  reversalDue(...args: Parameters<TxnJournal["reversalDue"]>): void {
    this.inner.reversalDue(...args);
  }
  attempt(stan: string): number {
    return this.inner.attempt(stan);
  }
  reversed(stan: string): void {
    this.inner.reversed(stan);
  }
  failed(stan: string): void {
    this.inner.failed(stan);
  }
  canArm(): boolean {
    return this.inner.canArm();
  }
  pending(): readonly ReversalRecord[] {
    return this.inner.pending();
  }
  approved(stan: string): ApprovedRecord | undefined {
    return this.inner.approved(stan);
  }
  approvedCount(): number {
    return this.inner.approvedCount();
  }
  forEachApproved(visit: Parameters<TxnJournal["forEachApproved"]>[0], afterStan?: string): void {
    this.inner.forEachApproved(visit, afterStan);
  }
  approvedTotals(): ApprovedTotals {
    return this.inner.approvedTotals();
  }
  recover(): number {
    return this.inner.recover();
  }
  closeBatch(batch: string): void {
    this.inner.closeBatch(batch);
  }
}
