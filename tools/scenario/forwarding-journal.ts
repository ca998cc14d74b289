/** The base of the journal decorators (settled-batch copies, the chaos oracle's watcher, planted bugs). */
import type { ApprovedRecord, ReversalRecord, TxnJournal } from "../../modules/txn/ports";

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
  approvedLog(): readonly ApprovedRecord[] {
    return this.inner.approvedLog();
  }
  recover(): number {
    return this.inner.recover();
  }
  closeBatch(batch: string): void {
    this.inner.closeBatch(batch);
  }
}
