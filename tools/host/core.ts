/**
 * The host core: one request's bytes in, one decision out. Pure and
 * synchronous (the ledger is synchronous SQLite), so the scenario and chaos
 * runners can embed it on a virtual clock and call it thousands of times a
 * second; the network server is only one of its transports.
 *
 * Order of work for a request: decode → take the scheduled fault → (unless the
 * fault says the host never read it) authenticate the terminal, verify the MAC
 * and PIN, apply the ledger, build and MAC the response → shape delivery by
 * the fault. Faults that lose the response after processing keep the ledger
 * effect: the host approved, and it is the terminal's job to reverse.
 *
 * One message never takes the host down: each is processed inside one ledger
 * transaction, and anything it throws is reported (TID, STAN, MTI) and answered
 * 96 with the ledger as it was before the message (docs/host-simulator.md).
 */
import { fromHex, toHex } from "../../modules/base/hex";
import { pinFromBlock } from "../../modules/crypto/pin-block";
import { cupEcbMac, macEqual } from "../../modules/crypto/mac";
import { Iso8583Codec, type IsoFields, type IsoMessage } from "../../modules/iso8583/codec";
import { CUP } from "../../modules/iso8583/dialect";
import { Iso8583Error } from "../../modules/iso8583/error";
import { responseTpdu } from "../../modules/iso8583/messages";
import {
  decodeField60,
  decodeField61,
  decodeSettlementTotals,
  encodeField54,
  encodeSettlementTotals,
  type CurrencyTotals,
  type Field61,
} from "../../modules/iso8583/subfields";
import type { Random } from "../../modules/platform/random";
import { maskPan } from "../../modules/platform/log";
import { findCard, type HostCard } from "./cards";
import type { ConnectionVerdict, Delivery, HandleContext, HostDecision, HostHandler } from "./decision";
import { FRAME_HEADER_BYTES } from "./decision";
import { FaultSchedule, type Fault } from "./faults";
import type { BatchTotals, Ledger, StoredTransaction, Totals, TransactionKind } from "./ledger";
import type { DesTables } from "../../modules/crypto/des";
import { TmsPublications } from "./tms";
import { isTmsNetCode } from "../../modules/tms/wire";
import { issueWorkingKeys, KEY_SCHEMES, recoverWorkingKeys, type KeyScheme, type TerminalRegistry, type WorkingKeys } from "./terminals";

export interface HostCoreOptions {
  readonly ledger: Ledger;
  readonly terminals: TerminalRegistry;
  /** Source of working keys: crypto-grade on the network host, seeded in simulations. */
  readonly random: Random;
  readonly faults?: FaultSchedule;
  /** Card catalogue the host plays issuer for; defaults to the shared test cards. */
  readonly cards?: readonly HostCard[];
  /**
   * Told of every message the host failed to handle (a bug or a ledger failure); the message was answered 96
   * or its connection closed, the ledger rolled back. Without it the error propagates after the rollback: the
   * scenario and chaos runners want a host bug loud, the network host (app.ts) logs it and keeps serving.
   */
  readonly onInternalError?: (report: InternalErrorReport) => void;
  /** Typed DES tables for the working keys' ciphers on V8 (modules/crypto/des.ts `desTables`); default the frozen ones. */
  readonly desTables?: DesTables;
  /** The terminal management system's publications (docs/tms.md); default an empty one. */
  readonly tms?: TmsPublications;
}

/** What is logged of a message the host failed to handle: where, never field values or keys. */
export interface InternalErrorReport {
  readonly mti: string;
  readonly tid: string | undefined;
  readonly stan: string | undefined;
  /** The error's name and message. */
  readonly error: string;
}

/** Response codes the host answers with (CUP POS usage). */
export const RC = Object.freeze({
  approved: "00",
  invalidMerchant: "03",
  invalidTransaction: "12",
  invalidAmount: "13",
  invalidCard: "14",
  unknownOriginal: "25",
  insufficientFunds: "51",
  expiredCard: "54",
  wrongPin: "55",
  notPermittedToTerminal: "58",
  originalAmountMismatch: "64",
  signOnAgain: "77",
  duplicate: "94",
  reconcileError: "95",
  systemMalfunction: "96",
  formatError: "30",
  terminalUnknown: "97",
  badMac: "A0",
});

/** Balance inquiries answer an available balance derived from the card (docs/host-simulator.md "Answers"). */
const BALANCE_BASE_FEN = 100_000;
const BALANCE_CURRENCY = "156";

const FIRST_BATCH = "000001";
/**
 * 处理要求 (the 6th digit of the CUP message header) in a sign-on answer: "6" asks the terminal to check
 * the TMS now (xspos's code; the acquirers' list is not public, docs/cup-dialect.md "Framing").
 */
export const PROCESSING_TMS_CHECK = "6";
/** Requests the host refuses without a valid MAC; others (0320 batch upload) are checked when they carry one. */
const MAC_REQUIRED = Object.freeze(["0200", "0220", "0400", "0500"]);

interface Outcome {
  readonly fields: IsoFields;
  /** Working keys to MAC the response with; absent = no F64 (sign-on answers, unknown terminals). */
  readonly keys: WorkingKeys | undefined;
  readonly processed: boolean;
}

/** Typed rejection of a request that decoded but cannot be answered (not a request MTI). */
export class HostRequestError extends Error {
  override readonly name = "HostRequestError";
}

/**
 * A terminal's working keys as the host holds them: `current`, and `pending`
 * from a sign-on nobody has proven yet. A request MAC'd under `pending`
 * promotes it; until then `current` stays valid, so a third party's 0800
 * cannot make the genuine terminal's next sale fail.
 */
interface KeySet {
  current: WorkingKeys | undefined;
  pending: WorkingKeys | undefined;
}

/** The keys an honest terminal that signed on last holds: what answers to unsigned requests are MAC'd with. */
function newest(set: KeySet): WorkingKeys | undefined {
  return set.pending ?? set.current;
}

function wipeKeys(keys: WorkingKeys | undefined): void {
  keys?.pik.wipe();
  keys?.mak.wipe();
}

export class HostCore implements HostHandler {
  readonly faults: FaultSchedule;
  readonly tms: TmsPublications;
  readonly ledger: Ledger;
  readonly #terminals: TerminalRegistry;
  readonly #random: Random;
  readonly #cards: readonly HostCard[] | undefined;
  readonly #onInternalError: ((report: InternalErrorReport) => void) | undefined;
  readonly #desTables: DesTables | undefined;
  readonly #codec = new Iso8583Codec({ dialect: CUP });
  /** Clear working keys per TID: a cache of the ledger's F62 copies, dropped when a message's transaction rolls back. */
  readonly #keys = new Map<string, KeySet>();
  #rrnCounter = 0;

  constructor(options: HostCoreOptions) {
    this.ledger = options.ledger;
    this.#terminals = options.terminals;
    this.#random = options.random;
    this.#cards = options.cards;
    this.#onInternalError = options.onInternalError;
    this.#desTables = options.desTables;
    this.faults = options.faults ?? new FaultSchedule();
    this.tms = options.tms ?? new TmsPublications();
  }

  admitConnection(): ConnectionVerdict {
    const fault = this.faults.takeForConnection();
    if (fault === undefined) return "accept";
    return fault.kind === "refuseConnection" ? "refuse" : "handshakeFail";
  }

  handle(request: Uint8Array, context: HandleContext): HostDecision {
    let message: IsoMessage;
    try {
      message = this.#codec.decode(request);
      if (!/^0[1-9][02]0$/.test(message.mti)) throw new HostRequestError(`MTI ${message.mti} is not a request`);
    } catch (error) {
      if (error instanceof Iso8583Error || error instanceof HostRequestError) return malformed(error.message);
      throw error;
    }
    const mti = message.mti;
    const fault = this.faults.takeForMessage(mti);
    if (fault?.kind === "closeBeforeRead") return decision(mti, undefined, { kind: "close" }, fault, false);

    let outcome: Outcome;
    try {
      outcome = this.#processOrFormatError(request, message, context, fault?.kind === "decline" ? fault.code! : undefined);
    } catch (error) {
      if (this.#onInternalError === undefined) throw error;
      outcome = this.#internalError(message, error, context.nowMs);
    }
    const responseMti = mti.slice(0, 2) + String(Number(mti[2]) + 1) + mti[3];
    const fields = outcome.fields;
    if (fault?.kind === "wrongStan" && fields[11] !== undefined) fields[11] = String((Number(fields[11]) + 1) % 1_000_000).padStart(6, "0");
    if (fault?.kind === "wrongMerchant" && fields[42] !== undefined) fields[42] = otherDigit(fields[42]);
    // wrongEcho: an answer whose F3, F4 or F42 is not the request's (correct MAC); absent from the answer, nothing changes.
    const echoed = fault?.kind === "wrongEcho" ? fields[fault.field!] : undefined;
    if (echoed !== undefined) fields[fault!.field!] = otherDigit(echoed);
    // dropFields: the approval's references left out (DROPPABLE_FIELDS), before the bitmap and the MAC are made.
    if (fault?.kind === "dropFields" && fault.fields!.includes(37)) delete fields[37];
    if (fault?.kind === "dropFields" && fault.fields!.includes(38)) delete fields[38];
    // oddReferences: references the codec carries (an6, an12) in characters CUP does not use for them.
    if (fault?.kind === "oddReferences" && fault.fields!.includes(37) && fields[37] !== undefined)
      fields[37] = "RRN" + fields[37].slice(3, 11) + "X";
    if (fault?.kind === "oddReferences" && fault.fields!.includes(38) && fields[38] !== undefined) fields[38] = "ab12cd";
    // stripMac answers without F64 at all (the bitmap says so): an approval the terminal must never accept.
    const macKeys = fault?.kind === "stripMac" ? undefined : outcome.keys;
    if (macKeys !== undefined) fields[64] = "0000000000000000";
    let response: Uint8Array;
    try {
      const header = this.#responseHeader(message, fields);
      response = this.#codec.encode({ tpdu: responseTpdu(message.tpdu!), header, mti: responseMti, fields }).slice();
      if (macKeys !== undefined) this.#codec.writeMac(response, cupEcbMac(macKeys.mak, this.#codec.macInput(response)));
    } catch (error) {
      // No answer can be built (an echoed field the response cannot carry): close this connection only.
      if (this.#onInternalError === undefined) throw error;
      this.#report(message, error);
      return decision(mti, undefined, { kind: "close" }, fault, outcome.processed);
    }
    // badMac (or a decline with badMac) spoils the last byte: the MAC when there is one, else the last working-key check value.
    if (fault?.kind === "badMac" || fault?.badMac === true) response[response.length - 1] ^= 0x01;
    return decision(mti, response, deliveryFor(fault, response.length), fault, outcome.processed);
  }

  /** The request's header, with 处理要求 set on an approved sign-on when the TMS has something the terminal has not fetched. */
  #responseHeader(message: IsoMessage, fields: IsoFields): string | undefined {
    const header = message.header;
    const tid = message.fields[41];
    if (header === undefined || message.mti !== "0800" || fields[39] !== RC.approved || tid === undefined) return header;
    if (isTmsNetCode(decodeField60(message.fields[60] ?? "").netCode ?? "") || !this.tms.due(tid)) return header;
    return header.slice(0, 5) + PROCESSING_TMS_CHECK + header.slice(6);
  }

  /**
   * The whole of a message's ledger work runs in one transaction. Sub-fields that do not parse (F60, F61, F48)
   * answer 30 with the keys the terminal has, never silence; whatever the message wrote is rolled back.
   */
  #processOrFormatError(request: Uint8Array, message: IsoMessage, context: HandleContext, declineCode: string | undefined): Outcome {
    const nowMs = context.nowMs;
    const response = echo(message.fields, [2, 3, 4, 11, 14, 22, 25, 41, 42, 49, 60, 61]);
    response[12] = timeOfDay(nowMs);
    response[13] = monthDay(nowMs);
    const answer = (code: string, keys: WorkingKeys | undefined): Outcome => {
      response[39] = code;
      return { fields: response, keys, processed: true };
    };
    try {
      return this.#atomically(() => this.#process(request, message, context, declineCode, response, answer));
    } catch (error) {
      if (!(error instanceof Iso8583Error)) throw error;
      delete response[38];
      delete response[48];
      delete response[54];
      delete response[62];
      return answer(RC.formatError, this.#newestKeys(message.fields[41]));
    }
  }

  /** Runs one message's work as one ledger transaction; when it throws, the key cache (possibly ahead of the rolled-back ledger) is dropped. */
  #atomically<T>(work: () => T): T {
    try {
      return this.ledger.atomically === undefined ? work() : this.ledger.atomically(work);
    } catch (error) {
      this.#keys.clear();
      throw error;
    }
  }

  /** The boundary: a message that threw is reported and answered 96; the ledger is as it was before it. */
  #internalError(message: IsoMessage, error: unknown, nowMs: number): Outcome {
    this.#report(message, error);
    const fields = echo(message.fields, [2, 3, 4, 11, 14, 22, 25, 41, 42, 49, 60, 61]);
    fields[12] = timeOfDay(nowMs);
    fields[13] = monthDay(nowMs);
    fields[39] = RC.systemMalfunction;
    let keys: WorkingKeys | undefined;
    try {
      keys = this.#newestKeys(message.fields[41]);
    } catch {
      keys = undefined;
    }
    return { fields, keys, processed: false };
  }

  #report(message: IsoMessage, error: unknown): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.#onInternalError?.({ mti: message.mti, tid: printable(message.fields[41]), stan: printable(message.fields[11]), error: text });
  }

  /** Keys to MAC a 30 or 96 answer with, for a registered TID. */
  #newestKeys(tid: string | undefined): WorkingKeys | undefined {
    const terminal = tid === undefined ? undefined : this.#terminals.get(tid);
    return terminal === undefined ? undefined : newest(this.#keySet(terminal.tid, terminal.tmk));
  }

  #process(
    request: Uint8Array,
    message: IsoMessage,
    context: HandleContext,
    declineCode: string | undefined,
    response: IsoFields,
    answer: (code: string, keys: WorkingKeys | undefined) => Outcome,
  ): Outcome {
    const nowMs = context.nowMs;
    const f = message.fields;
    // Under mutual TLS the certificate names the terminal: another TID on that connection changes nothing.
    if (context.peerTid !== undefined && f[41] !== context.peerTid) return answer(RC.notPermittedToTerminal, undefined);
    const terminal = f[41] === undefined ? undefined : this.#terminals.get(f[41]);
    if (terminal === undefined) return answer(RC.terminalUnknown, undefined);
    if (f[42] !== terminal.mid) return answer(RC.invalidMerchant, undefined);

    const set = this.#keySet(terminal.tid, terminal.tmk);
    const known = set.current !== undefined || set.pending !== undefined;
    // Whatever carries F64 is verified, sign-on and echo included.
    let keys: WorkingKeys | undefined;
    if (f[64] !== undefined) {
      keys = this.#verify(terminal.tid, request, set);
      if (keys === undefined) return answer(known || message.mti === "0800" ? RC.badMac : RC.signOnAgain, newest(set));
    }
    const netCode = message.mti === "0800" ? (decodeField60(f[60] ?? "").netCode ?? "") : "";
    if (isTmsNetCode(netCode)) {
      // TMS requests are MAC'd like financial ones (docs/tms.md): parameters change limits, so both ways are proven.
      if (keys === undefined) return answer(known ? RC.badMac : RC.signOnAgain, newest(set));
      if (declineCode !== undefined) return answer(declineCode, keys);
      const out = this.tms.answer(terminal.tid, netCode, f[62] === undefined ? undefined : fromHex(f[62]), nowMs);
      if (out.f62 !== undefined) response[62] = toHex(out.f62);
      return answer(out.code, keys);
    }
    if (message.mti === "0800") {
      if (declineCode !== undefined) return answer(declineCode, undefined);
      // Proven: by the mTLS certificate, or by a MAC under the keys on record.
      return this.#signOn(message, terminal.tmk, set, context.peerTid !== undefined || keys !== undefined, nowMs, response, answer);
    }
    keys ??= newest(set);
    if (message.mti === "0820") return answer(declineCode ?? RC.approved, keys);
    if (keys === undefined) return answer(RC.signOnAgain, undefined);
    if (f[64] === undefined && MAC_REQUIRED.includes(message.mti)) return answer(RC.badMac, keys);
    if (declineCode !== undefined && message.mti !== "0200" && message.mti !== "0220") return answer(declineCode, keys);

    const f60 = decodeField60(f[60] ?? "");
    const batch = f60.batch;
    switch (message.mti) {
      case "0200":
      case "0220":
        return answer(this.#financial(message, batch, keys, nowMs, declineCode, response), keys);
      case "0400": {
        const outcome = this.ledger.reverse({ tid: terminal.tid, batch, stan: f[11] ?? "", reason: f[39] ?? "", nowMs });
        return answer(outcome === "unknownOriginal" ? RC.unknownOriginal : RC.approved, keys);
      }
      case "0500":
        return answer(this.#settle(terminal.tid, batch, f[48], nowMs, response), keys);
      case "0320":
        this.ledger.uploadBatchRecord({
          tid: terminal.tid,
          batch,
          stan: f[11] ?? "",
          networkCode: f60.netCode ?? "",
          recordHex: f[48] ?? "",
          createdMs: nowMs,
        });
        return answer(RC.approved, keys);
      default:
        return answer(RC.invalidTransaction, keys);
    }
  }

  /**
   * Fresh working keys. A proven sign-on (mTLS, or MAC'd under the keys on record) and a terminal's first
   * replace the keys at once; any other is pending and the current keys stay valid until it is used.
   */
  #signOn(
    message: IsoMessage,
    tmk: Uint8Array,
    set: KeySet,
    proven: boolean,
    nowMs: number,
    response: IsoFields,
    answer: (code: string, keys: WorkingKeys | undefined) => Outcome,
  ): Outcome {
    const tid = message.fields[41]!;
    const requested = decodeField60(message.fields[60] ?? "").netCode ?? "";
    const scheme = (KEY_SCHEMES.includes(requested) ? requested : "003") as KeyScheme;
    const session = this.ledger.session(tid);
    const batch = session?.batch ?? FIRST_BATCH;
    const { f62, keys } = issueWorkingKeys(tmk, scheme, this.#random, this.#desTables);
    if (proven || set.current === undefined) {
      this.ledger.saveSession({ tid, batch, workingKeysUnderTmk: f62, pendingKeysUnderTmk: undefined, signedOnMs: nowMs });
      wipeKeys(set.current);
      wipeKeys(set.pending);
      set.current = keys;
      set.pending = undefined;
    } else {
      this.ledger.saveSession({
        tid,
        batch,
        workingKeysUnderTmk: session?.workingKeysUnderTmk,
        pendingKeysUnderTmk: f62,
        signedOnMs: nowMs,
      });
      wipeKeys(set.pending);
      set.pending = keys;
    }
    response[60] = `00${batch}${scheme}`;
    response[62] = toHex(f62);
    response[37] = this.#rrn(nowMs);
    return answer(RC.approved, undefined);
  }

  /** The terminal's keys, from the cache or rebuilt from the ledger's F62 copies (after a restart or a rollback). */
  #keySet(tid: string, tmk: Uint8Array): KeySet {
    const cached = this.#keys.get(tid);
    if (cached !== undefined) return cached;
    const session = this.ledger.session(tid);
    const stored = session?.workingKeysUnderTmk;
    const pending = session?.pendingKeysUnderTmk;
    const set: KeySet = {
      current: stored === undefined ? undefined : recoverWorkingKeys(tmk, stored, this.#desTables),
      pending: pending === undefined ? undefined : recoverWorkingKeys(tmk, pending, this.#desTables),
    };
    this.#keys.set(tid, set);
    return set;
  }

  /** The keys the request's MAC verifies under; a MAC under the pending keys makes them current. */
  #verify(tid: string, request: Uint8Array, set: KeySet): WorkingKeys | undefined {
    if (set.pending !== undefined && this.#macValid(request, set.pending)) {
      const session = this.ledger.session(tid)!;
      this.ledger.saveSession({ ...session, workingKeysUnderTmk: session.pendingKeysUnderTmk, pendingKeysUnderTmk: undefined });
      wipeKeys(set.current);
      set.current = set.pending;
      set.pending = undefined;
      return set.current;
    }
    if (set.current !== undefined && this.#macValid(request, set.current)) return set.current;
    return undefined;
  }

  /** The MAC covers the request bytes as received (MTI up to F64). */
  #macValid(request: Uint8Array, keys: WorkingKeys): boolean {
    return macEqual(cupEcbMac(keys.mak, this.#codec.macInput(request)), this.#codec.macField(request));
  }

  /** 0200 sale / void / balance, 0220 refund. Returns the response code; books what moves money. */
  #financial(
    message: IsoMessage,
    batch: string,
    keys: WorkingKeys,
    nowMs: number,
    declineCode: string | undefined,
    response: IsoFields,
  ): string {
    const f = message.fields;
    const processing = f[3] ?? "";
    const kind: TransactionKind | "balance" | undefined =
      message.mti === "0220"
        ? "refund"
        : processing === "000000"
          ? "sale"
          : processing === "200000"
            ? "void"
            : processing === "310000"
              ? "balance"
              : undefined;
    if (kind === undefined) return RC.invalidTransaction;
    const pan = cardPan(f);
    const card = pan === undefined ? undefined : findCard(pan, this.#cards);
    const code = declineCode ?? this.#authorize(f, kind, pan, card, batch, nowMs, keys);
    response[37] = this.#rrn(nowMs);
    if (code === RC.approved) response[38] = response[37].slice(-6);
    if (kind === "balance") {
      if (code === RC.approved && pan !== undefined) response[54] = encodeField54([balanceOf(pan)]);
      return code;
    }
    const amount = Number(f[4] ?? "0");
    // A refund is booked against the sale it names when the host has it: later refunds and a void ask what it gave back.
    const refunded = kind === "refund" ? this.#refundedSale(f) : undefined;
    const original = kind === "void" ? originalOf(f[61]) : refunded;
    const booked = this.ledger.book({
      tid: f[41]!,
      mid: f[42]!,
      batch,
      stan: f[11] ?? "",
      mti: message.mti,
      kind,
      amount,
      panMasked: pan === undefined ? "" : maskPan(pan),
      domestic: pan?.startsWith("62") ?? false,
      responseCode: code,
      authCode: response[38] ?? "",
      rrn: response[37],
      originalBatch: original?.batch,
      originalStan: original?.stan,
      createdMs: nowMs,
    });
    if (!booked) {
      delete response[38];
      return RC.duplicate;
    }
    return code;
  }

  /** The issuer's answer for a card: catalogue rule, expiry, PIN, amount, and for voids the original. */
  #authorize(
    f: IsoFields,
    kind: TransactionKind | "balance",
    pan: string | undefined,
    card: HostCard | undefined,
    batch: string,
    nowMs: number,
    keys: WorkingKeys,
  ): string {
    if (pan === undefined || card === undefined) return RC.invalidCard;
    const expiry = f[14] ?? trackExpiry(f[35]);
    if (expiry === undefined || isExpired(expiry, nowMs)) return RC.expiredCard;
    if (f[52] !== undefined && !this.#pinMatches(f[52], pan, card, keys)) return RC.wrongPin;
    if (kind === "balance") return RC.approved;
    const amount = Number(f[4] ?? "0");
    if (!Number.isSafeInteger(amount) || amount <= 0) return RC.invalidAmount;
    if (kind === "void") {
      const original = originalOf(f[61]);
      const sale = original === undefined ? undefined : this.ledger.find(f[41]!, original.batch, original.stan);
      if (sale === undefined || sale.kind !== "sale" || sale.state !== "approved" || original!.batch !== batch) return RC.unknownOriginal;
      if (sale.amount !== amount) return RC.originalAmountMismatch;
      // The customer has a refund of it: a void on top would pay them twice.
      if (this.ledger.refundedAmount(f[41]!, sale.batch, sale.stan) > 0) return RC.invalidTransaction;
      return RC.approved;
    }
    if (kind === "refund") {
      const sale = this.#refundedSale(f);
      if (sale === undefined) return RC.approved;
      // Voided, reversed or declined: the customer has no charge left to give back.
      if (sale.state !== "approved") return RC.invalidTransaction;
      if (this.ledger.refundedAmount(f[41]!, sale.batch, sale.stan) + amount > sale.amount) return RC.invalidAmount;
      return RC.approved;
    }
    return card.hostResponse;
  }

  /**
   * The sale a refund names in F61, as booked: in the batch F61 names, or, when the terminal sends zeros there (a
   * refund names its sale by STAN alone, the next day too), the newest sale with that STAN. Undefined when it names
   * none or one the host does not have (a refund may come without its original).
   */
  #refundedSale(f: IsoFields): StoredTransaction | undefined {
    const named = originalOf(f[61]);
    if (named === undefined || named.stan === "000000") return undefined;
    const sale = named.batch === "000000" ? this.ledger.latestSale(f[41]!, named.stan) : this.ledger.find(f[41]!, named.batch, named.stan);
    return sale?.kind === "sale" ? sale : undefined;
  }

  #pinMatches(blockHex: string, pan: string, card: HostCard, keys: WorkingKeys): boolean {
    const block = fromHex(blockHex);
    keys.pik.decryptBlock(block, 0, block, 0);
    try {
      return pinFromBlock(block, pan) === card.pin;
    } catch {
      return false;
    } finally {
      block.fill(0);
    }
  }

  /**
   * 0500: compare, record, answer the host totals, open the next batch. Host totals that do not fit F48
   * (over 999 transactions or 12 digits of fen on one side) answer 95 and change nothing: the batch stays
   * open and unsettled for the acquirer's back office.
   */
  #settle(tid: string, batch: string, f48: string | undefined, nowMs: number, response: IsoFields): string {
    const { domestic, foreign } = decodeSettlementTotals(f48 ?? "");
    const terminalTotals: BatchTotals = { domestic: totalsOf(domestic), foreign: totalsOf(foreign) };
    const hostTotals = this.ledger.totals(tid, batch);
    const domesticBalanced = sameTotals(terminalTotals.domestic, hostTotals.domestic);
    const foreignBalanced = sameTotals(terminalTotals.foreign, hostTotals.foreign);
    let answerTotals: string;
    try {
      answerTotals = encodeSettlementTotals({
        domestic: { ...hostTotals.domestic, result: domesticBalanced ? "1" : "2" },
        foreign: { ...hostTotals.foreign, result: foreignBalanced ? "1" : "2" },
      });
    } catch (error) {
      if (error instanceof Iso8583Error && error.field === 48) return RC.reconcileError;
      throw error;
    }
    this.ledger.settle({ tid, batch, terminalTotals, hostTotals, balanced: domesticBalanced && foreignBalanced, createdMs: nowMs });
    const session = this.ledger.session(tid);
    if (session !== undefined && session.batch === batch) this.ledger.saveSession({ ...session, batch: nextBatch(batch) });
    response[48] = answerTotals;
    return RC.approved;
  }

  #rrn(nowMs: number): string {
    this.#rrnCounter = (this.#rrnCounter + 1) % 1_000_000;
    return timeOfDay(nowMs) + String(this.#rrnCounter).padStart(6, "0");
  }
}

function decision(
  mti: string | undefined,
  response: Uint8Array | undefined,
  delivery: Delivery,
  fault: Fault | undefined,
  processed: boolean,
): HostDecision {
  return { requestMti: mti, response, delivery, fault, processed, malformed: undefined };
}

function malformed(reason: string): HostDecision {
  return { requestMti: undefined, response: undefined, delivery: { kind: "close" }, fault: undefined, processed: false, malformed: reason };
}

function deliveryFor(fault: Fault | undefined, responseBytes: number): Delivery {
  switch (fault?.kind) {
    case "delay":
      return { kind: "respond", delayMs: fault.ms!, copies: 1 };
    case "noResponse":
      return { kind: "silent" };
    case "closeAfterRead":
      return { kind: "close" };
    case "closeMidResponse":
      return { kind: "closeMidResponse", bytes: Math.floor((FRAME_HEADER_BYTES + responseBytes) / 2) };
    case "duplicateResponse":
      return { kind: "respond", delayMs: 0, copies: 2 };
    default:
      return { kind: "respond", delayMs: 0, copies: 1 };
  }
}

/** The same field with its last digit changed (+1, 9 → 0; not a digit → 0): an answer that does not echo the request. */
function otherDigit(value: string): string {
  const last = value.charCodeAt(value.length - 1);
  const changed = last >= 0x30 && last <= 0x39 ? String.fromCharCode(0x30 + ((last - 0x30 + 1) % 10)) : "0";
  return value.slice(0, -1) + changed;
}

function echo(fields: IsoFields, numbers: readonly number[]): IsoFields {
  const out: IsoFields = {};
  for (const n of numbers) if (fields[n] !== undefined) out[n] = fields[n];
  return out;
}

/** Voids name their sale in F61; a missing F61 means there is no original to find. */
function originalOf(value: string | undefined): Field61 | undefined {
  return value === undefined ? undefined : decodeField61(value);
}

function totalsOf(t: CurrencyTotals): Totals {
  return { debitAmount: t.debitAmount, debitCount: t.debitCount, creditAmount: t.creditAmount, creditCount: t.creditCount };
}

/** Available balance: ¥1,000.00 plus the PAN's last four digits in yuan (4761730000000011 → ¥1,011.00), credit. */
function balanceOf(pan: string): { accountType: string; amountType: string; currency: string; sign: "C"; amount: number } {
  const lastFour = Number(pan.slice(-4));
  return { accountType: "00", amountType: "02", currency: BALANCE_CURRENCY, sign: "C", amount: BALANCE_BASE_FEN + lastFour * 100 };
}

/** A TID or STAN as it may go into a log line: 1 to 12 letters or digits, else undefined. */
function printable(value: string | undefined): string | undefined {
  return value !== undefined && /^[0-9A-Za-z]{1,12}$/.test(value) ? value : undefined;
}

function cardPan(f: IsoFields): string | undefined {
  if (f[2] !== undefined) return f[2];
  const separator = f[35]?.indexOf("D") ?? -1;
  return separator > 0 ? f[35]!.slice(0, separator) : undefined;
}

function trackExpiry(track2: string | undefined): string | undefined {
  const separator = track2?.indexOf("D") ?? -1;
  return separator > 0 ? track2!.slice(separator + 1, separator + 5) : undefined;
}

/** A card is valid through the last day of its expiry month (YYMM, 20YY), in UTC. */
function isExpired(yymm: string, nowMs: number): boolean {
  if (!/^[0-9]{2}(0[1-9]|1[0-2])$/.test(yymm)) return true;
  const now = new Date(nowMs);
  const cardMonths = (2000 + Number(yymm.slice(0, 2))) * 12 + Number(yymm.slice(2, 4)) - 1;
  return cardMonths < now.getUTCFullYear() * 12 + now.getUTCMonth();
}

/** F12 hhmmss (UTC), by arithmetic: every answer carries it (UTC has no leap seconds in ECMAScript time). */
function timeOfDay(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000);
  return twoDigits(Math.floor(seconds / 3600) % 24) + twoDigits(Math.floor(seconds / 60) % 60) + twoDigits(seconds % 60);
}

function monthDay(nowMs: number): string {
  const d = new Date(nowMs);
  return twoDigits(d.getUTCMonth() + 1) + twoDigits(d.getUTCDate());
}

function twoDigits(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function nextBatch(batch: string): string {
  const next = (Number(batch) % 999_999) + 1;
  return String(next).padStart(6, "0");
}

function sameTotals(a: Totals, b: Totals): boolean {
  return (
    a.debitAmount === b.debitAmount && a.debitCount === b.debitCount && a.creditAmount === b.creditAmount && a.creditCount === b.creditCount
  );
}
