/**
 * The engine's journal port (ports.ts TxnJournal) over the reversal journal on
 * NOR flash (modules/journal, docs/journal-format.md). The journal keys its
 * records by a 32-bit seq; the engine by STAN: this adapter maps one to the
 * other and keeps a RAM view of what is live (pending reversals, approved
 * log) so the engine's frequent questions cost no flash reads. Every call
 * that changes state returns only when the journal made it durable.
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
import { Journal, type JournalAlarm, type PendingReversal } from "../journal/journal";
import type { EmvAtArm, StoredTransaction, TransactionData } from "../journal/record";
import type { Flash } from "../platform/flash";
import { maskPan } from "../platform/log";
import type { Random } from "../platform/random";
import type { IsoFields } from "../iso8583/codec";
import { REVERSAL_F55_TAGS } from "./messages";
import type { ApprovedRecord, CardOnFile, FinancialOp, ReversalReason, ReversalRecord, TxnJournal } from "./ports";

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
  /** Live records by STAN: armed, reversal-due and approved-unsettled. */
  readonly #seqs = new Map<string, number>();
  readonly #armed = new Map<string, ReversalRecord>();
  readonly #pending = new Map<string, ReversalRecord>();
  #pendingSorted: readonly ReversalRecord[] | undefined;
  #approved: ApprovedRecord[] = [];
  /** Masked PANs of live records, kept from arm or opened once from flash: a listing decrypts nothing twice. */
  readonly #panMasked = new Map<string, string>();

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
    this.#approved = [];
    this.#panMasked.clear();
    for (const p of journal.pendingReversals()) {
      this.#seqs.set(p.txn.stan, p.seq);
      this.#pending.set(p.txn.stan, this.#fromPending(p));
    }
    for (const a of journal.approvedLog()) {
      this.#seqs.set(a.txn.stan, a.seq);
      this.#approved.push(this.#approvedView(a.seq, a.txn, a.authCode, a.rrn));
    }
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
      this.#seqs.size < RECORDS_MAX
    );
  }

  arm(record: ReversalRecord, card: CardOnFile): void {
    assert(record.state === "armed", "FlashJournal.arm: the record must be armed");
    assert(!this.#seqs.has(record.stan), `FlashJournal.arm: STAN ${record.stan} is live`);
    assert(this.#seqs.size < RECORDS_MAX, "FlashJournal: too many live records");
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
    this.#open().approve(seq, authCode, rrn);
    this.#armed.delete(record.stan);
    this.#approved.push(this.#approvedView(seq, this.#transactionData(armed, record), authCode, rrn));
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

  approvedLog(): readonly ApprovedRecord[] {
    return this.#approved;
  }

  closeBatch(batch: string): void {
    this.#open().settle(batch);
    for (const record of this.#approved)
      if (record.batch === batch) {
        this.#seqs.delete(record.stan);
        this.#panMasked.delete(record.stan);
      }
    this.#approved = this.#approved.filter((record) => record.batch !== batch);
  }

  /** Every live record, oldest first (read-only: nothing here touches flash beyond opening a PAN once to mask it). */
  records(): JournalRecordView[] {
    const views: JournalRecordView[] = [];
    const view = (
      r: { stan: string; batch: string; op: FinancialOp; amount: number },
      state: JournalRecordView["state"],
      reason?: ReversalReason,
      attempts = 0,
    ) =>
      views.push({
        stan: r.stan,
        batch: r.batch,
        op: r.op,
        amount: r.amount,
        state,
        panMasked: this.#maskedPan(r.stan),
        ...(reason !== undefined ? { reason } : {}),
        attempts,
      });
    for (const r of this.#armed.values()) view(r, "armed");
    for (const r of this.#pending.values()) view(r, r.state === "failed" ? "failed" : "reversalDue", r.reason, r.attempts ?? 0);
    for (const r of this.#approved) view(r, "approved");
    return views.sort((a, b) => this.#seq(a.stan) - this.#seq(b.stan));
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
