/**
 * The engine's journal and state store held in RAM: what the engine suites
 * (Node and XS) and the scenario runner use where no flash is involved. It
 * survives an emulated power cut because the runner keeps the object across
 * boots, as flash would; the flash journal (modules/journal) replaces it on
 * the device. Same rules: bounded, no deletion of an unresolved record.
 */
import { assert } from "../base/assert";
import type { ApprovedRecord, ReversalReason, ReversalRecord, TerminalState, TerminalStateStore, TxnJournal } from "./ports";

const RECORDS_MAX = 512;

export class MemoryJournal implements TxnJournal {
  readonly #reversals: ReversalRecord[] = [];
  readonly #approved: ApprovedRecord[] = [];

  arm(record: ReversalRecord): void {
    assert(record.state === "armed", "MemoryJournal.arm: the record must be armed");
    assert(this.#find(record.stan) === undefined, "MemoryJournal.arm: STAN already armed");
    assert(this.#reversals.length < RECORDS_MAX, "MemoryJournal: too many reversal records");
    this.#reversals.push(record);
  }

  complete(stan: string): void {
    this.#remove(stan, "armed");
  }

  approve(record: ApprovedRecord): void {
    assert(this.#approved.length < RECORDS_MAX, "MemoryJournal: approved log full");
    const index = this.#reversals.findIndex((r) => r.stan === record.stan);
    if (index >= 0) {
      assert(this.#reversals[index].state === "armed", "MemoryJournal.approve: a reversal-due record cannot be approved");
      this.#reversals.splice(index, 1);
    }
    this.#approved.push(record);
  }

  reversalDue(stan: string, reason: ReversalReason, f55?: string, authCode?: string): void {
    const record = this.#find(stan);
    assert(record !== undefined, `MemoryJournal.reversalDue: no record for STAN ${stan}`);
    const fields = { ...record.fields };
    if (f55 !== undefined) fields[55] = f55;
    if (authCode !== undefined) fields[38] = authCode;
    this.#replace({ ...record, fields, state: "reversalDue", reason });
  }

  reversed(stan: string): void {
    const record = this.#find(stan);
    assert(record !== undefined && record.state !== "armed", `MemoryJournal.reversed: STAN ${stan} is not reversal-due`);
    this.#remove(stan, record.state);
  }

  failed(stan: string): void {
    const record = this.#find(stan);
    assert(record !== undefined && record.state !== "armed", `MemoryJournal.failed: STAN ${stan} is not reversal-due`);
    this.#replace({ ...record, state: "failed" });
  }

  pending(): readonly ReversalRecord[] {
    return this.#reversals.filter((r) => r.state !== "armed");
  }

  /** Every record, armed ones included (inspection and tests). */
  records(): readonly ReversalRecord[] {
    return this.#reversals.slice();
  }

  approvedLog(): readonly ApprovedRecord[] {
    return this.#approved.slice();
  }

  recover(): number {
    for (const record of this.#reversals) if (record.state === "armed") this.#replace({ ...record, state: "reversalDue", reason: "98" });
    return this.#reversals.filter((r) => r.state === "reversalDue").length;
  }

  closeBatch(batch: string): void {
    for (let i = this.#approved.length - 1; i >= 0; i--) if (this.#approved[i].batch === batch) this.#approved.splice(i, 1);
  }

  #find(stan: string): ReversalRecord | undefined {
    return this.#reversals.find((r) => r.stan === stan);
  }

  #replace(record: ReversalRecord): void {
    const index = this.#reversals.findIndex((r) => r.stan === record.stan);
    this.#reversals[index] = record;
  }

  #remove(stan: string, state: ReversalRecord["state"]): void {
    const index = this.#reversals.findIndex((r) => r.stan === stan);
    assert(index >= 0 && this.#reversals[index].state === state, `MemoryJournal: no ${state} record for STAN ${stan}`);
    this.#reversals.splice(index, 1);
  }
}

export class MemoryStateStore implements TerminalStateStore {
  #state: TerminalState | undefined;

  load(): TerminalState | undefined {
    return this.#state;
  }

  save(state: TerminalState): void {
    this.#state = state;
  }
}
