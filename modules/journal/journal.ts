/**
 * The reversal journal on raw NOR flash (docs/journal-format.md). Every call
 * returns only once its effect is durable: written, read back and compared.
 * `Journal.open` runs recovery: after it, every armed record without a final
 * state is reversal-due. A flash failure or power cut inside a call closes the
 * journal; reopen it (recovery is idempotent).
 */
import { assert, assertInteger } from "../base/assert";
import { crc32 } from "../base/crc32";
import type { Flash } from "../platform/flash";
import type { Random } from "../platform/random";
import {
  JournalClosedError,
  JournalFormatError,
  JournalFullError,
  JournalInputError,
  JournalStateError,
  JournalWriteError,
} from "./errors";
import {
  type ApprovalState,
  ATTEMPTS_MAX,
  BODY_BYTES,
  BODY_CRC_OFFSET,
  checkIdentity,
  classifySlot,
  decodeApproval,
  decodeHeader,
  encodeApproval,
  encodeHeader,
  GROUP_BYTES,
  GROUP_OFFSET,
  hasRecordMagic,
  HEADER_BODY_BYTES,
  HEADER_MAGIC,
  isAll,
  type Kind,
  KIND_REVERSAL,
  KIND_SETTLE,
  KIND_TXN,
  markerSet,
  NONCE_BYTES,
  PAYLOAD_OFFSET,
  readU32,
  RETIRING_OFFSET,
  sameIdentity,
  SEALED_OFFSET,
  sealBody,
  type SectorHeader,
  SLOT_BYTES,
  slotKind,
  type TerminalIdentity,
  WORD_A_OFFSET,
  writePanAad,
  writePanNonce,
  writeU32,
} from "./format";
import {
  decodeReversal,
  decodeTransaction,
  encodeReversal,
  encodeSettle,
  encodeTransaction,
  panFromBcd,
  panToBcd,
  type PanCipher,
  type ReversalData,
  type ReversalReason,
  reversalTarget,
  settleBatch,
  type StoredTransaction,
  type TransactionData,
  transactionBatch,
} from "./record";

export type AlarmKind = "damaged" | "misplaced" | "orphan" | "approval-unreadable" | "torn-tail" | "write-verify" | "audit";

/** Something the format could not repair: the engine must surface it and force reconciliation. */
export interface JournalAlarm {
  readonly kind: AlarmKind;
  /** The record's seq when it could be read. */
  readonly seq?: number;
  readonly sector: number;
  readonly slot: number;
}

export interface JournalOptions {
  readonly flash: Flash;
  readonly cipher: PanCipher;
  /** Draws the partition epoch at first format (nonce material). */
  readonly random: Random;
  readonly identity: TerminalIdentity;
  /** Unresolved reversals (armed + reversal-due) allowed before `arm` refuses; default 8. */
  readonly reversalsPendingMax?: number;
  readonly onAlarm?: (alarm: JournalAlarm) => void;
}

export type RecordState = "armed" | "reversalDue" | "approved" | "settled" | "closed";

export interface PendingReversal {
  readonly seq: number;
  readonly txn: StoredTransaction;
  readonly identity: TerminalIdentity;
  readonly reason: ReversalReason;
  /** F38 received before the reversal became due (reason 06). */
  readonly authCode?: string;
  /** Refreshed F55 TLV; absent: build it from `txn.emv` and the identity's 9F1E. */
  readonly f55?: Uint8Array;
  /** Attempts made so far (each `attempt` before a 0400 was sent). */
  readonly attempts: number;
  /** 冲正失败 recorded: attempts were exhausted once; still to be retried. */
  readonly failed: boolean;
}

export interface ApprovedTransaction {
  readonly seq: number;
  readonly txn: StoredTransaction;
  readonly authCode: string;
  readonly rrn: string;
}

export interface JournalCounts {
  readonly liveRecords: number;
  readonly capacity: number;
  readonly sectors: number;
  readonly slotsPerSector: number;
}

interface Entry {
  readonly seq: number;
  readonly kind: Kind;
  /** Every stored copy, as sector * 256 + slot; `primary` is the newest sector's. */
  readonly locs: number[];
  primary: number;
  closed: boolean;
  failed: boolean;
  /** REVERSAL: attempts (carried base + bitmap). */
  attempts: number;
  approval: ApprovalState;
  /** TXN and SETTLE: batch number. */
  batch: number;
  /** REVERSAL: target TXN seq. */
  target: number;
  /** TXN: seq of its current REVERSAL, or -1. */
  reversal: number;
  /** TXN found armed at boot: reversal-due (98) before its REVERSAL record is written by the first call that needs it. */
  dueAtBoot: boolean;
  /** CRC-32 of the payload of the first copy folded at boot (-1 before): every copy of a seq carries the same payload. */
  payloadCheck: number;
}

interface SectorInfo {
  header: SectorHeader | undefined;
  sealed: boolean;
  retiring: boolean;
  /** First slot after the last non-blank one (1 when only the header is there). */
  used: number;
}

const ALARMS_MAX = 256;
const WRITE_TRIES = 3;
const REVERSALS_PENDING_DEFAULT = 8;
const DAMAGED_SEQ_SLACK = 4096;
/** An arm takes its TXN, a REVERSAL it may need, and room for a SETTLE and a boot burn. */
const ARM_RESERVE = 4;
const SLACK_SLOTS = 3;
const ZERO_WORDS = new Uint8Array(GROUP_BYTES);
const NONE: ApprovalState = Object.freeze({ state: "none" });

export class Journal {
  readonly alarms: JournalAlarm[] = [];
  readonly #flash: Flash;
  readonly #cipher: PanCipher;
  readonly #random: Random;
  readonly #options: JournalOptions;
  readonly #sectorCount: number;
  readonly #slotsPerSector: number;
  readonly #sectors: SectorInfo[] = [];
  readonly #entries = new Map<number, Entry>();
  readonly #settleMax = new Map<number, number>();
  readonly #slot = new Uint8Array(SLOT_BYTES);
  readonly #check = new Uint8Array(SLOT_BYTES);
  readonly #word = new Uint8Array(GROUP_BYTES);
  #identity: TerminalIdentity;
  #epoch = 0;
  #nextSeq = 1;
  #active = -1;
  #closed = false;

  private constructor(options: JournalOptions) {
    checkIdentity(options.identity);
    const flash = options.flash;
    assert(flash.blockSize % SLOT_BYTES === 0 && flash.blockSize >= 4 * SLOT_BYTES, "blockSize must hold a header and 3 slots");
    assert(flash.byteLength % flash.blockSize === 0, "partition must be whole sectors");
    this.#sectorCount = flash.byteLength / flash.blockSize;
    assertInteger(this.#sectorCount, 3, 64, "sector count");
    this.#slotsPerSector = flash.blockSize / SLOT_BYTES;
    assert(this.#slotsPerSector <= 256, "at most 256 slots per sector");
    this.#flash = flash;
    this.#cipher = options.cipher;
    this.#random = options.random;
    this.#options = options;
    this.#identity = options.identity;
  }

  /** Mounts the partition: recovery (docs §7), then the journal is ready. */
  static open(options: JournalOptions): Journal {
    const journal = new Journal(options);
    journal.#guard(() => journal.#recover());
    return journal;
  }

  // ---------------------------------------------------------------- API

  /** Write-ahead record for a request about to be sent; returns its seq once durable. */
  arm(txn: TransactionData, pan?: string): number {
    return this.#guard(() => {
      const live = this.#liveLoad();
      const capacity = this.#capacity();
      if (live + ARM_RESERVE > capacity) throw new JournalFullError(live, capacity, "journal full: settle or resolve reversals first");
      const pending = this.#countTxn((e) => this.#state(e) === "armed" || this.#state(e) === "reversalDue");
      const pendingMax = this.#options.reversalsPendingMax ?? REVERSALS_PENDING_DEFAULT;
      if (pending >= pendingMax) throw new JournalFullError(pending, pendingMax, "too many unresolved reversals");
      if (!sameIdentity(this.#identity, this.#options.identity)) {
        if (live > 0) throw new JournalStateError(0, "identity", "terminal identity changed while records are live: settle first");
        this.#identity = this.#options.identity;
        this.#rotate();
      }
      const seq = this.#nextSeq;
      const plain = pan === undefined ? undefined : panToBcd(pan);
      const sealed = plain === undefined ? new Uint8Array(0) : this.#cipher.seal(this.#nonce(seq), plain, this.#aad(KIND_TXN, seq));
      if (plain !== undefined) plain.fill(0);
      this.#slot.fill(0xff);
      encodeTransaction(txn, sealed, this.#slot);
      const payload = this.#slot.slice(PAYLOAD_OFFSET, BODY_CRC_OFFSET);
      this.#nextSeq++;
      const loc = this.#append(KIND_TXN, seq, (slot) => slot.set(payload, PAYLOAD_OFFSET));
      this.#add(this.#newEntry(seq, KIND_TXN, loc, { batch: Number(txn.batch) }));
      return seq;
    });
  }

  /** The answer needs no reversal and is not an approval (a clean decline, a balance inquiry). */
  complete(seq: number): void {
    this.#guard(() => {
      const entry = this.#txn(seq, "armed");
      this.#setMarker(entry, WORD_A_OFFSET);
      entry.closed = true;
    });
  }

  /** One atomic step: the reversal is cleared and the transaction enters the approved log. */
  approve(seq: number, authCode: string, rrn: string): void {
    this.#guard(() => {
      const entry = this.#txn(seq, "armed");
      encodeApproval(seq, authCode, rrn, this.#word);
      const group = this.#readSlot(entry.primary).subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES);
      // A stray write spoiled the empty group: move the record to a fresh slot rather than program over it.
      if (!isAll(group, 0, GROUP_BYTES, 0xff)) {
        this.#alarm({ kind: "audit", seq, sector: entry.primary >> 8, slot: entry.primary & 0xff });
        this.#copyForward(entry);
        encodeApproval(seq, authCode, rrn, this.#word);
      }
      this.#programChecked(this.#offset(entry.primary) + GROUP_OFFSET, this.#word, GROUP_BYTES);
      entry.approval = decodeApproval(seq, this.#word);
    });
  }

  /** The request must be reversed (98 no answer, A0 bad MAC, 06 other); replaces reason and data of an earlier call. */
  reversalDue(seq: number, reason: ReversalReason, data: { readonly f55?: Uint8Array; readonly authCode?: string } = {}): void {
    this.#guard(() => {
      const entry = this.#txn(seq);
      const state = this.#state(entry);
      if (state !== "armed" && state !== "reversalDue") throw new JournalStateError(seq, state, `record ${seq} is ${state}, not armed`);
      const previous = entry.reversal >= 0 ? this.#entries.get(entry.reversal) : undefined;
      this.#writeReversal(entry, { target: seq, reason, attemptsBase: previous?.attempts ?? 0, ...data });
    });
  }

  /** Called before each 0400 is sent: persists the attempt; returns the attempts so far. */
  attempt(seq: number): number {
    return this.#guard(() => {
      const reversal = this.#currentReversal(seq);
      if (reversal.attempts >= ATTEMPTS_MAX) return reversal.attempts;
      const base = this.#readSlot(reversal.primary)[PAYLOAD_OFFSET + 6];
      const bit = reversal.attempts - base;
      assert(bit >= 0 && bit < ATTEMPTS_MAX, "attempt bitmap out of step");
      const wordOffset = GROUP_OFFSET + 4 * (bit >> 5);
      const current = readU32(this.#readSlot(reversal.primary), wordOffset);
      writeU32(this.#word, 0, (current & ~(1 << (bit & 31))) >>> 0);
      this.#programChecked(this.#offset(reversal.primary) + wordOffset, this.#word, 4);
      reversal.attempts++;
      return reversal.attempts;
    });
  }

  /** 冲正失败: attempts exhausted for now. The record stays reversal-due. */
  failed(seq: number): void {
    this.#guard(() => {
      const reversal = this.#currentReversal(seq);
      this.#setMarker(reversal, WORD_A_OFFSET);
      reversal.failed = true;
    });
  }

  /** The host acknowledged the reversal (a 0410 that passed the checks). */
  reversed(seq: number): void {
    this.#guard(() => {
      const entry = this.#txn(seq, "reversalDue");
      this.#setMarker(entry, WORD_A_OFFSET);
      entry.closed = true;
    });
  }

  /** Settlement done: the approved log of `batch` is cleared. */
  settle(batch: string): void {
    this.#guard(() => {
      // A SETTLE covers every approval of the batch with a smaller seq: an armed one could still be approved after it.
      for (const e of this.#entries.values())
        if (e.kind === KIND_TXN && e.batch === Number(batch) && this.#state(e) === "armed")
          throw new JournalStateError(e.seq, "armed", `record ${e.seq} of batch ${batch} is still armed: resolve it before settling`);
      const seq = this.#nextSeq;
      this.#slot.fill(0xff);
      encodeSettle(batch, this.#slot);
      const payload = this.#slot.slice(PAYLOAD_OFFSET, BODY_CRC_OFFSET);
      this.#nextSeq++;
      const loc = this.#append(KIND_SETTLE, seq, (slot) => slot.set(payload, PAYLOAD_OFFSET));
      this.#add(this.#newEntry(seq, KIND_SETTLE, loc, { batch: Number(batch) }));
    });
  }

  /** Every record still needing a reversal, oldest first. */
  pendingReversals(): PendingReversal[] {
    this.#checkOpen();
    const out: PendingReversal[] = [];
    for (const entry of this.#sortedTxns()) {
      if (this.#state(entry) !== "reversalDue") continue;
      const reversal = entry.reversal >= 0 ? this.#entries.get(entry.reversal) : undefined;
      const data: Pick<ReversalData, "reason" | "authCode" | "f55"> =
        reversal === undefined ? { reason: "98" } : decodeReversal(this.#readSlot(reversal.primary));
      out.push({
        seq: entry.seq,
        txn: decodeTransaction(this.#readSlot(entry.primary)).txn,
        identity: this.#identityOf(entry),
        reason: data.reason,
        ...(data.authCode !== undefined ? { authCode: data.authCode } : {}),
        ...(data.f55 !== undefined ? { f55: data.f55 } : {}),
        attempts: reversal?.attempts ?? 0,
        failed: reversal?.failed ?? false,
      });
    }
    return out;
  }

  /**
   * Approved, unsettled transactions (optionally of one batch), oldest first, as one array: tools and tests.
   * The firmware streams with `forEachApproved`, since a full batch does not fit the heap as objects.
   */
  approvedLog(batch?: string): ApprovedTransaction[] {
    const out: ApprovedTransaction[] = [];
    this.forEachApproved((approved) => {
      out.push(approved);
    }, batch);
    return out;
  }

  /**
   * Visits the approved, unsettled transactions (optionally of one batch), oldest first, reading each
   * from flash as it goes: nothing per record stays in RAM. `visit` returning false stops the walk.
   */
  forEachApproved(visit: (approved: ApprovedTransaction) => boolean | void, batch?: string): void {
    this.#checkOpen();
    for (const entry of this.#sortedTxns()) {
      if (this.#state(entry) !== "approved" || (batch !== undefined && entry.batch !== Number(batch))) continue;
      const approval = entry.approval;
      assert(approval.state === "approved", "approved entry without approval");
      const approved = {
        seq: entry.seq,
        txn: decodeTransaction(this.#readSlot(entry.primary)).txn,
        authCode: approval.authCode,
        rrn: approval.rrn,
      };
      if (visit(approved) === false) return;
    }
  }

  /** Approved, unsettled transactions (optionally of one batch), counted from the index without a flash read. */
  approvedCount(batch?: string): number {
    this.#checkOpen();
    return this.#countTxn((e) => this.#state(e) === "approved" && (batch === undefined || e.batch === Number(batch)));
  }

  /** The seq of the live (armed, reversal-due or approved-unsettled) transaction with this STAN, or undefined. */
  liveSeqOf(stan: string): number | undefined {
    this.#checkOpen();
    let found: number | undefined;
    for (const entry of this.#sortedTxns()) {
      if (!this.#isLive(entry)) continue;
      if (decodeTransaction(this.#readSlot(entry.primary)).txn.stan === stan) found = entry.seq;
    }
    return found;
  }

  /** The clear PAN of a stored transaction (for F2 of the 0400 or the batch upload); never log it. */
  panOf(seq: number): string | undefined {
    this.#checkOpen();
    const entry = this.#txn(seq);
    const { sealedPan } = decodeTransaction(this.#readSlot(entry.primary));
    if (sealedPan.length === 0) return undefined;
    let plain: Uint8Array;
    try {
      plain = this.#cipher.open(this.#nonce(seq), sealedPan, this.#aad(KIND_TXN, seq));
    } catch (error) {
      // A seal that fails its tag, or bytes too short to be one: damage (or another key), named as such.
      throw new JournalFormatError(`the sealed PAN of seq ${seq} does not open (${(error as Error).name})`);
    }
    const pan = panFromBcd(plain);
    plain.fill(0);
    return pan;
  }

  stateOf(seq: number): RecordState | undefined {
    const entry = this.#entries.get(seq);
    return entry === undefined || entry.kind !== KIND_TXN ? undefined : this.#state(entry);
  }

  counts(): JournalCounts {
    return {
      liveRecords: this.#liveLoad(),
      capacity: this.#capacity(),
      sectors: this.#sectorCount,
      slotsPerSector: this.#slotsPerSector - 1,
    };
  }

  // ---------------------------------------------------------------- state

  #state(entry: Entry): RecordState {
    if (entry.closed) return "closed";
    if (entry.approval.state === "approved") return this.#settled(entry) ? "settled" : "approved";
    return entry.reversal >= 0 || entry.dueAtBoot ? "reversalDue" : "armed";
  }

  #settled(txn: Entry): boolean {
    return (this.#settleMax.get(txn.batch) ?? -1) > txn.seq;
  }

  /** Highest SETTLE seq per batch, kept in step with the index (liveness asks it for every record). */
  #indexSettle(entry: Entry): void {
    if (entry.kind === KIND_SETTLE && (this.#settleMax.get(entry.batch) ?? -1) < entry.seq) this.#settleMax.set(entry.batch, entry.seq);
  }

  #isLive(entry: Entry): boolean {
    if (entry.kind === KIND_TXN) {
      const state = this.#state(entry);
      return state !== "closed" && state !== "settled";
    }
    if (entry.kind === KIND_REVERSAL) {
      const target = this.#entries.get(entry.target);
      return target !== undefined && target.reversal === entry.seq && this.#state(target) === "reversalDue";
    }
    // SETTLE: the newest of its batch, needed while a settled approval of the batch is stored outside its own sector.
    if (this.#settleMax.get(entry.batch) !== entry.seq) return false;
    const home = entry.primary >> 8;
    for (const e of this.#entries.values()) {
      if (e.kind !== KIND_TXN || e.batch !== entry.batch || e.seq > entry.seq || e.closed || e.approval.state !== "approved") continue;
      if (e.locs.some((loc) => loc >> 8 !== home)) return true;
    }
    return false;
  }

  /** Live records plus a reserved slot for the REVERSAL every armed record may need. */
  #liveLoad(): number {
    let load = 0;
    for (const e of this.#entries.values()) {
      if (!this.#isLive(e)) continue;
      load += e.kind === KIND_TXN && e.reversal < 0 && this.#state(e) !== "approved" ? 2 : 1;
    }
    return load;
  }

  /**
   * Live records allowed: one sector is the spare, and every other sector keeps SLACK_SLOTS free on
   * average, so the fewest-live sector always fits a fresh sector even after boot burns (docs §8).
   */
  #capacity(): number {
    const records = this.#slotsPerSector - 1;
    return Math.max(0, Math.min((this.#sectorCount - 2) * records, (this.#sectorCount - 1) * (records - SLACK_SLOTS)));
  }

  #countTxn(predicate: (e: Entry) => boolean): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.kind === KIND_TXN && predicate(e)) n++;
    return n;
  }

  #sortedTxns(): Entry[] {
    return [...this.#entries.values()].filter((e) => e.kind === KIND_TXN).sort((a, b) => a.seq - b.seq);
  }

  #txn(seq: number, required?: RecordState): Entry {
    const entry = this.#entries.get(seq);
    if (entry === undefined || entry.kind !== KIND_TXN) throw new JournalStateError(seq, "unknown", `no transaction record ${seq}`);
    const state = this.#state(entry);
    if (required !== undefined && state !== required) throw new JournalStateError(seq, state, `record ${seq} is ${state}, not ${required}`);
    return entry;
  }

  #currentReversal(seq: number): Entry {
    const entry = this.#txn(seq, "reversalDue");
    if (entry.reversal < 0) this.#writeReversal(entry, { target: seq, reason: "98", attemptsBase: 0 });
    return this.#entries.get(entry.reversal)!;
  }

  #identityOf(entry: Entry): TerminalIdentity {
    return this.#sectors[entry.primary >> 8].header?.identity ?? this.#identity;
  }

  #newEntry(
    seq: number,
    kind: Kind,
    loc: number,
    fields: { readonly batch?: number; readonly target?: number; readonly attempts?: number },
  ): Entry {
    return {
      seq,
      kind,
      locs: [loc],
      primary: loc,
      closed: false,
      failed: false,
      attempts: 0,
      approval: NONE,
      batch: -1,
      target: -1,
      reversal: -1,
      dueAtBoot: false,
      payloadCheck: -1,
      ...fields,
    };
  }

  #add(entry: Entry): void {
    this.#entries.set(entry.seq, entry);
    this.#indexSettle(entry);
    if (entry.kind === KIND_REVERSAL) {
      const target = this.#entries.get(entry.target);
      if (target !== undefined && target.reversal < entry.seq) target.reversal = entry.seq;
    }
  }

  #writeReversal(target: Entry, data: Parameters<typeof encodeReversal>[0]): void {
    const seq = this.#nextSeq;
    this.#slot.fill(0xff);
    encodeReversal(data, this.#slot);
    const payload = this.#slot.slice(PAYLOAD_OFFSET, BODY_CRC_OFFSET);
    this.#nextSeq++;
    const loc = this.#append(KIND_REVERSAL, seq, (slot) => slot.set(payload, PAYLOAD_OFFSET));
    this.#add(this.#newEntry(seq, KIND_REVERSAL, loc, { target: target.seq, attempts: data.attemptsBase }));
  }

  // ---------------------------------------------------------------- flash

  #guard<T>(body: () => T): T {
    this.#checkOpen();
    try {
      return body();
    } catch (error) {
      if (error instanceof JournalInputError || error instanceof JournalStateError || error instanceof JournalFullError) throw error;
      // A flash failure or a cut leaves the in-memory view unproven: only recovery may continue.
      this.#closed = true;
      throw error;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new JournalClosedError("the journal saw a flash failure; open it again");
  }

  #offset(loc: number): number {
    return (loc >> 8) * this.#flash.blockSize + (loc & 0xff) * SLOT_BYTES;
  }

  #readSlot(loc: number): Uint8Array {
    return new Uint8Array(this.#flash.read(this.#offset(loc), SLOT_BYTES));
  }

  #nonce(seq: number): Uint8Array {
    return writePanNonce(this.#epoch, seq, new Uint8Array(NONCE_BYTES));
  }

  #aad(kind: Kind, seq: number): Uint8Array {
    return writePanAad(kind, seq, new Uint8Array(8));
  }

  /** Programs `length` bytes and reads them back; a mismatch (lost or misdirected write) is alarmed, audited and retried. */
  #programChecked(offset: number, bytes: Uint8Array, length: number): void {
    for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
      this.#flash.write(offset, length, bytes);
      const back = new Uint8Array(this.#flash.read(offset, length));
      let same = true;
      for (let i = 0; i < length; i++) if (back[i] !== bytes[i]) same = false;
      if (same) return;
      this.#writeVerifyFailed(offset);
    }
    throw new JournalWriteError(offset, `flash at ${offset} does not keep what is written`);
  }

  /** Programs a marker word to 0 unless it already reads 0. */
  #setMarker(entry: Entry, at: number): void {
    this.#programChecked(this.#offset(entry.primary) + at, ZERO_WORDS, 4);
  }

  #writeVerifyFailed(offset: number): void {
    const sector = Math.floor(offset / this.#flash.blockSize);
    this.#alarm({ kind: "write-verify", sector, slot: Math.floor((offset % this.#flash.blockSize) / SLOT_BYTES) });
    this.#audit();
  }

  #alarm(alarm: JournalAlarm): void {
    if (this.alarms.length < ALARMS_MAX) this.alarms.push(alarm);
    this.#options.onAlarm?.(alarm);
  }

  /** Appends a record body to the active sector (rotating when full) and returns its location. */
  #append(kind: Kind, seq: number, fill: (slot: Uint8Array) => void): number {
    for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
      if (this.#active < 0 || this.#sectors[this.#active].used >= this.#slotsPerSector) this.#rotate();
      const sector = this.#active;
      const slotIndex = this.#sectors[sector].used;
      const offset = sector * this.#flash.blockSize + slotIndex * SLOT_BYTES;
      // A misdirected write may have landed ahead of the append point: never program over it.
      const target = new Uint8Array(this.#flash.read(offset, SLOT_BYTES));
      if (!isAll(target, 0, SLOT_BYTES, 0xff)) {
        this.#sectors[sector].used = slotIndex + 1;
        attempt--;
        continue;
      }
      const slot = this.#slot;
      slot.fill(0xff);
      fill(slot);
      sealBody(slot, kind, seq, sector, slotIndex);
      this.#sectors[sector].used = slotIndex + 1;
      this.#flash.write(offset, BODY_BYTES, slot);
      const back = new Uint8Array(this.#flash.read(offset, BODY_BYTES));
      if (bodyEqual(back, slot)) return (sector << 8) | slotIndex;
      this.#writeVerifyFailed(offset);
      this.#flash.write(offset, 4, ZERO_WORDS);
    }
    throw new JournalWriteError(this.#active, "appends do not read back");
  }

  /** Takes the oldest free sector, erases and blank-checks it, writes its header, seals the old one (docs §8). */
  #rotate(): void {
    const target = this.#freeSector();
    if (target < 0) throw new JournalFullError(this.#liveLoad(), this.#capacity(), "no free sector: the spare invariant is broken");
    const old = this.#sectors[target].header;
    const eraseCount = (old?.eraseCount ?? this.#maxEraseCount()) + 1;
    this.#eraseChecked(target);
    this.#dropSector(target);
    let sectorSeq = 0;
    for (const info of this.#sectors) if (info.header !== undefined) sectorSeq = Math.max(sectorSeq, info.header.sectorSeq);
    const header: SectorHeader = {
      sectorIndex: target,
      sectorCount: this.#sectorCount,
      sectorSeq: sectorSeq + 1,
      seqFloor: this.#nextSeq,
      eraseCount,
      epoch: this.#epoch,
      identity: this.#identity,
    };
    encodeHeader(header, this.#check);
    this.#programChecked(target * this.#flash.blockSize, this.#check, HEADER_BODY_BYTES);
    const previous = this.#active;
    this.#sectors[target] = { header, sealed: false, retiring: false, used: 1 };
    this.#active = target;
    if (previous >= 0 && !this.#sectors[previous].sealed) {
      this.#programChecked(previous * this.#flash.blockSize + SEALED_OFFSET, ZERO_WORDS, 4);
      this.#sectors[previous].sealed = true;
    }
    this.#ensureSpare();
  }

  #eraseChecked(sector: number): void {
    for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
      this.#flash.erase(sector);
      const back = new Uint8Array(this.#flash.read(sector * this.#flash.blockSize, this.#flash.blockSize));
      if (isAll(back, 0, back.length, 0xff)) return;
    }
    throw new JournalWriteError(sector * this.#flash.blockSize, `sector ${sector} does not erase`);
  }

  #maxEraseCount(): number {
    let max = 0;
    for (const info of this.#sectors) if (info.header !== undefined) max = Math.max(max, info.header.eraseCount);
    return max;
  }

  /** Forgets every copy stored in `sector` (it was just erased). */
  #dropSector(sector: number): void {
    for (const [seq, entry] of this.#entries) {
      const kept = entry.locs.filter((loc) => loc >> 8 !== sector);
      if (kept.length === entry.locs.length) continue;
      if (kept.length === 0) {
        this.#entries.delete(seq);
        continue;
      }
      entry.locs.length = 0;
      entry.locs.push(...kept);
      entry.primary = this.#newestLoc(kept);
    }
    for (const entry of this.#entries.values()) {
      if (entry.kind === KIND_TXN && entry.reversal >= 0 && !this.#entries.has(entry.reversal))
        entry.reversal = this.#latestReversal(entry.seq);
    }
    this.#settleMax.clear();
    for (const entry of this.#entries.values()) this.#indexSettle(entry);
  }

  #latestReversal(target: number): number {
    let latest = -1;
    for (const e of this.#entries.values()) if (e.kind === KIND_REVERSAL && e.target === target && e.seq > latest) latest = e.seq;
    return latest;
  }

  #newestLoc(locs: readonly number[]): number {
    let best = locs[0];
    for (const loc of locs) if (this.#sectorSeqOf(loc) > this.#sectorSeqOf(best)) best = loc;
    return best;
  }

  #sectorSeqOf(loc: number): number {
    return this.#sectors[loc >> 8].header?.sectorSeq ?? -1;
  }

  #livePrimaries(sector: number): Entry[] {
    const out: Entry[] = [];
    for (const e of this.#entries.values()) if (e.primary >> 8 === sector && this.#isLive(e)) out.push(e);
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** The free sector (no live primary) with the lowest sectorSeq, dirty ones first; -1 if none. */
  #freeSector(): number {
    let best = -1;
    for (let s = 0; s < this.#sectorCount; s++) {
      if (s === this.#active || this.#livePrimaries(s).length > 0) continue;
      if (best < 0 || (this.#sectors[s].header?.sectorSeq ?? -1) < (this.#sectors[best].header?.sectorSeq ?? -1)) best = s;
    }
    return best;
  }

  /** Keeps one free sector besides the active one: compacts the sealed sector with the fewest live records. */
  #ensureSpare(): void {
    if (this.#freeSector() >= 0) return;
    let victim = -1;
    let victimLive = Number.MAX_SAFE_INTEGER;
    for (let s = 0; s < this.#sectorCount; s++) {
      if (s === this.#active || this.#sectors[s].header === undefined) continue;
      const live = this.#livePrimaries(s).length;
      if (live < victimLive) {
        victim = s;
        victimLive = live;
      }
    }
    assert(victim >= 0, "no compaction victim");
    // Capacity keeps the fewest-live sector within one fresh sector; if a boot burn or repair ate the room, wait for the next rotation.
    if (victimLive > this.#slotsPerSector - this.#sectors[this.#active].used) return;
    this.#retire(victim);
  }

  #retire(victim: number): void {
    if (!this.#sectors[victim].retiring) {
      this.#programChecked(victim * this.#flash.blockSize + RETIRING_OFFSET, ZERO_WORDS, 4);
      this.#sectors[victim].retiring = true;
    }
    for (const entry of this.#livePrimaries(victim)) {
      // A RETIRING sector keeps its primaries until they fit elsewhere: stop rather than fail.
      if (this.#sectors[this.#active].used >= this.#slotsPerSector && this.#freeSector() < 0) return;
      this.#copyForward(entry);
    }
  }

  /** Copies a live record into the active sector: same seq and state, new self-location (docs §8). */
  #copyForward(entry: Entry): void {
    const source = this.#readSlot(entry.primary);
    const payload = source.slice(PAYLOAD_OFFSET, BODY_CRC_OFFSET);
    const loc = this.#append(entry.kind, entry.seq, (slot) => slot.set(payload, PAYLOAD_OFFSET));
    const offset = this.#offset(loc);
    if (entry.kind === KIND_TXN) {
      if (entry.approval.state === "approved") {
        encodeApproval(entry.seq, entry.approval.authCode, entry.approval.rrn, this.#word);
        this.#programChecked(offset + GROUP_OFFSET, this.#word, GROUP_BYTES);
      } else if (entry.approval.state === "void") {
        this.#programChecked(offset + GROUP_OFFSET, ZERO_WORDS, GROUP_BYTES);
      }
    } else if (entry.kind === KIND_REVERSAL) {
      if (entry.failed) this.#programChecked(offset + WORD_A_OFFSET, ZERO_WORDS, 4);
      const bits = entry.attempts - payload[6];
      if (bits > 0) {
        this.#word.fill(0xff);
        for (let bit = 0; bit < bits; bit++) this.#word[bit >> 3] &= ~(1 << (bit & 7));
        this.#programChecked(offset + GROUP_OFFSET, this.#word, GROUP_BYTES);
      }
    }
    entry.locs.push(loc);
    entry.primary = loc;
  }

  // ---------------------------------------------------------------- recovery (docs §7)

  #recover(): void {
    const blockSize = this.#flash.blockSize;
    let maxSeq = 0;
    let newest = -1;
    // 1. Headers.
    for (let s = 0; s < this.#sectorCount; s++) {
      const head = new Uint8Array(this.#flash.read(s * blockSize, SLOT_BYTES));
      const header = decodeHeader(head, s, this.#sectorCount);
      this.#sectors.push({
        header,
        sealed: header !== undefined && markerSet(head, SEALED_OFFSET),
        retiring: header !== undefined && markerSet(head, RETIRING_OFFSET),
        used: 1,
      });
      if (header === undefined) continue;
      this.#programChecked(s * blockSize, head, HEADER_BODY_BYTES);
      this.#healMarker(s * blockSize, head, SEALED_OFFSET);
      this.#healMarker(s * blockSize, head, RETIRING_OFFSET);
      maxSeq = Math.max(maxSeq, header.seqFloor - 1);
      if (newest < 0 || header.sectorSeq > this.#sectors[newest].header!.sectorSeq) newest = s;
    }
    if (newest >= 0) {
      this.#epoch = this.#sectors[newest].header!.epoch;
    } else {
      const bytes = new Uint8Array(4);
      this.#random.fill(bytes);
      this.#epoch = readU32(bytes, 0);
    }
    // 2. Slots.
    const tails: number[] = [];
    const damagedSeqs: number[] = [];
    for (let s = 0; s < this.#sectorCount; s++) {
      const info = this.#sectors[s];
      const image = new Uint8Array(this.#flash.read(s * blockSize, blockSize));
      if (info.header === undefined) {
        this.#checkOrphans(s, image);
        continue;
      }
      let lastNonBlank = 0;
      for (let slot = 1; slot < this.#slotsPerSector; slot++)
        if (!isAll(image, slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES, 0xff)) lastNonBlank = slot;
      info.used = lastNonBlank + 1;
      for (let slot = 1; slot <= lastNonBlank; slot++) {
        const bytes = image.subarray(slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES);
        const cls = classifySlot(bytes, s, slot);
        if (cls === "record" || cls === "misplaced") maxSeq = Math.max(maxSeq, readU32(bytes, 4));
        else if (hasRecordMagic(bytes) && !(s === newest && slot === lastNonBlank)) damagedSeqs.push(readU32(bytes, 4));
        if (cls === "record") this.#merge(bytes, (s << 8) | slot);
        else if (cls === "void") continue;
        else if (s === newest && slot === lastNonBlank) {
          tails.push((s << 8) | slot);
          // A cut append and a rotten last record look alike: name the seq, the engine knows which seqs it was given.
          if (nearMagic(bytes))
            this.#alarm({ kind: "torn-tail", ...(hasRecordMagic(bytes) ? { seq: readU32(bytes, 4) } : {}), sector: s, slot });
        } else
          this.#alarm({
            kind: cls === "misplaced" ? "misplaced" : "damaged",
            ...(hasRecordMagic(bytes) ? { seq: readU32(bytes, 4) } : {}),
            sector: s,
            slot,
          });
      }
    }
    // A damaged record's seq counts when plausible (rot flips a bit; a torn tail never returned its seq).
    for (const seq of damagedSeqs) if (seq <= maxSeq + DAMAGED_SEQ_SLACK) maxSeq = Math.max(maxSeq, seq);
    // Past the last seq a new record would repeat a seq, and with it a PAN nonce: refuse to go on (typed), never wrap.
    if (maxSeq >= 0xffffffff)
      throw new JournalFormatError(`record seq space exhausted (seq ${maxSeq} found): the partition must be formatted anew`);
    this.#nextSeq = maxSeq + 1;
    this.#active = newest;
    if (newest < 0 || !sameIdentity(this.#sectors[newest].header!.identity, this.#identity)) {
      const anyLive = [...this.#entries.values()].some((e) => this.#isLive(e));
      if (anyLive && newest >= 0) this.#identity = this.#sectors[newest].header!.identity;
    }
    // 3. Heal what is believed, void the torn tail, burn the next slot.
    for (const entry of this.#entries.values()) this.#heal(entry);
    const repairs = [...this.#entries.values()].filter((entry) => entry.locs.length > 1 && !this.#syncPrimary(entry));
    for (const tail of tails) this.#programChecked(this.#offset(tail), ZERO_WORDS, 4);
    if (newest >= 0) {
      const info = this.#sectors[newest];
      if (info.used < this.#slotsPerSector) {
        this.#programChecked(this.#offset((newest << 8) | info.used), ZERO_WORDS, 4);
        info.used++;
      }
    }
    // 4. Only the newest sector stays open; finish interrupted compactions.
    for (let s = 0; s < this.#sectorCount; s++) {
      const info = this.#sectors[s];
      if (info.header === undefined || s === newest || info.sealed) continue;
      this.#programChecked(s * blockSize + SEALED_OFFSET, ZERO_WORDS, 4);
      info.sealed = true;
    }
    if (newest >= 0 && this.#sectors[newest].sealed) this.#rotate();
    for (const entry of repairs) if (this.#isLive(entry)) this.#copyForward(entry);
    // The primary now carries the merged state: stale copies are voided so rot in one can never bring old state back.
    for (const entry of this.#entries.values()) {
      if (entry.locs.length < 2) continue;
      for (const loc of entry.locs) if (loc !== entry.primary) this.#programChecked(this.#offset(loc), ZERO_WORDS, 4);
      entry.locs.length = 0;
      entry.locs.push(entry.primary);
    }
    for (let s = 0; s < this.#sectorCount; s++) if (this.#sectors[s].retiring && s !== this.#active) this.#retire(s);
    if (this.#active >= 0) this.#ensureSpare();
    // 5. After power loss every armed record must be reversed: void its approval, give it a REVERSAL.
    for (const entry of this.#sortedTxns()) {
      if (this.#state(entry) !== "armed" && this.#state(entry) !== "reversalDue") continue;
      if (entry.approval.state !== "void") {
        for (const loc of entry.locs) this.#programChecked(this.#offset(loc) + GROUP_OFFSET, ZERO_WORDS, GROUP_BYTES);
        entry.approval = { state: "void" };
      }
      if (entry.reversal < 0) entry.dueAtBoot = true;
    }
    // A misdirected heal cannot fail its read-back (the target already held those bytes): re-read all once.
    this.#audit();
  }

  /** Folds one stored copy into the index (docs §7.2): markers by union, attempts by maximum. */
  #merge(bytes: Uint8Array, loc: number): void {
    const seq = readU32(bytes, 4);
    const kind = slotKind(bytes);
    let entry = this.#entries.get(seq);
    if (entry !== undefined && entry.kind !== kind) {
      this.#alarm({ kind: "damaged", seq, sector: loc >> 8, slot: loc & 0xff });
      return;
    }
    if (entry === undefined) {
      entry = this.#newEntry(seq, kind, loc, {
        batch: kind === KIND_TXN ? transactionBatch(bytes) : kind === KIND_SETTLE ? settleBatch(bytes) : -1,
        target: kind === KIND_REVERSAL ? reversalTarget(bytes) : -1,
      });
      entry.locs.length = 0;
      this.#entries.set(seq, entry);
      this.#indexSettle(entry);
    }
    // A copy-forward copies the payload as it is: two CRC-good copies that differ are damage, never silently merged.
    const payloadCheck = crc32(bytes, PAYLOAD_OFFSET, BODY_CRC_OFFSET);
    if (entry.payloadCheck >= 0 && entry.payloadCheck !== payloadCheck)
      this.#alarm({ kind: "damaged", seq, sector: loc >> 8, slot: loc & 0xff });
    entry.payloadCheck = payloadCheck;
    entry.locs.push(loc);
    entry.primary = this.#newestLoc(entry.locs);
    if (kind === KIND_TXN) {
      entry.closed ||= markerSet(bytes, WORD_A_OFFSET);
      const approval = decodeApproval(seq, bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES));
      if (approval.state === "unreadable") this.#alarm({ kind: "approval-unreadable", seq, sector: loc >> 8, slot: loc & 0xff });
      if (approval.state === "approved" || (approval.state === "void" && entry.approval.state !== "approved")) entry.approval = approval;
    } else if (kind === KIND_REVERSAL) {
      entry.failed ||= markerSet(bytes, WORD_A_OFFSET);
      let zeros = 0;
      for (let i = GROUP_OFFSET; i < GROUP_OFFSET + GROUP_BYTES; i++) for (let b = bytes[i]; b !== 0xff; b |= b + 1) zeros++;
      entry.attempts = Math.max(entry.attempts, Math.min(ATTEMPTS_MAX, bytes[PAYLOAD_OFFSET + 6] + zeros));
      const target = this.#entries.get(entry.target);
      if (target !== undefined && target.reversal < seq) target.reversal = seq;
    }
    if (kind === KIND_TXN) entry.reversal = Math.max(entry.reversal, this.#latestReversal(seq));
  }

  /** Re-programs what was read (pins weak zeros) and zeroes set markers: legal, only clears bits. */
  #heal(entry: Entry): void {
    for (const loc of entry.locs) {
      const offset = this.#offset(loc);
      const bytes = this.#readSlot(loc);
      if (loc === entry.primary && this.#isLive(entry)) this.#programChecked(offset, bytes, BODY_BYTES);
      this.#healMarker(offset, bytes, WORD_A_OFFSET);
      if (
        entry.kind === KIND_REVERSAL ||
        decodeApproval(entry.seq, bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES)).state === "approved"
      )
        this.#programChecked(offset + GROUP_OFFSET, bytes.subarray(GROUP_OFFSET), GROUP_BYTES);
    }
  }

  /**
   * A copy-forward cut between body and markers leaves the new (primary) copy behind the merged state;
   * bring it level before the older copy's sector can be erased, or the state would be lost with it.
   */
  #syncPrimary(entry: Entry): boolean {
    const bytes = this.#readSlot(entry.primary);
    const offset = this.#offset(entry.primary);
    if ((entry.kind === KIND_TXN ? entry.closed : entry.kind === KIND_REVERSAL && entry.failed) && !markerSet(bytes, WORD_A_OFFSET))
      this.#programChecked(offset + WORD_A_OFFSET, ZERO_WORDS, 4);
    if (entry.kind === KIND_TXN && entry.approval.state === "approved") {
      encodeApproval(entry.seq, entry.approval.authCode, entry.approval.rrn, this.#word);
      const group = bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES);
      if (isAll(group, 0, GROUP_BYTES, 0xff)) this.#programChecked(offset + GROUP_OFFSET, this.#word, GROUP_BYTES);
      // Rot or a stray write spoiled the newest copy's group: a fresh copy carries the merged state.
      else if (decodeApproval(entry.seq, group).state !== "approved") return false;
    }
    if (entry.kind === KIND_REVERSAL) {
      const bits = entry.attempts - bytes[PAYLOAD_OFFSET + 6];
      this.#word.set(bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES));
      for (let bit = 0; bit < bits; bit++) this.#word[bit >> 3] &= ~(1 << (bit & 7));
      if (!bodyEqualRange(this.#word, bytes, GROUP_OFFSET)) this.#programChecked(offset + GROUP_OFFSET, this.#word, GROUP_BYTES);
    }
    return true;
  }

  #healMarker(base: number, bytes: Uint8Array, at: number): void {
    const value = readU32(bytes, at);
    if (value !== 0xffffffff && value !== 0) this.#programChecked(base + at, ZERO_WORDS, 4);
  }

  /** A dirty sector that still holds records nobody else has: alarm, never drop silently. */
  #checkOrphans(sector: number, image: Uint8Array): void {
    if (isAll(image, 0, image.length, 0xff)) return;
    // A header one bit from valid is rot, not a torn erase: everything in the sector is reported.
    const rotten = popcount32((readU32(image, 0) ^ HEADER_MAGIC) >>> 0) <= 1;
    for (let slot = 1; slot < this.#slotsPerSector; slot++) {
      const bytes = image.subarray(slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES);
      const cls = classifySlot(bytes, sector, slot);
      if (cls === "record" || (rotten && cls !== "blank" && cls !== "void"))
        this.#alarm({ kind: "orphan", ...(hasRecordMagic(bytes) ? { seq: readU32(bytes, 4) } : {}), sector, slot });
    }
  }

  /** After a write did not read back: re-read every stored copy and alarm each one that changed under us. */
  #audit(): void {
    for (let s = 0; s < this.#sectorCount; s++) {
      const info = this.#sectors[s];
      if (info?.header === undefined) continue;
      const head = new Uint8Array(this.#flash.read(s * this.#flash.blockSize, SLOT_BYTES));
      if (decodeHeader(head, s, this.#sectorCount) === undefined) this.#alarm({ kind: "audit", sector: s, slot: 0 });
    }
    for (const entry of this.#entries.values()) {
      for (const loc of entry.locs) {
        const bytes = this.#readSlot(loc);
        const sector = loc >> 8;
        const slot = loc & 0xff;
        const intact = classifySlot(bytes, sector, slot) === "record" && readU32(bytes, 4) === entry.seq;
        const closed = markerSet(bytes, WORD_A_OFFSET);
        const group = bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES);
        const changed =
          !intact ||
          (entry.kind === KIND_TXN && closed !== entry.closed) ||
          (entry.kind === KIND_TXN &&
            decodeApproval(entry.seq, group).state !==
              (loc === entry.primary ? entry.approval.state : decodeApproval(entry.seq, group).state)) ||
          (entry.kind === KIND_REVERSAL && closed !== entry.failed);
        if (changed) this.#alarm({ kind: "audit", seq: entry.seq, sector, slot });
      }
    }
  }
}

function popcount32(value: number): number {
  let count = 0;
  for (let v = value; v !== 0; v = (v & (v - 1)) >>> 0) count++;
  return count;
}

/** The first byte is the record magic, or one bit away from it (rot). */
function nearMagic(slot: Uint8Array): boolean {
  const diff = slot[0] ^ 0x5a;
  return (diff & (diff - 1)) === 0;
}

function bodyEqualRange(group: Uint8Array, slot: Uint8Array, at: number): boolean {
  for (let i = 0; i < GROUP_BYTES; i++) if (group[i] !== slot[at + i]) return false;
  return true;
}

function bodyEqual(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < BODY_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}
