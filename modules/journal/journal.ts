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
  transactionStan,
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

// Index row flags (#flags).
/** TXN: CLOSED marker seen; final. */
const FLAG_CLOSED = 1;
/** REVERSAL: FAILED marker seen (冲正失败). */
const FLAG_FAILED = 2;
/** TXN found armed at boot: reversal-due (98) before its REVERSAL record is written by the first call that needs it. */
const FLAG_DUE_AT_BOOT = 4;
/** TXN: a SETTLE of its batch with a higher seq is indexed. */
const FLAG_SETTLED = 8;

// Index row approval (#approval): the APPROVAL group's state; its F38/F37 stay on flash.
const APPROVAL_NONE = 0;
const APPROVAL_APPROVED = 1;
const APPROVAL_VOID = 2;

/** F38 and F37 of an approval whose group was spoiled after recovery: what an approval without them stores. */
const APPROVAL_CODES_LOST = Object.freeze({ authCode: "      ", rrn: "000000000000" });

// Row layout of the index (#meta bytes, #words u32).
const META_BYTES = 5;
const M_KIND = 0;
const M_FLAGS = 1;
const M_APPROVAL = 2;
const M_ATTEMPTS = 3;
const M_COPIES = 4;
const WORDS = 4;
const W_SEQ = 0;
const W_LINK = 1;
const W_BATCH = 2;
const W_STAN = 3;
/** W_BATCH or W_STAN of a row that has none (or whose digits were damaged). */
const NO_NUMBER = 0xffffffff;

/** A row's seq of "none" in W_LINK (seqs start at 1). */
const NO_SEQ = 0;

export class Journal {
  readonly alarms: JournalAlarm[] = [];
  readonly #flash: Flash;
  readonly #cipher: PanCipher;
  readonly #random: Random;
  readonly #options: JournalOptions;
  readonly #sectorCount: number;
  readonly #slotsPerSector: number;
  readonly #sectors: SectorInfo[] = [];
  readonly #slot = new Uint8Array(SLOT_BYTES);
  readonly #check = new Uint8Array(SLOT_BYTES);
  readonly #word = new Uint8Array(GROUP_BYTES);
  /**
   * The index (docs §7): one row per record seq stored on the partition, in a few typed arrays of a size
   * fixed by the geometry (each typed array costs heap slots on XS, so a row's fields share two arrays
   * with a stride: #meta bytes M_*, #words u32 W_*). A partition holds at most one record per slot, so
   * the rows never run out, and RAM does not grow with the records: a full ESP32 partition (496 slots)
   * costs about 12 KB of chunk and no slot per record. Payloads stay on flash and are read when asked.
   */
  readonly #rows: number;
  /** One past the highest row ever taken (rows are taken lowest first): the walks stop there. */
  #rowsEnd = 0;
  /** Per row: M_KIND (0: a free row), M_FLAGS, M_APPROVAL, M_ATTEMPTS (REVERSAL), M_COPIES (stored copies indexed: normally 1, 2 between a copy-forward and the erase of the old sector). */
  readonly #meta: Uint8Array;
  /** Per row: W_SEQ; W_LINK (TXN: seq of its current REVERSAL, NO_SEQ none; REVERSAL: its target's seq); W_BATCH (TXN, SETTLE) and W_STAN (TXN) as numbers, NO_NUMBER otherwise. */
  readonly #words: Uint32Array;
  /** Location (sector * 256 + slot) of the newest stored copy. */
  readonly #primary: Uint16Array;
  /** Per slot of the partition (sector * slotsPerSector + slot): the row with a copy there, or -1. */
  readonly #owner: Int16Array;
  /** Open-addressing hash from seq to row (+1; 0 empty), linear probing, twice the rows rounded up to a power of two. */
  readonly #bySeq: Int16Array;
  readonly #bySeqMask: number;
  /** Scratch of #markLive: 1 for a live row. */
  readonly #live: Uint8Array;
  /** Scratch: live primaries per sector. */
  readonly #livePerSector: Uint16Array;
  /** Recovery only: CRC-32 of the payload of the first copy folded per row (-1 before). */
  #payloadChecks: Float64Array | undefined;
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
    const rows = this.#sectorCount * (this.#slotsPerSector - 1);
    this.#rows = rows;
    this.#meta = new Uint8Array(rows * META_BYTES);
    this.#words = new Uint32Array(rows * WORDS);
    this.#primary = new Uint16Array(rows);
    this.#owner = new Int16Array(this.#sectorCount * this.#slotsPerSector).fill(-1);
    let buckets = 1;
    while (buckets < 2 * rows) buckets <<= 1;
    this.#bySeq = new Int16Array(buckets);
    this.#bySeqMask = buckets - 1;
    this.#live = new Uint8Array(rows);
    this.#livePerSector = new Uint16Array(this.#sectorCount);
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
      const pending = this.#countTxn((row) => {
        const state = this.#state(row);
        return state === "armed" || state === "reversalDue";
      });
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
      this.#addRow(seq, KIND_TXN, loc, { batch: Number(txn.batch), stan: Number(txn.stan) });
      return seq;
    });
  }

  /** The answer needs no reversal and is not an approval (a clean decline, a balance inquiry). */
  complete(seq: number): void {
    this.#guard(() => {
      const row = this.#txn(seq, "armed");
      this.#setMarker(row, WORD_A_OFFSET);
      this.#meta[row * META_BYTES + M_FLAGS] |= FLAG_CLOSED;
    });
  }

  /** One atomic step: the reversal is cleared and the transaction enters the approved log. */
  approve(seq: number, authCode: string, rrn: string): void {
    this.#guard(() => {
      let row = this.#txn(seq, "armed");
      encodeApproval(seq, authCode, rrn, this.#word);
      const group = this.#readSlot(this.#primary[row]).subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES);
      // A stray write spoiled the empty group: move the record to a fresh slot rather than program over it.
      if (!isAll(group, 0, GROUP_BYTES, 0xff)) {
        this.#alarm({ kind: "audit", seq, sector: this.#primary[row] >> 8, slot: this.#primary[row] & 0xff });
        this.#copyForward(row);
        row = this.#find(seq);
        encodeApproval(seq, authCode, rrn, this.#word);
      }
      this.#programChecked(this.#offset(this.#primary[row]) + GROUP_OFFSET, this.#word, GROUP_BYTES);
      assert(decodeApproval(seq, this.#word).state === "approved", "approval group does not decode");
      this.#meta[row * META_BYTES + M_APPROVAL] = APPROVAL_APPROVED;
    });
  }

  /** The request must be reversed (98 no answer, A0 bad MAC, 06 other); replaces reason and data of an earlier call. */
  reversalDue(seq: number, reason: ReversalReason, data: { readonly f55?: Uint8Array; readonly authCode?: string } = {}): void {
    this.#guard(() => {
      const row = this.#txn(seq);
      const state = this.#state(row);
      if (state !== "armed" && state !== "reversalDue") throw new JournalStateError(seq, state, `record ${seq} is ${state}, not armed`);
      const previous = this.#words[row * WORDS + W_LINK] === NO_SEQ ? -1 : this.#find(this.#words[row * WORDS + W_LINK]);
      this.#writeReversal({
        target: seq,
        reason,
        attemptsBase: previous >= 0 ? this.#meta[previous * META_BYTES + M_ATTEMPTS] : 0,
        ...data,
      });
    });
  }

  /** Called before each 0400 is sent: persists the attempt; returns the attempts so far. */
  attempt(seq: number): number {
    return this.#guard(() => {
      const reversal = this.#currentReversal(seq);
      const attempts = this.#meta[reversal * META_BYTES + M_ATTEMPTS];
      if (attempts >= ATTEMPTS_MAX) return attempts;
      const primary = this.#primary[reversal];
      const base = this.#readSlot(primary)[PAYLOAD_OFFSET + 6];
      const bit = attempts - base;
      assert(bit >= 0 && bit < ATTEMPTS_MAX, "attempt bitmap out of step");
      const wordOffset = GROUP_OFFSET + 4 * (bit >> 5);
      const current = readU32(this.#readSlot(primary), wordOffset);
      writeU32(this.#word, 0, (current & ~(1 << (bit & 31))) >>> 0);
      this.#programChecked(this.#offset(primary) + wordOffset, this.#word, 4);
      this.#meta[reversal * META_BYTES + M_ATTEMPTS] = attempts + 1;
      return attempts + 1;
    });
  }

  /** 冲正失败: attempts exhausted for now. The record stays reversal-due. */
  failed(seq: number): void {
    this.#guard(() => {
      const reversal = this.#currentReversal(seq);
      this.#setMarker(reversal, WORD_A_OFFSET);
      this.#meta[reversal * META_BYTES + M_FLAGS] |= FLAG_FAILED;
    });
  }

  /** The host acknowledged the reversal (a 0410 that passed the checks). */
  reversed(seq: number): void {
    this.#guard(() => {
      const row = this.#txn(seq, "reversalDue");
      this.#setMarker(row, WORD_A_OFFSET);
      this.#meta[row * META_BYTES + M_FLAGS] |= FLAG_CLOSED;
    });
  }

  /** Settlement done: the approved log of `batch` is cleared. */
  settle(batch: string): void {
    this.#guard(() => {
      const batchNumber = Number(batch);
      // A SETTLE covers every approval of the batch with a smaller seq: an armed one could still be approved after it.
      for (let row = 0; row < this.#rowsEnd; row++)
        if (
          this.#meta[row * META_BYTES + M_KIND] === KIND_TXN &&
          this.#words[row * WORDS + W_BATCH] === batchNumber &&
          this.#state(row) === "armed"
        )
          throw new JournalStateError(
            this.#words[row * WORDS + W_SEQ],
            "armed",
            `record ${this.#words[row * WORDS + W_SEQ]} of batch ${batch} is still armed: resolve it before settling`,
          );
      const seq = this.#nextSeq;
      this.#slot.fill(0xff);
      encodeSettle(batch, this.#slot);
      const payload = this.#slot.slice(PAYLOAD_OFFSET, BODY_CRC_OFFSET);
      this.#nextSeq++;
      const loc = this.#append(KIND_SETTLE, seq, (slot) => slot.set(payload, PAYLOAD_OFFSET));
      this.#addRow(seq, KIND_SETTLE, loc, { batch: batchNumber });
    });
  }

  /** Every record still needing a reversal, oldest first (at most `reversalsPendingMax` after an arm refused more). */
  pendingReversals(): PendingReversal[] {
    this.#checkOpen();
    const out: PendingReversal[] = [];
    const rows = this.#sortedTxns((row) => this.#state(row) === "reversalDue");
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const seq = this.#words[row * WORDS + W_SEQ];
      const reversal = this.#words[row * WORDS + W_LINK] === NO_SEQ ? -1 : this.#find(this.#words[row * WORDS + W_LINK]);
      const data: Pick<ReversalData, "reason" | "authCode" | "f55"> =
        reversal < 0 ? { reason: "98" } : decodeReversal(this.#readSlot(this.#primary[reversal]));
      out.push({
        seq,
        txn: decodeTransaction(this.#readSlot(this.#primary[row])).txn,
        identity: this.#identityOf(row),
        reason: data.reason,
        ...(data.authCode !== undefined ? { authCode: data.authCode } : {}),
        ...(data.f55 !== undefined ? { f55: data.f55 } : {}),
        attempts: reversal < 0 ? 0 : this.#meta[reversal * META_BYTES + M_ATTEMPTS],
        failed: reversal >= 0 && (this.#meta[reversal * META_BYTES + M_FLAGS] & FLAG_FAILED) !== 0,
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
   * from flash as it goes: nothing per record stays in RAM. `visit` returning false stops the walk;
   * `visit` may read the journal but must not change it. `afterSeq`: start after that seq, reading nothing
   * before it (a batch upload resumes where its last message left off).
   */
  forEachApproved(visit: (approved: ApprovedTransaction) => unknown, batch?: string, afterSeq = 0): void {
    this.#checkOpen();
    const batchNumber = batch === undefined ? -1 : Number(batch);
    const rows = this.#sortedTxns(
      (row) =>
        this.#words[row * WORDS + W_SEQ] > afterSeq &&
        this.#state(row) === "approved" &&
        (batchNumber < 0 || this.#words[row * WORDS + W_BATCH] === batchNumber),
    );
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const seq = this.#words[row * WORDS + W_SEQ];
      const bytes = this.#readSlot(this.#primary[row]);
      const group = decodeApproval(seq, bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES));
      const approval = group.state === "approved" ? group : this.#approvedState(row);
      const approved = { seq, txn: decodeTransaction(bytes).txn, authCode: approval.authCode, rrn: approval.rrn };
      if (visit(approved) === false) return;
    }
  }

  /** Approved, unsettled transactions (optionally of one batch), counted from the index without a flash read. */
  approvedCount(batch?: string): number {
    this.#checkOpen();
    const batchNumber = batch === undefined ? -1 : Number(batch);
    return this.#countTxn(
      (row) => this.#state(row) === "approved" && (batchNumber < 0 || this.#words[row * WORDS + W_BATCH] === batchNumber),
    );
  }

  /** The seq of the live (armed, reversal-due or approved-unsettled) transaction with this STAN, or undefined. */
  liveSeqOf(stan: string): number | undefined {
    this.#checkOpen();
    const stanNumber = Number(stan);
    let found: number | undefined;
    for (let row = 0; row < this.#rowsEnd; row++) {
      if (this.#meta[row * META_BYTES + M_KIND] !== KIND_TXN || this.#words[row * WORDS + W_STAN] !== stanNumber || !this.#txnLive(row))
        continue;
      if (found === undefined || this.#words[row * WORDS + W_SEQ] > found) found = this.#words[row * WORDS + W_SEQ];
    }
    return found;
  }

  /** The clear PAN of a stored transaction (for F2 of the 0400 or the batch upload); never log it. */
  panOf(seq: number): string | undefined {
    this.#checkOpen();
    const row = this.#txn(seq);
    const { sealedPan } = decodeTransaction(this.#readSlot(this.#primary[row]));
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
    const row = this.#find(seq);
    return row < 0 || this.#meta[row * META_BYTES + M_KIND] !== KIND_TXN ? undefined : this.#state(row);
  }

  counts(): JournalCounts {
    return {
      liveRecords: this.#liveLoad(),
      capacity: this.#capacity(),
      sectors: this.#sectorCount,
      slotsPerSector: this.#slotsPerSector - 1,
    };
  }

  // ---------------------------------------------------------------- index

  /** The row of `seq`, or -1. */
  #find(seq: number): number {
    const mask = this.#bySeqMask;
    for (let at = this.#bucketOf(seq), probes = 0; probes <= mask; at = (at + 1) & mask, probes++) {
      const row = this.#bySeq[at] - 1;
      if (row < 0) return -1;
      if (this.#words[row * WORDS + W_SEQ] === seq) return row;
    }
    return -1;
  }

  /** The seq's low bits under an odd multiplier (a bijection on them): consecutive seqs never share a bucket, seqs a table size apart do. */
  #bucketOf(seq: number): number {
    return (Math.imul(seq, 0x9e3779b1) >>> 0) & this.#bySeqMask;
  }

  #hashInsert(row: number): void {
    const mask = this.#bySeqMask;
    let at = this.#bucketOf(this.#words[row * WORDS + W_SEQ]);
    while (this.#bySeq[at] !== 0) at = (at + 1) & mask;
    this.#bySeq[at] = row + 1;
  }

  /** Removes `row`, shifting later members of its probe run back so that no lookup stops early. */
  #hashRemove(row: number): void {
    const mask = this.#bySeqMask;
    let hole = this.#bucketOf(this.#words[row * WORDS + W_SEQ]);
    while (this.#bySeq[hole] !== row + 1) {
      assert(this.#bySeq[hole] !== 0, "journal index: row missing from its hash");
      hole = (hole + 1) & mask;
    }
    this.#bySeq[hole] = 0;
    for (let at = (hole + 1) & mask; this.#bySeq[at] !== 0; at = (at + 1) & mask) {
      const home = this.#bucketOf(this.#words[(this.#bySeq[at] - 1) * WORDS + W_SEQ]);
      // The entry at `at` may move into the hole only if its home is not inside (hole, at].
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        this.#bySeq[hole] = this.#bySeq[at];
        this.#bySeq[at] = 0;
        hole = at;
      }
    }
  }

  #slotIndex(loc: number): number {
    return (loc >> 8) * this.#slotsPerSector + (loc & 0xff);
  }

  /** Takes a free row for `seq`; a partition holds at most one record per slot, so one is always free. */
  #allocate(seq: number, kind: Kind, loc: number): number {
    let row = 0;
    while (row < this.#rows && this.#meta[row * META_BYTES + M_KIND] !== 0) row++;
    assert(row < this.#rows, "journal index full: more records than slots");
    if (row >= this.#rowsEnd) this.#rowsEnd = row + 1;
    this.#words[row * WORDS + W_SEQ] = seq;
    this.#hashInsert(row);
    this.#meta[row * META_BYTES + M_KIND] = kind;
    this.#meta[row * META_BYTES + M_FLAGS] = 0;
    this.#meta[row * META_BYTES + M_APPROVAL] = APPROVAL_NONE;
    this.#meta[row * META_BYTES + M_ATTEMPTS] = 0;
    this.#words[row * WORDS + W_BATCH] = NO_NUMBER;
    this.#words[row * WORDS + W_STAN] = NO_NUMBER;
    this.#words[row * WORDS + W_LINK] = NO_SEQ;
    this.#primary[row] = loc;
    this.#meta[row * META_BYTES + M_COPIES] = 0;
    return row;
  }

  #addCopy(row: number, loc: number): void {
    const at = this.#slotIndex(loc);
    assert(this.#owner[at] < 0, "two records indexed in one slot");
    this.#owner[at] = row;
    this.#meta[row * META_BYTES + M_COPIES]++;
  }

  /** Forgets the indexed copy at `loc`; the row is freed with its last copy. */
  #dropCopy(loc: number): void {
    const at = this.#slotIndex(loc);
    const row = this.#owner[at];
    if (row < 0) return;
    this.#owner[at] = -1;
    this.#meta[row * META_BYTES + M_COPIES]--;
    if (this.#meta[row * META_BYTES + M_COPIES] > 0) return;
    this.#hashRemove(row);
    this.#meta[row * META_BYTES + M_KIND] = 0;
  }

  /** Calls `visit` with each indexed copy of `row`, in slot order. */
  #forEachCopy(row: number, visit: (loc: number) => void): void {
    if (this.#meta[row * META_BYTES + M_COPIES] === 1) return visit(this.#primary[row]);
    const perSector = this.#slotsPerSector;
    for (let at = 0; at < this.#owner.length; at++) if (this.#owner[at] === row) visit(((at / perSector) << 8) | (at % perSector));
  }

  /** A new record just appended at `loc`. */
  #addRow(seq: number, kind: Kind, loc: number, fields: { readonly batch?: number; readonly stan?: number; readonly link?: number }): void {
    const row = this.#allocate(seq, kind, loc);
    this.#addCopy(row, loc);
    this.#words[row * WORDS + W_BATCH] = fields.batch ?? NO_NUMBER;
    this.#words[row * WORDS + W_STAN] = fields.stan ?? NO_NUMBER;
    this.#words[row * WORDS + W_LINK] = fields.link ?? NO_SEQ;
    if (kind === KIND_SETTLE) this.#markSettled(row);
    if (kind === KIND_REVERSAL) {
      const target = this.#find(this.#words[row * WORDS + W_LINK]);
      if (target >= 0 && this.#meta[target * META_BYTES + M_KIND] === KIND_TXN && this.#words[target * WORDS + W_LINK] < seq)
        this.#words[target * WORDS + W_LINK] = seq;
    }
  }

  // ---------------------------------------------------------------- state

  #state(row: number): RecordState {
    const flags = this.#meta[row * META_BYTES + M_FLAGS];
    if (flags & FLAG_CLOSED) return "closed";
    if (this.#meta[row * META_BYTES + M_APPROVAL] === APPROVAL_APPROVED) return flags & FLAG_SETTLED ? "settled" : "approved";
    return this.#words[row * WORDS + W_LINK] !== NO_SEQ || flags & FLAG_DUE_AT_BOOT ? "reversalDue" : "armed";
  }

  #txnLive(row: number): boolean {
    const state = this.#state(row);
    return state !== "closed" && state !== "settled";
  }

  /** A SETTLE covers the approvals of its batch with a smaller seq. */
  #markSettled(settle: number): void {
    const batch = this.#words[settle * WORDS + W_BATCH];
    const seq = this.#words[settle * WORDS + W_SEQ];
    for (let row = 0; row < this.#rowsEnd; row++)
      if (
        this.#meta[row * META_BYTES + M_KIND] === KIND_TXN &&
        this.#words[row * WORDS + W_BATCH] === batch &&
        this.#words[row * WORDS + W_SEQ] < seq
      )
        this.#meta[row * META_BYTES + M_FLAGS] |= FLAG_SETTLED;
  }

  /** Settled flags from the SETTLE rows indexed now (after recovery folded every copy, or a sector was erased). */
  #indexSettled(): void {
    for (let row = 0; row < this.#rowsEnd; row++)
      if (this.#meta[row * META_BYTES + M_KIND] === KIND_TXN) this.#meta[row * META_BYTES + M_FLAGS] &= ~FLAG_SETTLED;
    for (let row = 0; row < this.#rowsEnd; row++) if (this.#meta[row * META_BYTES + M_KIND] === KIND_SETTLE) this.#markSettled(row);
  }

  #isLive(row: number): boolean {
    const kind = this.#meta[row * META_BYTES + M_KIND];
    if (kind === KIND_TXN) return this.#txnLive(row);
    if (kind === KIND_REVERSAL) {
      const target = this.#find(this.#words[row * WORDS + W_LINK]);
      return target >= 0 && this.#reversalLiveFor(target, row);
    }
    return this.#settleLive(row);
  }

  /** The REVERSAL `row` is the current one of the reversal-due TXN `target`. */
  #reversalLiveFor(target: number, row: number): boolean {
    return (
      this.#meta[target * META_BYTES + M_KIND] === KIND_TXN &&
      this.#words[target * WORDS + W_LINK] === this.#words[row * WORDS + W_SEQ] &&
      this.#words[row * WORDS + W_LINK] === this.#words[target * WORDS + W_SEQ] &&
      this.#state(target) === "reversalDue"
    );
  }

  /** SETTLE: the newest of its batch, needed while a settled approval of the batch is stored outside its own sector. */
  #settleLive(settle: number): boolean {
    const batch = this.#words[settle * WORDS + W_BATCH];
    const seq = this.#words[settle * WORDS + W_SEQ];
    for (let row = 0; row < this.#rowsEnd; row++)
      if (
        this.#meta[row * META_BYTES + M_KIND] === KIND_SETTLE &&
        this.#words[row * WORDS + W_BATCH] === batch &&
        this.#words[row * WORDS + W_SEQ] > seq
      )
        return false;
    const home = this.#primary[settle] >> 8;
    const perSector = this.#slotsPerSector;
    for (let at = 0; at < this.#owner.length; at++) {
      const row = this.#owner[at];
      if (
        row < 0 ||
        ((at / perSector) | 0) === home ||
        this.#meta[row * META_BYTES + M_KIND] !== KIND_TXN ||
        this.#words[row * WORDS + W_BATCH] !== batch
      )
        continue;
      if (
        this.#words[row * WORDS + W_SEQ] < seq &&
        (this.#meta[row * META_BYTES + M_FLAGS] & FLAG_CLOSED) === 0 &&
        this.#meta[row * META_BYTES + M_APPROVAL] === APPROVAL_APPROVED
      )
        return true;
    }
    return false;
  }

  /** Liveness of every row at once (#live), cheaper than asking row by row; valid until the index changes. */
  #markLive(): Uint8Array {
    const live = this.#live;
    live.fill(0);
    for (let row = 0; row < this.#rowsEnd; row++) {
      const kind = this.#meta[row * META_BYTES + M_KIND];
      if (kind === KIND_TXN) {
        // #txnLive inlined: this walk runs at every arm.
        const flags = this.#meta[row * META_BYTES + M_FLAGS];
        if (flags & FLAG_CLOSED || (flags & FLAG_SETTLED && this.#meta[row * META_BYTES + M_APPROVAL] === APPROVAL_APPROVED)) continue;
        live[row] = 1;
        if (this.#words[row * WORDS + W_LINK] === NO_SEQ) continue;
        const reversal = this.#find(this.#words[row * WORDS + W_LINK]);
        if (reversal >= 0 && this.#meta[reversal * META_BYTES + M_KIND] === KIND_REVERSAL && this.#reversalLiveFor(row, reversal))
          live[reversal] = 1;
      } else if (kind === KIND_SETTLE && this.#settleLive(row)) live[row] = 1;
    }
    return live;
  }

  /** Live records plus a reserved slot for the REVERSAL every armed record may need. */
  #liveLoad(): number {
    const live = this.#markLive();
    let load = 0;
    for (let row = 0; row < this.#rowsEnd; row++) {
      if (live[row] === 0) continue;
      load +=
        this.#meta[row * META_BYTES + M_KIND] === KIND_TXN &&
        this.#words[row * WORDS + W_LINK] === NO_SEQ &&
        this.#state(row) !== "approved"
          ? 2
          : 1;
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

  #countTxn(predicate: (row: number) => boolean): number {
    let n = 0;
    for (let row = 0; row < this.#rowsEnd; row++) if (this.#meta[row * META_BYTES + M_KIND] === KIND_TXN && predicate(row)) n++;
    return n;
  }

  /** TXN rows passing `predicate`, by seq; a fresh array, so a caller's walk survives nested reads. */
  #sortedTxns(predicate: (row: number) => boolean): Uint16Array {
    return this.#sortedRows((row) => this.#meta[row * META_BYTES + M_KIND] === KIND_TXN && predicate(row));
  }

  #sortedRows(predicate: (row: number) => boolean): Uint16Array {
    let n = 0;
    for (let row = 0; row < this.#rowsEnd; row++) if (this.#meta[row * META_BYTES + M_KIND] !== 0 && predicate(row)) n++;
    const rows = new Uint16Array(n);
    n = 0;
    for (let row = 0; row < this.#rowsEnd; row++) if (this.#meta[row * META_BYTES + M_KIND] !== 0 && predicate(row)) rows[n++] = row;
    const words = this.#words;
    return rows.sort((a, b) => words[a * WORDS + W_SEQ] - words[b * WORDS + W_SEQ]);
  }

  #txn(seq: number, required?: RecordState): number {
    const row = this.#find(seq);
    if (row < 0 || this.#meta[row * META_BYTES + M_KIND] !== KIND_TXN)
      throw new JournalStateError(seq, "unknown", `no transaction record ${seq}`);
    const state = this.#state(row);
    if (required !== undefined && state !== required) throw new JournalStateError(seq, state, `record ${seq} is ${state}, not ${required}`);
    return row;
  }

  /** The row of the current REVERSAL of reversal-due `seq`, written now (reason 98) when boot left none. */
  #currentReversal(seq: number): number {
    const row = this.#txn(seq, "reversalDue");
    if (this.#words[row * WORDS + W_LINK] === NO_SEQ) this.#writeReversal({ target: seq, reason: "98", attemptsBase: 0 });
    const reversal = this.#find(this.#words[this.#find(seq) * WORDS + W_LINK]);
    assert(reversal >= 0, "reversal-due record without its REVERSAL");
    return reversal;
  }

  #identityOf(row: number): TerminalIdentity {
    return this.#sectors[this.#primary[row] >> 8].header?.identity ?? this.#identity;
  }

  /** F38 and F37 of an approved row, from the first stored copy whose APPROVAL group is intact (the primary at run time). */
  #approvedState(row: number): { readonly authCode: string; readonly rrn: string } {
    const seq = this.#words[row * WORDS + W_SEQ];
    const primary = decodeApproval(seq, this.#readSlot(this.#primary[row]).subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES));
    if (primary.state === "approved") return primary;
    let found: ApprovalState = primary;
    this.#forEachCopy(row, (loc) => {
      if (found.state === "approved") return;
      found = decodeApproval(seq, this.#readSlot(loc).subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES));
    });
    const approval = found as ApprovalState;
    if (approval.state === "approved") return approval;
    // A misdirected write or rot spoiled the group after recovery believed it: the approval stands (the
    // index holds it), its F38/F37 are lost. Named, so the terminal reconciles; the values read "none".
    this.#alarm({ kind: "approval-unreadable", seq, sector: this.#primary[row] >> 8, slot: this.#primary[row] & 0xff });
    return APPROVAL_CODES_LOST;
  }

  #writeReversal(data: Parameters<typeof encodeReversal>[0]): void {
    const seq = this.#nextSeq;
    this.#slot.fill(0xff);
    encodeReversal(data, this.#slot);
    const payload = this.#slot.slice(PAYLOAD_OFFSET, BODY_CRC_OFFSET);
    this.#nextSeq++;
    const loc = this.#append(KIND_REVERSAL, seq, (slot) => slot.set(payload, PAYLOAD_OFFSET));
    this.#addRow(seq, KIND_REVERSAL, loc, { link: data.target });
    this.#meta[this.#find(seq) * META_BYTES + M_ATTEMPTS] = data.attemptsBase;
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

  /** Programs a marker word of the row's primary copy to 0. */
  #setMarker(row: number, at: number): void {
    this.#programChecked(this.#offset(this.#primary[row]) + at, ZERO_WORDS, 4);
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
    const first = sector * this.#slotsPerSector;
    for (let at = first; at < first + this.#slotsPerSector; at++) {
      const row = this.#owner[at];
      if (row < 0) continue;
      this.#dropCopy((sector << 8) | (at - first));
      // A row that keeps a copy elsewhere takes its newest remaining copy as primary.
      if (this.#meta[row * META_BYTES + M_KIND] !== 0 && this.#primary[row] >> 8 === sector) this.#primary[row] = this.#newestCopy(row);
    }
    for (let row = 0; row < this.#rowsEnd; row++)
      if (
        this.#meta[row * META_BYTES + M_KIND] === KIND_TXN &&
        this.#words[row * WORDS + W_LINK] !== NO_SEQ &&
        this.#find(this.#words[row * WORDS + W_LINK]) < 0
      )
        this.#words[row * WORDS + W_LINK] = this.#latestReversal(this.#words[row * WORDS + W_SEQ]);
    this.#indexSettled();
  }

  /** The copy of `row` in the sector with the highest sectorSeq (the first such in slot order). */
  #newestCopy(row: number): number {
    const perSector = this.#slotsPerSector;
    let best = -1;
    for (let at = 0; at < this.#owner.length; at++) {
      if (this.#owner[at] !== row) continue;
      const loc = ((at / perSector) << 8) | (at % perSector);
      if (best < 0 || this.#sectorSeqOf(loc) > this.#sectorSeqOf(best)) best = loc;
    }
    assert(best >= 0, "a row without a copy");
    return best;
  }

  /** Seq of the newest REVERSAL row targeting `target`, or NO_SEQ. */
  #latestReversal(target: number): number {
    let latest = NO_SEQ;
    for (let row = 0; row < this.#rowsEnd; row++)
      if (
        this.#meta[row * META_BYTES + M_KIND] === KIND_REVERSAL &&
        this.#words[row * WORDS + W_LINK] === target &&
        this.#words[row * WORDS + W_SEQ] > latest
      )
        latest = this.#words[row * WORDS + W_SEQ];
    return latest;
  }

  #sectorSeqOf(loc: number): number {
    return this.#sectors[loc >> 8].header?.sectorSeq ?? -1;
  }

  /** Live primaries per sector (#livePerSector), from one #markLive. */
  #countLivePerSector(): Uint16Array {
    const live = this.#markLive();
    const counts = this.#livePerSector;
    counts.fill(0);
    for (let row = 0; row < this.#rowsEnd; row++) if (live[row] !== 0) counts[this.#primary[row] >> 8]++;
    return counts;
  }

  /** The free sector (no live primary) with the lowest sectorSeq, dirty ones first; -1 if none. */
  #freeSector(counts = this.#countLivePerSector()): number {
    let best = -1;
    for (let s = 0; s < this.#sectorCount; s++) {
      if (s === this.#active || counts[s] > 0) continue;
      if (best < 0 || (this.#sectors[s].header?.sectorSeq ?? -1) < (this.#sectors[best].header?.sectorSeq ?? -1)) best = s;
    }
    return best;
  }

  /** Keeps one free sector besides the active one: compacts the sealed sector with the fewest live records. */
  #ensureSpare(): void {
    const counts = this.#countLivePerSector();
    if (this.#freeSector(counts) >= 0) return;
    let victim = -1;
    let victimLive = Number.MAX_SAFE_INTEGER;
    for (let s = 0; s < this.#sectorCount; s++) {
      if (s === this.#active || this.#sectors[s].header === undefined) continue;
      if (counts[s] < victimLive) {
        victim = s;
        victimLive = counts[s];
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
    const live = this.#markLive();
    const rows = this.#sortedRows((row) => live[row] !== 0 && this.#primary[row] >> 8 === victim);
    // Seqs, not rows: a rotation inside a copy may free rows and hand them to other seqs.
    const seqs = new Uint32Array(rows.length);
    for (let i = 0; i < rows.length; i++) seqs[i] = this.#words[rows[i] * WORDS + W_SEQ];
    for (let i = 0; i < seqs.length; i++) {
      // A RETIRING sector keeps its primaries until they fit elsewhere: stop rather than fail.
      if (this.#sectors[this.#active].used >= this.#slotsPerSector && this.#freeSector() < 0) return;
      const row = this.#find(seqs[i]);
      if (row >= 0 && this.#primary[row] >> 8 === victim) this.#copyForward(row);
    }
  }

  /** Copies a live record into the active sector: same seq and state, new self-location (docs §8). */
  #copyForward(row: number): void {
    const seq = this.#words[row * WORDS + W_SEQ];
    const kind = this.#meta[row * META_BYTES + M_KIND] as Kind;
    const source = this.#readSlot(this.#primary[row]);
    const payload = source.slice(PAYLOAD_OFFSET, BODY_CRC_OFFSET);
    // Read before the append: a rotation inside it may erase the copy that holds the approval.
    const approval =
      kind === KIND_TXN && this.#meta[row * META_BYTES + M_APPROVAL] === APPROVAL_APPROVED ? this.#approvedState(row) : undefined;
    const loc = this.#append(kind, seq, (slot) => slot.set(payload, PAYLOAD_OFFSET));
    const offset = this.#offset(loc);
    const moved = this.#find(seq);
    assert(moved >= 0, "a copied record left the index");
    if (kind === KIND_TXN) {
      if (approval !== undefined) {
        encodeApproval(seq, approval.authCode, approval.rrn, this.#word);
        this.#programChecked(offset + GROUP_OFFSET, this.#word, GROUP_BYTES);
      } else if (this.#meta[moved * META_BYTES + M_APPROVAL] === APPROVAL_VOID) {
        this.#programChecked(offset + GROUP_OFFSET, ZERO_WORDS, GROUP_BYTES);
      }
    } else if (kind === KIND_REVERSAL) {
      if (this.#meta[moved * META_BYTES + M_FLAGS] & FLAG_FAILED) this.#programChecked(offset + WORD_A_OFFSET, ZERO_WORDS, 4);
      const bits = this.#meta[moved * META_BYTES + M_ATTEMPTS] - payload[6];
      if (bits > 0) {
        this.#word.fill(0xff);
        for (let bit = 0; bit < bits; bit++) this.#word[bit >> 3] &= ~(1 << (bit & 7));
        this.#programChecked(offset + GROUP_OFFSET, this.#word, GROUP_BYTES);
      }
    }
    this.#addCopy(moved, loc);
    this.#primary[moved] = loc;
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
    this.#payloadChecks = new Float64Array(this.#rows).fill(-1);
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
        else if ((cls === "void" || hasRecordMagic(bytes)) && damagedSeqs.length < this.#rows) damagedSeqs.push(readU32(bytes, 4));
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
    this.#payloadChecks = undefined;
    // Each TXN's current REVERSAL is the newest one targeting it, whatever order the slots were read in.
    for (let row = 0; row < this.#rowsEnd; row++) {
      if (this.#meta[row * META_BYTES + M_KIND] !== KIND_REVERSAL) continue;
      const target = this.#find(this.#words[row * WORDS + W_LINK]);
      if (
        target >= 0 &&
        this.#meta[target * META_BYTES + M_KIND] === KIND_TXN &&
        this.#words[target * WORDS + W_LINK] < this.#words[row * WORDS + W_SEQ]
      )
        this.#words[target * WORDS + W_LINK] = this.#words[row * WORDS + W_SEQ];
    }
    this.#indexSettled();
    // A damaged record's seq counts when plausible (rot flips a bit). So does a torn or voided append's, though it never
    // returned: its sealed PAN may still be on flash under that seq's nonce, and a new PAN under the same nonce would
    // expose both. A boot burn's seq bytes are still FF: implausible, not counted.
    for (const seq of damagedSeqs) if (seq <= maxSeq + DAMAGED_SEQ_SLACK) maxSeq = Math.max(maxSeq, seq);
    // Past the last seq a new record would repeat a seq, and with it a PAN nonce: refuse to go on (typed), never wrap.
    if (maxSeq >= 0xffffffff)
      throw new JournalFormatError(`record seq space exhausted (seq ${maxSeq} found): the partition must be formatted anew`);
    this.#nextSeq = maxSeq + 1;
    this.#active = newest;
    // The identity is the newest header's: a record reads its F41/F42/9F1E from its sector's header, so `arm` must
    // see a changed identity and open a sector under it (or refuse while records are live), never append under the old.
    if (newest >= 0) this.#identity = this.#sectors[newest].header!.identity;
    // 3. Heal what is believed, void the torn tail, burn the next slot.
    const live = this.#markLive();
    for (let row = 0; row < this.#rowsEnd; row++) if (this.#meta[row * META_BYTES + M_KIND] !== 0) this.#heal(row, live[row] !== 0);
    const repairs: number[] = [];
    for (let row = 0; row < this.#rowsEnd; row++)
      if (this.#meta[row * META_BYTES + M_KIND] !== 0 && this.#meta[row * META_BYTES + M_COPIES] > 1 && !this.#syncPrimary(row))
        repairs.push(this.#words[row * WORDS + W_SEQ]);
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
    for (const seq of repairs) {
      const row = this.#find(seq);
      if (row >= 0 && this.#isLive(row)) this.#copyForward(row);
    }
    // The primary now carries the merged state: stale copies are voided so rot in one can never bring old state back.
    for (let row = 0; row < this.#rowsEnd; row++) {
      if (this.#meta[row * META_BYTES + M_KIND] === 0 || this.#meta[row * META_BYTES + M_COPIES] < 2) continue;
      const primary = this.#primary[row];
      const stale: number[] = [];
      this.#forEachCopy(row, (loc) => {
        if (loc !== primary) stale.push(loc);
      });
      for (const loc of stale) {
        this.#programChecked(this.#offset(loc), ZERO_WORDS, 4);
        this.#dropCopy(loc);
      }
    }
    for (let s = 0; s < this.#sectorCount; s++) if (this.#sectors[s].retiring && s !== this.#active) this.#retire(s);
    if (this.#active >= 0) this.#ensureSpare();
    // 5. After power loss every armed record must be reversed: void its approval, give it a REVERSAL.
    const unresolved = this.#sortedTxns((row) => {
      const state = this.#state(row);
      return state === "armed" || state === "reversalDue";
    });
    for (let i = 0; i < unresolved.length; i++) {
      const row = unresolved[i];
      if (this.#meta[row * META_BYTES + M_APPROVAL] !== APPROVAL_VOID) {
        this.#forEachCopy(row, (loc) => this.#programChecked(this.#offset(loc) + GROUP_OFFSET, ZERO_WORDS, GROUP_BYTES));
        this.#meta[row * META_BYTES + M_APPROVAL] = APPROVAL_VOID;
      }
      if (this.#words[row * WORDS + W_LINK] === NO_SEQ) this.#meta[row * META_BYTES + M_FLAGS] |= FLAG_DUE_AT_BOOT;
    }
    // A misdirected heal cannot fail its read-back (the target already held those bytes): re-read all once.
    this.#audit();
  }

  /** Folds one stored copy into the index (docs §7.2): markers by union, attempts by maximum. */
  #merge(bytes: Uint8Array, loc: number): void {
    const seq = readU32(bytes, 4);
    const kind = slotKind(bytes);
    let row = this.#find(seq);
    if (row >= 0 && this.#meta[row * META_BYTES + M_KIND] !== kind) {
      this.#alarm({ kind: "damaged", seq, sector: loc >> 8, slot: loc & 0xff });
      return;
    }
    if (row < 0) {
      row = this.#allocate(seq, kind, loc);
      if (kind === KIND_TXN) {
        this.#words[row * WORDS + W_BATCH] = integerOr(transactionBatch(bytes), NO_NUMBER);
        this.#words[row * WORDS + W_STAN] = integerOr(transactionStan(bytes), NO_NUMBER);
      } else if (kind === KIND_SETTLE) this.#words[row * WORDS + W_BATCH] = integerOr(settleBatch(bytes), NO_NUMBER);
      else this.#words[row * WORDS + W_LINK] = reversalTarget(bytes);
    }
    // A copy-forward copies the payload as it is: two CRC-good copies that differ are damage, never silently merged.
    const checks = this.#payloadChecks!;
    const payloadCheck = crc32(bytes, PAYLOAD_OFFSET, BODY_CRC_OFFSET);
    if (checks[row] >= 0 && checks[row] !== payloadCheck) this.#alarm({ kind: "damaged", seq, sector: loc >> 8, slot: loc & 0xff });
    checks[row] = payloadCheck;
    const first = this.#meta[row * META_BYTES + M_COPIES] === 0;
    this.#addCopy(row, loc);
    if (first || this.#sectorSeqOf(loc) > this.#sectorSeqOf(this.#primary[row])) this.#primary[row] = loc;
    if (kind === KIND_TXN) {
      if (markerSet(bytes, WORD_A_OFFSET)) this.#meta[row * META_BYTES + M_FLAGS] |= FLAG_CLOSED;
      const approval = decodeApproval(seq, bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES));
      if (approval.state === "unreadable") this.#alarm({ kind: "approval-unreadable", seq, sector: loc >> 8, slot: loc & 0xff });
      if (approval.state === "approved") this.#meta[row * META_BYTES + M_APPROVAL] = APPROVAL_APPROVED;
      else if (approval.state === "void" && this.#meta[row * META_BYTES + M_APPROVAL] !== APPROVAL_APPROVED)
        this.#meta[row * META_BYTES + M_APPROVAL] = APPROVAL_VOID;
    } else if (kind === KIND_REVERSAL) {
      if (markerSet(bytes, WORD_A_OFFSET)) this.#meta[row * META_BYTES + M_FLAGS] |= FLAG_FAILED;
      let zeros = 0;
      for (let i = GROUP_OFFSET; i < GROUP_OFFSET + GROUP_BYTES; i++) for (let b = bytes[i]; b !== 0xff; b |= b + 1) zeros++;
      this.#meta[row * META_BYTES + M_ATTEMPTS] = Math.max(
        this.#meta[row * META_BYTES + M_ATTEMPTS],
        Math.min(ATTEMPTS_MAX, bytes[PAYLOAD_OFFSET + 6] + zeros),
      );
    }
  }

  /** Re-programs what was read (pins weak zeros) and zeroes set markers: legal, only clears bits. */
  #heal(row: number, live: boolean): void {
    const primary = this.#primary[row];
    const kind = this.#meta[row * META_BYTES + M_KIND];
    const seq = this.#words[row * WORDS + W_SEQ];
    this.#forEachCopy(row, (loc) => {
      const offset = this.#offset(loc);
      const bytes = this.#readSlot(loc);
      if (loc === primary && live) this.#programChecked(offset, bytes, BODY_BYTES);
      this.#healMarker(offset, bytes, WORD_A_OFFSET);
      if (kind === KIND_REVERSAL || decodeApproval(seq, bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES)).state === "approved")
        this.#programChecked(offset + GROUP_OFFSET, bytes.subarray(GROUP_OFFSET), GROUP_BYTES);
    });
  }

  /**
   * A copy-forward cut between body and markers leaves the new (primary) copy behind the merged state;
   * bring it level before the older copy's sector can be erased, or the state would be lost with it.
   */
  #syncPrimary(row: number): boolean {
    const kind = this.#meta[row * META_BYTES + M_KIND];
    const seq = this.#words[row * WORDS + W_SEQ];
    const bytes = this.#readSlot(this.#primary[row]);
    const offset = this.#offset(this.#primary[row]);
    const marked =
      kind === KIND_TXN
        ? (this.#meta[row * META_BYTES + M_FLAGS] & FLAG_CLOSED) !== 0
        : kind === KIND_REVERSAL && (this.#meta[row * META_BYTES + M_FLAGS] & FLAG_FAILED) !== 0;
    if (marked && !markerSet(bytes, WORD_A_OFFSET)) this.#programChecked(offset + WORD_A_OFFSET, ZERO_WORDS, 4);
    if (kind === KIND_TXN && this.#meta[row * META_BYTES + M_APPROVAL] === APPROVAL_APPROVED) {
      const group = bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES);
      if (isAll(group, 0, GROUP_BYTES, 0xff)) {
        const approval = this.#approvedState(row);
        encodeApproval(seq, approval.authCode, approval.rrn, this.#word);
        this.#programChecked(offset + GROUP_OFFSET, this.#word, GROUP_BYTES);
      }
      // Rot or a stray write spoiled the newest copy's group: a fresh copy carries the merged state.
      else if (decodeApproval(seq, group).state !== "approved") return false;
    }
    if (kind === KIND_REVERSAL) {
      const bits = this.#meta[row * META_BYTES + M_ATTEMPTS] - bytes[PAYLOAD_OFFSET + 6];
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
    for (let row = 0; row < this.#rowsEnd; row++) {
      if (this.#meta[row * META_BYTES + M_KIND] === 0) continue;
      const kind = this.#meta[row * META_BYTES + M_KIND];
      const seq = this.#words[row * WORDS + W_SEQ];
      this.#forEachCopy(row, (loc) => {
        const bytes = this.#readSlot(loc);
        const sector = loc >> 8;
        const slot = loc & 0xff;
        const intact = classifySlot(bytes, sector, slot) === "record" && readU32(bytes, 4) === seq;
        const marked = markerSet(bytes, WORD_A_OFFSET);
        const changed =
          !intact ||
          (kind === KIND_TXN && marked !== ((this.#meta[row * META_BYTES + M_FLAGS] & FLAG_CLOSED) !== 0)) ||
          (kind === KIND_TXN && loc === this.#primary[row] && approvalCode(bytes, seq) !== this.#meta[row * META_BYTES + M_APPROVAL]) ||
          (kind === KIND_REVERSAL && marked !== ((this.#meta[row * META_BYTES + M_FLAGS] & FLAG_FAILED) !== 0));
        if (changed) this.#alarm({ kind: "audit", seq, sector, slot });
      });
    }
  }
}

/** The index's code for the APPROVAL group of a stored copy; -1 for an unreadable group (never indexed). */
function approvalCode(slot: Uint8Array, seq: number): number {
  const state = decodeApproval(seq, slot.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES)).state;
  return state === "approved" ? APPROVAL_APPROVED : state === "void" ? APPROVAL_VOID : state === "none" ? APPROVAL_NONE : -1;
}

function integerOr(value: number, fallback: number): number {
  return Number.isInteger(value) ? value : fallback;
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
