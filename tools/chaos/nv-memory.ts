/**
 * The terminal's non-volatile memory for chaos runs: journal, state record and
 * key store, which survive a power cut because the run keeps these objects
 * across boots. Every mutating call is one numbered "NV operation", and a cut
 * can be armed at any of them, before or after its effect lands: the journal
 * ports are atomic, so these are the two outcomes a cut can have at the port.
 * (Torn writes inside an operation need the flash journal on
 * modules/emulators/nor-flash.ts; see docs/chaos.md.)
 */
import { MemoryKeyStore } from "../../modules/crypto/key-store";
import type { WorkingKeys } from "../../modules/crypto/keys";
import { MemoryJournal, MemoryStateStore } from "../../modules/txn/memory-journal";
import type { ApprovedRecord, ReversalRecord, TerminalState, TerminalStateStore, TxnJournal } from "../../modules/txn/ports";

/** Thrown from an NV operation when the armed cut fires: the terminal loses power there. */
export class NvPowerCut extends Error {
  override readonly name = "NvPowerCut";
  constructor(
    readonly operation: number,
    readonly when: "before" | "after",
  ) {
    super(`power cut ${when} NV operation ${operation}`);
  }
}

export interface ArmedCut {
  readonly atOperation: number;
  readonly when: "before" | "after";
}

/** Counts NV operations and fires the armed cut. */
export class NvCounter {
  operations = 0;
  #armed: ArmedCut | undefined;
  #powered = true;

  arm(cut: ArmedCut | undefined): void {
    this.#armed = cut;
  }

  get armed(): ArmedCut | undefined {
    return this.#armed;
  }

  powerOn(): void {
    this.#powered = true;
  }

  /** Runs `effect` as one NV operation, cut before or after it when armed. */
  run<T>(effect: () => T): T {
    if (!this.#powered) throw new NvPowerCut(this.operations, "before");
    const index = this.operations++;
    const cut = this.#armed?.atOperation === index ? this.#armed : undefined;
    if (cut?.when === "before") this.#fire(cut);
    const result = effect();
    if (cut?.when === "after") this.#fire(cut);
    return result;
  }

  #fire(cut: ArmedCut): never {
    this.#armed = undefined;
    this.#powered = false;
    throw new NvPowerCut(cut.atOperation, cut.when);
  }
}

export type JournalOperation = "arm" | "complete" | "approve" | "reversalDue" | "reversed" | "failed";

/** Told of each journal operation once its effect has landed (before a cut "after" it fires). */
export type JournalWatcher = (operation: JournalOperation, stan: string, record?: ApprovedRecord) => void;

/** The MemoryJournal behind an NV counter, keeping what settlement closed for the ledger check. */
export class NvJournal implements TxnJournal {
  readonly memory = new MemoryJournal();
  /** The memory journal seen through the port (its methods may take fewer arguments). */
  readonly #port: TxnJournal = this.memory;
  /** Approved records of closed batches, oldest first. */
  readonly settled: ApprovedRecord[] = [];

  constructor(
    readonly nv: NvCounter,
    readonly watch: JournalWatcher,
  ) {}

  arm(...args: Parameters<TxnJournal["arm"]>): void {
    this.nv.run(() => {
      this.#port.arm(...args);
      this.watch("arm", args[0].stan);
    });
  }
  complete(stan: string): void {
    this.#run("complete", stan, () => this.memory.complete(stan));
  }
  approve(...args: Parameters<TxnJournal["approve"]>): void {
    this.nv.run(() => {
      this.#port.approve(...args);
      this.watch("approve", args[0].stan, args[0]);
    });
  }
  reversalDue(...args: Parameters<TxnJournal["reversalDue"]>): void {
    this.#run("reversalDue", args[0], () => this.#port.reversalDue(...args));
  }
  reversed(stan: string): void {
    this.#run("reversed", stan, () => this.memory.reversed(stan));
  }
  failed(stan: string): void {
    this.#run("failed", stan, () => this.memory.failed(stan));
  }
  #run(operation: JournalOperation, stan: string, effect: () => void): void {
    this.nv.run(() => {
      effect();
      this.watch(operation, stan);
    });
  }
  pending(): readonly ReversalRecord[] {
    return this.memory.pending();
  }
  approvedLog(): readonly ApprovedRecord[] {
    return this.memory.approvedLog();
  }
  recover(): number {
    return this.nv.run(() => {
      const due = this.memory.recover();
      for (const record of this.memory.pending()) if (record.state === "reversalDue") this.watch("reversalDue", record.stan);
      return due;
    });
  }
  closeBatch(batch: string): void {
    this.nv.run(() => {
      for (const record of this.memory.approvedLog()) if (record.batch === batch) this.settled.push(record);
      this.memory.closeBatch(batch);
    });
  }
}

export class NvStateStore implements TerminalStateStore {
  readonly #memory = new MemoryStateStore();
  constructor(readonly nv: NvCounter) {}

  load(): TerminalState | undefined {
    return this.#memory.load();
  }
  save(state: TerminalState): void {
    this.nv.run(() => this.#memory.save(state));
  }
}

/** Key store that reports each new set of working keys (to derive the PIN blocks to look for). */
export class WatchedKeyStore extends MemoryKeyStore {
  constructor(readonly onWorkingKeys: (keys: WorkingKeys) => void) {
    super();
  }
  override replaceWorkingKeys(keys: WorkingKeys): void {
    super.replaceWorkingKeys(keys);
    this.onWorkingKeys(keys);
  }
}
