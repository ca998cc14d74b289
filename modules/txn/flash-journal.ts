/**
 * The engine's journal port (ports.ts TxnJournal) over the reversal journal on
 * NOR flash (modules/journal, docs/journal-format.md). The journal keys its
 * records by a 32-bit seq; the engine by STAN: this adapter maps one to the
 * other. RAM holds only what is bounded: the armed and reversal-due records
 * (at most reversalsPendingMax), the latest approval (its slip) and the
 * approved log's running totals. The approved log itself stays on flash and
 * is streamed on demand (`forEachApproved`): a full batch does not fit the
 * ESP32 heap as objects (docs/device.md). Every call that changes state
 * returns only when the journal made it durable.
 *
 * PCI DSS: the PAN reaches flash only sealed (SM4-GCM under the data key);
 * the approved log's PAN is opened on demand (a void), never kept in RAM.
 * The 0400 of a record read back from flash is rebuilt with the field rules
 * of the CUP reference §2.4 (F2/F14 only for keyed and chip entry, F55 the
 * reversal tag set with 9F1E from the terminal identity).
 */
import { assert } from "../base/assert";
import { fromAscii, fromHex, toHex } from "../base/hex";
import { sm4Gcm } from "../crypto/aead";
import type { SecretKey } from "../crypto/keys";
import { decodeTlv, encodeTlv, findTlv, type TlvItem } from "../iso8583/tlv";
import { padNumber } from "../iso8583/subfields";
import type { TerminalIdentity } from "../journal/format";
import { type ApprovedTransaction, Journal, type JournalAlarm, type PendingReversal } from "../journal/journal";
import type { EmvAtArm, StoredTransaction, TransactionData } from "../journal/record";
import type { Flash } from "../platform/flash";
import { maskPan } from "../platform/log";
import type { Random } from "../platform/random";
import type { IsoFields } from "../iso8583/codec";
import { REVERSAL_F55_TAGS } from "./messages";
import type { BatchTotals } from "./events";
import type { ApprovedRecord, ApprovedTotals, CardOnFile, FinancialOp, ReversalReason, ReversalRecord, TxnJournal } from "./ports";

export interface FlashJournalOptions {
  readonly flash: Flash;
  /** SM4 data-at-rest key: seals the PAN. */
  readonly dataKey: SecretKey;
  readonly random: Random;
  readonly identity: TerminalIdentity;
  /** Wall-clock seconds since 1970, stamped on each record. */
  readonly nowSeconds: () => number;
  readonly reversalsPendingMax?: number;
  readonly onAlarm?: (alarm: JournalAlarm) => void;
}

/** One live record as a journal panel or the pending-reversals screen lists it: the PAN masked, never in clear. */
export interface JournalRecordView {
  readonly stan: string;
  readonly batch: string;
  readonly op: FinancialOp;
  readonly amount: number;
  /** armed: the request may be on its way; reversalDue/failed: a 0400 is owed (failed = 冲正失败); approved: in the open batch. */
  readonly state: "armed" | "reversalDue" | "failed" | "approved";
  /** First 6 and last 4 digits. */
  readonly panMasked: string;
  readonly reason?: ReversalReason;
  /** Reversal attempts made so far (kept on flash). */
  readonly attempts: number;
}

const SWIPE = "021";
/** An approval without F38 is stored as six spaces (the journal's alphabet), without F37 as zeros. */
const NO_AUTH_CODE = "      ";
const NO_RRN = "000000000000";
const RECORDS_MAX = 512;
/** Rows one `records()` call lists at most: a panel pages through the rest. */
const RECORDS_LISTED_MAX = 64;
/** The approved log's totals, per origin: a count and an amount for sales, voids and refunds. */
const TOTALS_SALE = 0;
const TOTALS_VOID = 2;
const TOTALS_REFUND = 4;
const TOTALS_FIELDS = 6;

const REVERSALS_PENDING_DEFAULT = 8;
/**
 * Free record slots `Journal.arm` requires beyond the live load (modules/journal: the TXN, the
 * REVERSAL it may need, a SETTLE and a boot burn). The flash-journal suite pins canArm() to what
 * arm() accepts, so a change on either side fails a test instead of a sale.
 */
const ARM_RESERVE_RECORDS = 4;

export class FlashJournal implements TxnJournal {
  readonly #options: FlashJournalOptions;
  readonly #reversalsPendingMax: number;
  #journal: Journal | undefined;
  /** Seqs of the armed and reversal-due records by STAN (bounded by reversalsPendingMax); an approval's comes from the journal. */
  readonly #seqs = new Map<string, number>();
  readonly #armed = new Map<string, ReversalRecord>();
  readonly #pending = new Map<string, ReversalRecord>();
  #pendingSorted: readonly ReversalRecord[] | undefined;
  /** Masked PANs of the armed and reversal-due records, kept from arm or opened once from flash: a listing decrypts nothing twice. */
  readonly #panMasked = new Map<string, string>();
  /** The latest approval: its slip asks for it right after, without a walk over the batch. */
  #lastApproved: ApprovedRecord | undefined;
  /** The approved log's totals per card origin, kept in step by approve and closeBatch, recounted from flash at recover. */
  /** The approved log's length, kept like the totals (the journal counts it by scanning its index: asked three times a sale). */
  #approvedCount = 0;
  /** Counts and amounts per origin (TOTALS_* offsets): one typed array, no objects. Doubles hold fen exactly to 2^53. */
  readonly #totals = new Float64Array(2 * TOTALS_FIELDS);

  constructor(options: FlashJournalOptions) {
    this.#options = options;
    this.#reversalsPendingMax = options.reversalsPendingMax ?? REVERSALS_PENDING_DEFAULT;
  }

  /** Mounts the journal (recovery: every armed record becomes reversal-due 98) and loads the live view; returns the records needing a reversal. */
  recover(): number {
    const journal = Journal.open({
      flash: this.#options.flash,
      cipher: sm4Gcm(this.#options.dataKey),
      random: this.#options.random,
      identity: this.#options.identity,
      reversalsPendingMax: this.#reversalsPendingMax,
      onAlarm: this.#options.onAlarm,
    });
    this.#journal = journal;
    this.#seqs.clear();
    this.#armed.clear();
    this.#pending.clear();
    this.#pendingSorted = undefined;
    this.#panMasked.clear();
    this.#lastApproved = undefined;
    for (const p of journal.pendingReversals()) {
      this.#seqs.set(p.txn.stan, p.seq);
      this.#pending.set(p.txn.stan, this.#fromPending(p));
    }
    this.#countTotals();
    return this.#pending.size;
  }

  /** Alarms the journal raised (damage it could not repair): the terminal must reconcile with the host. */
  get alarms(): readonly JournalAlarm[] {
    return this.#open().alarms;
  }

  /**
   * What `arm` will accept, asked before connecting. Once a record is armed it always completes: an
   * approval is a program into its own slot and its REVERSAL has a slot reserved by the live load.
   */
  canArm(): boolean {
    const counts = this.#open().counts();
    return (
      counts.liveRecords + ARM_RESERVE_RECORDS <= counts.capacity &&
      this.#armed.size + this.#pending.size < this.#reversalsPendingMax &&
      this.#seqs.size + this.#approvedCount < RECORDS_MAX
    );
  }

  arm(record: ReversalRecord, card: CardOnFile): void {
    assert(record.state === "armed", "FlashJournal.arm: the record must be armed");
    assert(!this.#seqs.has(record.stan), `FlashJournal.arm: STAN ${record.stan} is live`);
    assert(this.#seqs.size + this.#approvedCount < RECORDS_MAX, "FlashJournal: too many live records");
    const seq = this.#open().arm(this.#transactionData(record, card), card.pan);
    this.#seqs.set(record.stan, seq);
    this.#armed.set(record.stan, record);
    this.#panMasked.set(record.stan, maskPan(card.pan));
  }

  complete(stan: string): void {
    this.#open().complete(this.#seq(stan));
    this.#seqs.delete(stan);
    this.#armed.delete(stan);
    this.#panMasked.delete(stan);
  }

  approve(record: ApprovedRecord): void {
    const seq = this.#seq(record.stan);
    const armed = this.#armed.get(record.stan);
    assert(armed !== undefined, `FlashJournal.approve: STAN ${record.stan} is not armed`);
    const authCode = record.authCode === "" ? NO_AUTH_CODE : record.authCode;
    const rrn = record.rrn === "" ? NO_RRN : record.rrn;
    const view = this.#approvedView(seq, this.#transactionData(armed, record), authCode, rrn);
    // Asked before the approval is logged: the void's sale, and whether an earlier void already took it off.
    const voidedSale = view.op === "void" ? this.#saleFirstVoidedBy(view) : undefined;
    this.#open().approve(seq, authCode, rrn);
    this.#seqs.delete(record.stan);
    this.#armed.delete(record.stan);
    this.#panMasked.delete(record.stan);
    this.#lastApproved = view;
    this.#approvedCount++;
    count(this.#totals, view);
    if (voidedSale !== undefined) uncountSale(this.#totals, voidedSale);
  }

  reversalDue(stan: string, reason: ReversalReason, f55?: string, authCode?: string): void {
    const seq = this.#seq(stan);
    const record = this.#armed.get(stan) ?? this.#pending.get(stan);
    assert(record !== undefined, `FlashJournal.reversalDue: no record for STAN ${stan}`);
    this.#open().reversalDue(seq, reason, {
      ...(f55 !== undefined ? { f55: fromHex(f55) } : {}),
      ...(authCode !== undefined ? { authCode } : {}),
    });
    // The 0400 is built from what flash now holds, as after a reboot: one builder, live and recovered alike.
    const stored = this.#open()
      .pendingReversals()
      .find((p) => p.seq === seq);
    assert(stored !== undefined, `FlashJournal.reversalDue: STAN ${stan} is not pending on flash`);
    this.#armed.delete(stan);
    this.#setPending({ ...this.#fromPending(stored), attempts: record.attempts ?? stored.attempts });
  }

  attempt(stan: string): number {
    const record = this.#pending.get(stan);
    assert(record !== undefined, `FlashJournal.attempt: STAN ${stan} is not reversal-due`);
    const attempts = this.#open().attempt(this.#seq(stan));
    this.#setPending({ ...record, attempts });
    return attempts;
  }

  reversed(stan: string): void {
    this.#open().reversed(this.#seq(stan));
    this.#seqs.delete(stan);
    this.#panMasked.delete(stan);
    this.#pending.delete(stan);
    this.#pendingSorted = undefined;
  }

  failed(stan: string): void {
    const record = this.#pending.get(stan);
    assert(record !== undefined, `FlashJournal.failed: STAN ${stan} is not reversal-due`);
    this.#open().failed(this.#seq(stan));
    this.#setPending({ ...record, state: "failed" });
  }

  pending(): readonly ReversalRecord[] {
    if (this.#pendingSorted === undefined)
      this.#pendingSorted = [...this.#pending.values()].sort((a, b) => this.#seq(a.stan) - this.#seq(b.stan));
    return this.#pendingSorted;
  }

  approved(stan: string): ApprovedRecord | undefined {
    if (this.#lastApproved?.stan === stan) return this.#lastApproved;
    // The journal's index knows every live STAN: one that is not approved costs no walk.
    const journal = this.#open();
    const seq = journal.liveSeqOf(stan);
    if (seq === undefined || journal.stateOf(seq) !== "approved") return undefined;
    // The walk starts at the record itself: nothing before it is read.
    let found: ApprovedRecord | undefined;
    journal.forEachApproved(
      (a) => {
        found = this.#approvedOf(a);
        return false;
      },
      undefined,
      seq - 1,
    );
    assert(found?.stan === stan, `FlashJournal: the approved record of STAN ${stan} is not where the index says`);
    return found;
  }

  approvedCount(): number {
    return this.#approvedCount;
  }

  forEachApproved(visit: (record: ApprovedRecord, index: number) => unknown, afterStan?: string): void {
    const journal = this.#open();
    let afterSeq = 0;
    if (afterStan !== undefined) {
      const seq = journal.liveSeqOf(afterStan);
      assert(seq !== undefined && journal.stateOf(seq) === "approved", `FlashJournal: STAN ${afterStan} is not in the approved log`);
      afterSeq = seq;
    }
    let index = 0;
    journal.forEachApproved((a) => visit(this.#approvedOf(a), index++) !== false, undefined, afterSeq);
  }

  approvedTotals(): ApprovedTotals {
    return { domestic: totalsAt(this.#totals, originOffset(true)), foreign: totalsAt(this.#totals, originOffset(false)) };
  }

  closeBatch(batch: string): void {
    this.#open().settle(batch);
    if (this.#lastApproved?.batch === batch) this.#lastApproved = undefined;
    // What stays is another batch's approvals: none in practice (the engine settles the one open batch), so the recount reads nothing.
    this.#countTotals();
  }

  /**
   * Live records oldest first, `limit` rows (at most 64) from row `offset`: a panel pages through a full
   * batch. Read-only: approved rows are read from flash and their PAN opened to mask it.
   */
  records(page: { readonly offset?: number; readonly limit?: number } = {}): JournalRecordView[] {
    const offset = page.offset ?? 0;
    const limit = page.limit ?? RECORDS_LISTED_MAX;
    assert(Number.isInteger(offset) && offset >= 0, "FlashJournal.records: offset must be a whole number");
    assert(
      Number.isInteger(limit) && limit >= 1 && limit <= RECORDS_LISTED_MAX,
      `FlashJournal.records: limit must be 1-${RECORDS_LISTED_MAX}`,
    );
    const views: JournalRecordView[] = [];
    let row = 0;
    const add = (view: () => JournalRecordView): boolean => {
      if (row++ >= offset) views.push(view());
      return views.length < limit;
    };
    // The armed and reversal-due records (a handful) merge into the approved walk by seq.
    const unresolved = [...this.#armed.values(), ...this.#pending.values()].sort((a, b) => this.#seq(a.stan) - this.#seq(b.stan));
    let next = 0;
    const addUnresolvedBefore = (seq: number): boolean => {
      for (; next < unresolved.length && this.#seq(unresolved[next].stan) < seq; next++)
        if (!add(() => this.#unresolvedView(unresolved[next]))) return false;
      return true;
    };
    let room = true;
    this.#open().forEachApproved((a) => {
      room = addUnresolvedBefore(a.seq) && add(() => recordView(this.#approvedOf(a), "approved", maskPan(this.#open().panOf(a.seq) ?? "")));
      return room;
    });
    if (room) addUnresolvedBefore(Infinity);
    return views;
  }

  // ---------------------------------------------------------------- mapping

  #maskedPan(stan: string): string {
    let masked = this.#panMasked.get(stan);
    if (masked === undefined) {
      masked = maskPan(this.#open().panOf(this.#seq(stan)) ?? "");
      this.#panMasked.set(stan, masked);
    }
    return masked;
  }

  #unresolvedView(r: ReversalRecord): JournalRecordView {
    const state = r.state === "failed" ? "failed" : r.state === "armed" ? "armed" : "reversalDue";
    return recordView(r, state, this.#maskedPan(r.stan), r.reason, r.attempts ?? 0);
  }

  #approvedOf(a: ApprovedTransaction): ApprovedRecord {
    return this.#approvedView(a.seq, a.txn, a.authCode, a.rrn);
  }

  /**
   * The sale `voiding` takes off the totals: the sale of its STAN and card origin in the approved log,
   * unless an earlier void already took it off (the engine's batchTotals semantics). One walk, per void.
   */
  #saleFirstVoidedBy(voiding: ApprovedRecord): ApprovedRecord | undefined {
    let sale: ApprovedRecord | undefined;
    let voidedBefore = false;
    this.forEachApproved((r) => {
      if (r.domestic !== voiding.domestic) return true;
      if (r.op === "sale" && r.stan === voiding.originalStan) sale = r;
      if (r.op === "void" && r.originalStan === voiding.originalStan) voidedBefore = true;
      return !voidedBefore;
    });
    return voidedBefore ? undefined : sale;
  }

  /**
   * Recounts the log's length (the journal's index) and its totals (flash: two walks and one transient
   * table of the voids' sales, 4 bytes a void, freed on return): sales, voids and refunds first, then
   * every sale a void names is taken off.
   */
  #countTotals(): void {
    this.#totals.fill(0);
    this.#approvedCount = this.#open().approvedCount();
    const voidedKeys = new Uint32Array(this.#approvedCount);
    let voids = 0;
    this.forEachApproved((r) => {
      count(this.#totals, r);
      const key = r.op === "void" ? stanKey(r.originalStan, r.domestic) : -1;
      if (key >= 0) voidedKeys[voids++] = key;
    });
    if (voids === 0) return;
    const voided = voidedKeys.subarray(0, voids).sort();
    this.forEachApproved((r) => {
      if (r.op === "sale" && sortedHas(voided, stanKey(r.stan, r.domestic))) uncountSale(this.#totals, r);
    });
  }

  #open(): Journal {
    assert(this.#journal !== undefined, "FlashJournal: recover() first");
    return this.#journal;
  }

  #seq(stan: string): number {
    const seq = this.#seqs.get(stan);
    assert(seq !== undefined, `FlashJournal: no live record for STAN ${stan}`);
    return seq;
  }

  #setPending(record: ReversalRecord): void {
    this.#pending.set(record.stan, record);
    this.#pendingSorted = undefined;
  }

  #transactionData(record: ReversalRecord, card: CardOnFile): TransactionData {
    const f = record.fields;
    const emv = emvAtArm(f[55]);
    return {
      mti: record.op === "refund" ? "0220" : "0200",
      processingCode: f[3] ?? "000000",
      amount: record.amount,
      stan: record.stan,
      batch: record.batch,
      timeSeconds: Math.floor(this.#options.nowSeconds()),
      expiry: card.expiry,
      entryMode: f[22] ?? SWIPE,
      ...(f[23] !== undefined ? { cardSequence: f[23] } : {}),
      conditionCode: f[25] ?? "00",
      currency: f[49] ?? "156",
      f60: f[60] ?? "",
      ...(f[61] !== undefined ? { f61: f[61] } : {}),
      domestic: card.domestic,
      ...(emv !== undefined ? { emv } : {}),
    };
  }

  /** The engine's reversal record of a pending reversal read back from flash. */
  #fromPending(p: PendingReversal): ReversalRecord {
    const txn = p.txn;
    const fields: IsoFields = {
      3: txn.processingCode,
      4: padNumber(txn.amount, 12),
      11: txn.stan,
      22: txn.entryMode,
      25: txn.conditionCode,
    };
    if (txn.entryMode !== SWIPE) {
      const pan = this.#open().panOf(p.seq);
      if (pan !== undefined) fields[2] = pan;
      if (txn.expiry !== undefined) fields[14] = txn.expiry;
    }
    if (txn.cardSequence !== undefined) fields[23] = txn.cardSequence;
    const authCode = p.authCode ?? txn.originalAuthCode;
    if (authCode !== undefined) fields[38] = authCode;
    fields[41] = p.identity.terminalId;
    fields[42] = p.identity.merchantId;
    fields[49] = txn.currency;
    const f55 = p.f55 ?? (txn.emv !== undefined ? reversalF55FromArm(txn.emv, p.identity.ifdSerial) : undefined);
    if (f55 !== undefined) fields[55] = toHex(f55);
    fields[60] = txn.f60;
    if (txn.f61 !== undefined) fields[61] = txn.f61;
    return {
      stan: txn.stan,
      batch: txn.batch,
      op: opOf(txn),
      amount: txn.amount,
      fields,
      state: p.failed ? "failed" : "reversalDue",
      reason: p.reason,
      attempts: p.attempts,
    };
  }

  /** An approved record whose PAN is opened from flash only when asked (a void). */
  #approvedView(seq: number, txn: TransactionData, authCode: string, rrn: string): ApprovedRecord {
    const journal = this.#open();
    const openPan = (): string => journal.panOf(seq) ?? "";
    const op = opOf(txn);
    return Object.freeze({
      stan: txn.stan,
      batch: txn.batch,
      op,
      amount: txn.amount,
      get pan() {
        return openPan();
      },
      get panMasked() {
        return maskPan(openPan());
      },
      expiry: txn.expiry ?? "",
      domestic: txn.domestic,
      authCode: authCode === NO_AUTH_CODE ? "" : authCode,
      rrn: rrn === NO_RRN ? "" : rrn,
      ...(op !== "sale" && txn.f61 !== undefined ? { originalStan: txn.f61.slice(6, 12) } : {}),
    });
  }
}

function originOffset(domestic: boolean): number {
  return domestic ? 0 : TOTALS_FIELDS;
}

/** One approval into its origin's totals, as if nothing voided it. */
function count(totals: Float64Array, r: ApprovedRecord): void {
  const at = originOffset(r.domestic) + (r.op === "sale" ? TOTALS_SALE : r.op === "void" ? TOTALS_VOID : TOTALS_REFUND);
  totals[at]++;
  totals[at + 1] += r.amount;
}

function uncountSale(totals: Float64Array, sale: ApprovedRecord): void {
  const at = originOffset(sale.domestic) + TOTALS_SALE;
  totals[at]--;
  totals[at + 1] -= sale.amount;
}

function totalsAt(totals: Float64Array, at: number): BatchTotals {
  return {
    saleCount: totals[at + TOTALS_SALE],
    saleAmount: totals[at + TOTALS_SALE + 1],
    voidCount: totals[at + TOTALS_VOID],
    voidAmount: totals[at + TOTALS_VOID + 1],
    refundCount: totals[at + TOTALS_REFUND],
    refundAmount: totals[at + TOTALS_REFUND + 1],
  };
}

/** A STAN and card origin as one number under 2^21 (a Uint32Array holds it); -1 for a STAN that is not six digits (no sale carries one). */
function stanKey(stan: string | undefined, domestic: boolean): number {
  if (stan === undefined || !/^\d{6}$/.test(stan)) return -1;
  return Number(stan) * 2 + (domestic ? 1 : 0);
}

function sortedHas(sorted: Uint32Array, key: number): boolean {
  if (key < 0) return false;
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (sorted[middle] === key) return true;
    if (sorted[middle] < key) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

function recordView(
  r: { readonly stan: string; readonly batch: string; readonly op: FinancialOp; readonly amount: number },
  state: JournalRecordView["state"],
  panMasked: string,
  reason?: ReversalReason,
  attempts = 0,
): JournalRecordView {
  return {
    stan: r.stan,
    batch: r.batch,
    op: r.op,
    amount: r.amount,
    state,
    panMasked,
    ...(reason !== undefined ? { reason } : {}),
    attempts,
  };
}

function opOf(txn: TransactionData | StoredTransaction): FinancialOp {
  if (txn.mti === "0220") return "refund";
  return txn.processingCode === "200000" ? "void" : "sale";
}

/** 95, 9F36 and 9F10 of the request's F55: what the journal keeps for the 0400. */
function emvAtArm(f55: string | undefined): EmvAtArm | undefined {
  if (f55 === undefined) return undefined;
  const items = decodeTlv(fromHex(f55));
  const tvr = findTlv(items, 0x95);
  const atc = findTlv(items, 0x9f36);
  if (tvr === undefined || atc === undefined || tvr.length !== 5 || atc.length !== 2) return undefined;
  return { tvr, atc, issuerApplicationData: findTlv(items, 0x9f10) ?? new Uint8Array(0) };
}

function reversalF55FromArm(emv: EmvAtArm, ifdSerial: string): Uint8Array {
  const values: Readonly<Record<number, Uint8Array>> = {
    0x95: emv.tvr,
    0x9f1e: fromAscii(ifdSerial),
    0x9f10: emv.issuerApplicationData,
    0x9f36: emv.atc,
  };
  const items: TlvItem[] = [];
  for (const tag of REVERSAL_F55_TAGS) if (values[tag] !== undefined && values[tag].length > 0) items.push({ tag, value: values[tag] });
  return encodeTlv(items);
}
