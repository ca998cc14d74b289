/**
 * What the terminal keeps across power: its journal and state record on one
 * emulated NOR flash, followed on the same chip by its firmware-update record
 * and A/B image slots (tools/scenario/update-hardware.ts) (the real FlashJournal and FlashStateStore of
 * modules/txn, as the scenario runner mounts them), the key store and the
 * calendar clock. A power cut can be armed at any flash erase/program, and
 * lands before, after or inside it (a torn write: a byte prefix plus a torn
 * byte, or some bits cleared and some left weak).
 *
 * Each boot mounts a fresh FlashJournal from the flash (recovery runs). The
 * oracle hears of each journal operation once it returned: a cut inside one
 * leaves its effect for recovery to decide, and the oracle judges the result.
 */
import { fromHex } from "../../modules/base/hex";
import { MemoryKeyStore } from "../../modules/crypto/key-store";
import { SecretKey, type WorkingKeys } from "../../modules/crypto/keys";
import { type FlashFaultKind, NorFlash, PowerCut } from "../../modules/emulators/nor-flash";
import { VirtualWallClock } from "../../modules/emulators/virtual-wall-clock";
import type { TerminalIdentity } from "../../modules/journal/format";
import type { Random } from "../../modules/platform/random";
import type { ApprovedRecord, TxnJournal } from "../../modules/txn/ports";
import type { Flash } from "../../modules/platform/flash";
import { FlashRegion } from "../../modules/txn/flash-region";
import { approvedList, ForwardingJournal } from "../scenario/forwarding-journal";
import { updateSectors } from "../scenario/update-hardware";

export type JournalOperation = "arm" | "complete" | "approve" | "reversalDue" | "reversed" | "failed";

/** Told of each journal operation once it returned (its effect is durable). */
export type JournalWatcher = (operation: JournalOperation, stan: string, record?: ApprovedRecord) => void;

/** The SM4 data-at-rest key that seals the PAN on flash (fixed, as a key-injection facility would load it). */
const DATA_KEY = fromHex("4A6F75726E616C446174614B65793031");
const JOURNAL_SECTORS = 8;
const STATE_SECTORS = 2;
/** The journal and the state record: the terminal's flash; the update part follows them. */
export const TERMINAL_SECTORS = JOURNAL_SECTORS + STATE_SECTORS;
const CUT_KINDS: readonly FlashFaultKind[] = Object.freeze(["cutBefore", "cutAfter", "cutInside", "tornBits"]);

/** The journal port as the engine sees it, telling the watcher what landed. */
class WatchedJournal extends ForwardingJournal {
  readonly watch: JournalWatcher;
  constructor(
    override readonly inner: TxnJournal,
    readonly storage: TerminalStorage,
  ) {
    super(inner);
    this.watch = storage.options.watch;
  }

  override arm(...args: Parameters<TxnJournal["arm"]>): void {
    this.inner.arm(...args);
    this.watch("arm", args[0].stan);
  }
  override complete(stan: string): void {
    this.inner.complete(stan);
    this.watch("complete", stan);
  }
  override approve(...args: Parameters<TxnJournal["approve"]>): void {
    this.inner.approve(...args);
    this.watch("approve", args[0].stan, args[0]);
  }
  override reversalDue(...args: Parameters<TxnJournal["reversalDue"]>): void {
    this.inner.reversalDue(...args);
    this.watch("reversalDue", args[0]);
  }
  override reversed(stan: string): void {
    this.inner.reversed(stan);
    this.watch("reversed", stan);
  }
  override failed(stan: string): void {
    this.inner.failed(stan);
    this.watch("failed", stan);
  }
  override recover(): number {
    const due = this.inner.recover();
    for (const record of this.inner.pending()) if (record.state === "reversalDue") this.watch("reversalDue", record.stan);
    // A cut inside closeBatch: whatever recovery no longer shows as open was settled.
    const closing = this.storage.closing;
    if (closing.length === 0) return due; // (the approved log is walked only when a batch was being closed)
    this.storage.closing = [];
    const open = new Set(approvedList(this.inner).map((r) => r.stan));
    this.storage.settled.push(...closing.filter((r) => !open.has(r.stan)));
    return due;
  }
  override closeBatch(batch: string): void {
    this.storage.closing = approvedList(this.inner)
      .filter((r) => r.batch === batch)
      .map(withoutPan);
    this.inner.closeBatch(batch);
    this.storage.settled.push(...this.storage.closing);
    this.storage.closing = [];
  }
}

/** The reconcile needs identity and amount: settled records are kept without the card. */
function withoutPan(r: ApprovedRecord): ApprovedRecord {
  return { ...r, pan: "", expiry: "" };
}

/** Key store that reports each new set of working keys (the PIN blocks under a new PIK become secrets to look for). */
export class WatchedKeyStore extends MemoryKeyStore {
  constructor(readonly onWorkingKeys: (keys: WorkingKeys) => void) {
    super();
  }
  override replaceWorkingKeys(keys: WorkingKeys): void {
    super.replaceWorkingKeys(keys);
    this.onWorkingKeys(keys);
  }
}

export interface TerminalStorageOptions {
  readonly seed: number;
  readonly identity: TerminalIdentity;
  readonly random: Random;
  readonly tmk: Uint8Array;
  /** Wall-clock milliseconds of virtual time (EPOCH + clock). */
  readonly nowMs: () => number;
  readonly watch: JournalWatcher;
  readonly onWorkingKeys: (keys: WorkingKeys) => void;
}

export class TerminalStorage {
  /** The whole chip: journal, state record, update record and image slots. */
  readonly flash: NorFlash;
  /** What the terminal mounts its journal and state record on. */
  readonly terminalFlash: Flash;
  readonly keys: WatchedKeyStore;
  readonly wall: VirtualWallClock;
  /** Approved records of closed batches (copies without the card), oldest first. */
  readonly settled: ApprovedRecord[] = [];
  /** A batch being closed, until its SETTLE record is known to be on flash. */
  closing: ApprovedRecord[] = [];
  #journal: WatchedJournal | undefined;
  /** SM4 data-at-rest key: seals the PAN in the journal. */
  readonly dataKey = new SecretKey("sm4", DATA_KEY);

  constructor(readonly options: TerminalStorageOptions) {
    this.flash = new NorFlash({ sectorCount: TERMINAL_SECTORS + updateSectors(4096), blockSize: 4096, seed: options.seed });
    this.terminalFlash = new FlashRegion(this.flash, 0, TERMINAL_SECTORS);
    this.keys = new WatchedKeyStore(options.onWorkingKeys);
    this.keys.saveMasterKey(new SecretKey("tdes", options.tmk));
    this.wall = new VirtualWallClock(options.nowMs);
  }

  /** Power comes back: the flash settles its weak bits (the terminal mounts a new journal at boot). */
  powerOn(): void {
    if (!this.flash.powered) this.flash.powerCycle();
  }

  /** The running boot's flash journal, watched for the oracle. */
  watch(journal: TxnJournal): TxnJournal {
    this.#journal = new WatchedJournal(journal, this);
    return this.#journal;
  }

  /** The journal of the running boot (what really is on flash, under any planted bug). */
  get journal(): Pick<TxnJournal, "pending" | "forEachApproved"> {
    return this.#journal ?? NO_JOURNAL;
  }

  /** Arms a cut at one of the next `within` flash operations; returns what was armed. */
  armCut(pick: <T>(items: readonly T[]) => T, offset: number): string {
    const kind = pick(CUT_KINDS);
    this.flash.schedule({ atOperation: this.flash.operations + offset, kind });
    return kind;
  }

  disarm(): void {
    this.flash.schedule(undefined);
  }

  cutPower(): void {
    if (this.flash.powered) this.flash.cutPower();
  }

  static isPowerCut(error: unknown): boolean {
    return error instanceof PowerCut;
  }
}

const NO_JOURNAL: Pick<TxnJournal, "pending" | "forEachApproved"> = Object.freeze({ pending: () => [], forEachApproved: () => undefined });
