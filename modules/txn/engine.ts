/**
 * The transaction engine: every CUP POS transaction over the host link, with
 * the reversal rules that keep money right:
 * - a financial request (sale, void, refund) is armed in the journal,
 *   durably, inside the link's `beforeWrite`: after the connection is up,
 *   before the first byte. A failure before that (refused, handshake, connect
 *   timeout) leaves no record and needs no reversal. A refund is reversed
 *   like a sale (0400, F3 200000): the acquirer-specific rule of
 *   docs/transactions.md, since CUP's 0220 has no reversal of its own and a
 *   refund whose answer is lost would otherwise credit the card unseen.
 * - triggers: no answer by the deadline or the connection lost after the
 *   write → 98; the answer's MAC fails → A0; a failure on the terminal after
 *   the host approved (the chip's AAC, a bad answer) → 06 with F55 refreshed.
 * - a reversal episode runs right after its trigger: `reversalAttempts`
 *   attempts, each with the response timeout. Exhausted → 冲正失败: kept,
 *   retried before the next online message (every one, balance and
 *   settlement included), reported by settlement.
 * - boot: every armed record without a final state is reversal-due.
 * Every record moves through the table of reversal-machine.ts.
 *
 * Operations run one at a time from a bounded queue. Every decision is a
 * domain event (`onEvent`, events.ts): the engine knows nothing of screens;
 * the terminal's UI maps the events to screens and slips. When the queue runs
 * dry the engine reports `idle`.
 */
import { assert, assertInteger } from "../base/assert";
import { fromHex, toHex } from "../base/hex";
import type { BlockCipher, CipherProvider } from "../crypto/block-cipher";
import type { KeyStore } from "../crypto/key-store";
import { unwrapWorkingKeys } from "../crypto/keys";
import { cupEcbMac, macEqual } from "../crypto/mac";
import { pinBlockFormat0 } from "../crypto/pin-block";
import { Iso8583Codec, type IsoMessage } from "../iso8583/codec";
import { CUP } from "../iso8583/dialect";
import { Iso8583Error } from "../iso8583/error";
import { encodeSettlementTotals, padNumber } from "../iso8583/subfields";
import { HostLink, type CorrelationKey, type ExchangeOutcome } from "../link/host-link";
import type { Clock } from "../platform/clock";
import { maskPan } from "../platform/log";
import type { Transport, TransportEndpoint } from "../platform/transport";
import type { BatchTotals, LinkFailure, OpenReversal, Operation, Outcome, RefusalReason, TxnEvent } from "./events";
import * as messageBuilders from "./messages";
import { nextReversalState, REVERSAL_FINAL_STATES, type ReversalEvent, type ReversalState } from "./reversal-machine";
import { XSPOS_POLICY, type ReversalPolicy } from "./reversal-policy";
import { TmsError } from "../tms/errors";
import type { TmsAnswer, TmsNetCode } from "../tms/wire";
import type {
  ApprovedRecord,
  ApprovedTotals,
  CardOnFile,
  PresentedCard,
  ReversalReason,
  ReversalRecord,
  TerminalState,
  TerminalStateStore,
  TxnJournal,
  WallClock,
} from "./ports";
import { STATE_PARAMETER_BYTES_MAX } from "./ports";

// A namespace import captured by methods is a writable binding to xsl (a RAM alias on the device); a const is not.
const messages = messageBuilders;

export type { Operation, Outcome, TxnEvent } from "./events";

/** 交易限额: refused on the terminal, before connecting, when passed. */
export interface TxnLimits {
  /** The largest single sale or refund, minor units. */
  readonly amountMaxMinor: number;
  /** Financial records in the open batch (sales, voids, refunds). */
  readonly batchCountMax: number;
  /** The open batch's sales (net of voids) and its refunds, each, minor units: F48 has 12 digits for each. */
  readonly batchAmountMaxMinor: number;
}

/** What a parameter download may change while the terminal runs (modules/terminal/parameters.ts). */
export interface EngineSettings {
  readonly responseTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reversalAttempts: number;
  readonly blockSalesWhileReversalFailed: boolean;
  readonly limits: TxnLimits;
}

export interface TxnEngineOptions {
  readonly clock: Clock;
  readonly transport: Transport;
  readonly endpoint: TransportEndpoint;
  readonly journal: TxnJournal;
  readonly state: TerminalStateStore;
  readonly keys: KeyStore;
  readonly terminalId: string;
  readonly merchantId: string;
  readonly responseTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** 0400 attempts per reversal episode before 冲正失败. */
  readonly reversalAttempts?: number;
  readonly blockSalesWhileReversalFailed?: boolean;
  /** Default: the largest the CUP fields hold. */
  readonly limits?: TxnLimits;
  /** How an episode spends its attempts; default the shipped one (reversal-policy.ts). */
  readonly reversalPolicy?: ReversalPolicy;
  /** The terminal's calendar clock: set from F12/F13 of the sign-on answer. */
  readonly wallClock?: WallClock;
  /** Unwraps the working keys and makes the MAC and PIN ciphers from them (a device routes 3DES to native code); default modules/crypto's TypeScript ones. */
  readonly ciphers?: CipherProvider;
  readonly onEvent: (event: TxnEvent) => void;
}

export interface SaleRequest {
  readonly amount: number;
  readonly card: PresentedCard;
  readonly pin?: string;
}

export interface RefundRequest extends SaleRequest {
  readonly originalStan?: string;
}

/** What `voidable` finds: the sale a void would take back, or why there is none to take back. */
export type VoidLookup = { readonly sale: ApprovedRecord } | { readonly refusal: VoidRefusal };
export type VoidRefusal = "notFound" | "voided" | "refunded";

const VOID_REFUSALS: Readonly<Record<VoidRefusal, string>> = Object.freeze({
  notFound: "no approved sale with this STAN in the open batch",
  voided: "the sale is voided already",
  refunded: "the sale has a refund in the open batch: a void would pay the customer twice",
});

/** A sale of the open batch as a refund naming it sees it (`TxnEngine.refundable`). */
export interface RefundableSale {
  readonly sale: ApprovedRecord;
  readonly voided: boolean;
  /** What the approved refunds of the open batch naming it gave back, minor units. */
  readonly refundedAmount: number;
}

/** Why a refund naming a sale of the open batch is not run (`refundRefusal`). */
export type RefundRefusal = "voided" | "overRefund";

/** Why a refund of `amount` naming `found` may not run: its sale is voided, or it would take the refunds past it. */
export function refundRefusal(found: RefundableSale | undefined, amount: number): RefundRefusal | undefined {
  if (found === undefined) return undefined;
  if (found.voided) return "voided";
  return found.refundedAmount + amount > found.sale.amount ? "overRefund" : undefined;
}

const REFUND_REFUSALS: Readonly<Record<RefundRefusal, string>> = Object.freeze({
  voided: "the sale is voided already: the void gave its whole amount back",
  overRefund: "the refunds of the open batch naming the sale would come to more than the sale",
});

/** A request the engine refuses before anything is sent (bad amount, unknown original). */
export class TxnRequestError extends Error {
  override readonly name = "TxnRequestError";
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

const QUEUE_MAX = 16;
const PENDING_REVERSALS_MAX = 64;
const AMOUNT_MAX = 999_999_999_99;
const REVERSAL_ATTEMPTS_MAX = 10;
/** Link failures a network check lists. */
const LINK_FAILURES_KEPT = 4;
/** What F48's totals hold: 3-digit counts, 12-digit amounts. */
const FIELD_LIMITS: TxnLimits = Object.freeze({ amountMaxMinor: AMOUNT_MAX, batchCountMax: 999, batchAmountMaxMinor: 999_999_999_999 });
/** Records whose state the engine follows at once: the pending bound plus the one in flight. */
const TRACKED_MAX = PENDING_REVERSALS_MAX + 1;
const STAN_MAX = 999_999;
/**
 * No terminal runs this firmware before 2026: a calendar clock reading earlier was lost (the ESP32's RTC restarts
 * at 1970 after a power loss). Until a sign-on sets it, card operations are refused (EMV 9A, the journal's time
 * stamps and the slips would carry that date), and the sign-on takes the year nearest this floor.
 */
const CALENDAR_FLOOR_MS = Date.UTC(2026, 0, 1);
/** 0410 answers that end a reversal: done (00), nothing to reverse (12), original unknown (25). */
const REVERSAL_FINAL_CODES = Object.freeze(["00", "12", "25"]);
/** 处理要求 (6th digit of the message header) of a sign-on answer that asks for a TMS check (docs/tms.md). */
const PROCESSING_TMS_CHECK = "6";

type Job = (finish: () => void) => void;

/** How a reversal episode ended: reversed, 冲正失败, or nothing could be sent (still owed). */
type EpisodeOutcome = "reversed" | "failed" | "offline";

/** A card operation as asked: what to build once it has a STAN. */
interface CardOperation {
  readonly op: "balance" | "sale" | "refund" | "void";
  readonly amount: number;
  readonly build: (stan: string) => IsoMessage;
  readonly card?: PresentedCard;
  readonly originalStan?: string;
  /** A void's original sale. */
  readonly original?: ApprovedRecord;
}

/** A card operation on its way: its STAN, the request, and its armed record (none for a balance inquiry). */
interface SentRequest extends CardOperation {
  readonly stan: string;
  readonly message: IsoMessage;
  readonly record: ReversalRecord | undefined;
}

interface Answer {
  readonly message: IsoMessage;
  readonly f39: string | undefined;
  /** F64 verified (or absent on an answer that needs none). */
  readonly macValid: boolean;
}

/** A reversible request: armed, with the card kept for a later void, inside beforeWrite. */
interface Armed {
  readonly record: ReversalRecord;
  readonly card: CardOnFile;
}

type OnlineResult =
  | { readonly kind: "answer"; readonly answer: Answer }
  | { readonly kind: "notSent" }
  | { readonly kind: "noResponse" }
  /** Bytes that are not a message of this dialect: after a write, reason 06. */
  | { readonly kind: "garbled" };

export class TxnEngine {
  readonly #options: TxnEngineOptions;
  readonly #codec = new Iso8583Codec({ dialect: CUP });
  readonly #link: HostLink;
  #reversalAttempts: number;
  #responseTimeoutMs: number;
  #limits: TxnLimits;
  #blockSales: boolean;
  readonly #policy: ReversalPolicy;
  readonly #queue: Job[] = [];
  /** The last batch-upload record read: the next one is found from there. */
  #uploadCursor: { readonly index: number; readonly stan: string } | undefined;
  #running = false;
  #state: TerminalState = { stanNext: 1, batch: "000001", signedOn: false };
  #mac: BlockCipher | undefined;
  #pik: BlockCipher | undefined;
  readonly #macOut = new Uint8Array(8);
  /**
   * The answer the link just read the correlation key of, decoded: its exchange's callback takes it
   * instead of decoding the same bytes again (a TMS answer carries a kilobyte of hex). Held from the
   * link's key reading to that callback, or to the discard, never longer.
   */
  #keyed: { readonly bytes: Uint8Array; readonly message: IsoMessage } | undefined;
  /** The last link failures (what a network check shows), newest last. */
  readonly #linkFailures: LinkFailure[] = [];
  /** Where each live reversible record stands in the reversal machine (closed ones leave). */
  readonly #records = new Map<string, ReversalState>();

  constructor(options: TxnEngineOptions) {
    this.#options = options;
    this.#reversalAttempts = options.reversalAttempts ?? 3;
    this.#responseTimeoutMs = options.responseTimeoutMs ?? 60_000;
    this.#limits = options.limits ?? FIELD_LIMITS;
    this.#blockSales = options.blockSalesWhileReversalFailed === true;
    this.#policy = options.reversalPolicy ?? XSPOS_POLICY;
    assertInteger(this.#reversalAttempts, 1, REVERSAL_ATTEMPTS_MAX, "reversalAttempts");
    assertInteger(this.#limits.amountMaxMinor, 1, AMOUNT_MAX, "limits.amountMaxMinor");
    assertInteger(this.#limits.batchCountMax, 1, FIELD_LIMITS.batchCountMax, "limits.batchCountMax");
    assertInteger(this.#limits.batchAmountMaxMinor, 1, FIELD_LIMITS.batchAmountMaxMinor, "limits.batchAmountMaxMinor");
    this.#link = new HostLink({
      transport: options.transport,
      clock: options.clock,
      endpoint: options.endpoint,
      readKey: (bytes) => this.#readKey(bytes),
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      responseTimeoutMs: this.#responseTimeoutMs,
      onDiscard: (reason, key) => {
        this.#keyed = undefined;
        if (key !== undefined) this.#emit({ ev: "recv", mti: key.mti, stan: key.stan, discarded: true, reason });
      },
    });
  }

  /** True when no operation runs or waits. */
  get idle(): boolean {
    return !this.#running && this.#queue.length === 0;
  }

  get state(): TerminalState {
    return this.#state;
  }

  /**
   * New settings from a parameter download: they apply from the next operation and the next attempt
   * (an exchange on the wire keeps its deadline; an episode under way keeps its attempt count).
   */
  configure(settings: EngineSettings): void {
    const limits = settings.limits;
    assertInteger(settings.reversalAttempts, 1, REVERSAL_ATTEMPTS_MAX, "reversalAttempts");
    assertInteger(limits.amountMaxMinor, 1, AMOUNT_MAX, "limits.amountMaxMinor");
    assertInteger(limits.batchCountMax, 1, FIELD_LIMITS.batchCountMax, "limits.batchCountMax");
    assertInteger(limits.batchAmountMaxMinor, 1, FIELD_LIMITS.batchAmountMaxMinor, "limits.batchAmountMaxMinor");
    this.#link.setTimeouts(settings.connectTimeoutMs, settings.responseTimeoutMs);
    this.#responseTimeoutMs = settings.responseTimeoutMs;
    this.#reversalAttempts = settings.reversalAttempts;
    this.#blockSales = settings.blockSalesWhileReversalFailed;
    this.#limits = limits;
  }

  /** The downloaded parameter block (undefined: none) goes into the state record: durable, in one write, when this returns. */
  saveParameters(block: Uint8Array | undefined): void {
    assert(block === undefined || (block.length > 0 && block.length <= STATE_PARAMETER_BYTES_MAX), "a parameter block of 1..128 bytes");
    const { parameters: _old, ...rest } = this.#state;
    this.#saveState(block === undefined ? rest : { ...rest, parameters: block.slice() });
  }

  /**
   * One TMS 0800/0810 (docs/tms.md), queued like every operation and, like every online message, behind
   * the reversals owed. MAC'd both ways: an answer without a good F64, or whose 60.3 is not the request's,
   * is a TmsError, as is no answer. `done` runs once, after the operation has finished.
   */
  tmsExchange(netCode: TmsNetCode, payload: Uint8Array | undefined, done: (answer: TmsAnswer | TmsError) => void): void {
    this.#enqueue((finish) => {
      const end = (answer: TmsAnswer | TmsError): void => {
        finish();
        done(answer);
      };
      if (!this.#state.signedOn || this.#mac === undefined) return end(new TmsError("notSignedOn", "sign on first"));
      this.#flushReversals((reachable) => {
        if (!reachable) return end(new TmsError("unreachable", "the reversals owed could not go out"));
        const stan = this.#takeStan();
        const request = messages.tms(this.#identity, stan, this.#state.batch, netCode, payload === undefined ? undefined : toHex(payload));
        this.#link.exchange(
          {
            message: this.#encode(request),
            expect: { mti: "0810", stan, tid: this.#options.terminalId },
            onWritten: () => this.#emit({ ev: "send", mti: "0800", stan }),
          },
          (outcome) => {
            if (outcome.kind !== "response") {
              this.#noteLinkFailure(outcome.failure);
              return end(new TmsError("unreachable", outcome.detail));
            }
            let message: IsoMessage;
            try {
              message = this.#decodeAnswer(outcome.message);
            } catch (error) {
              if (!(error instanceof Iso8583Error)) throw error;
              return end(new TmsError("malformed", `the 0810 does not decode (field ${error.field})`));
            }
            const f39 = message.fields[39] ?? "";
            const macValid = message.fields[64] !== undefined && this.#verifyMac(outcome.message, message);
            this.#emit(
              macValid ? { ev: "recv", mti: "0810", stan, f39 } : { ev: "recv", mti: "0810", stan, f39, discarded: true, reason: "badMac" },
            );
            if (!macValid) return end(new TmsError("badMac", "the 0810's MAC is missing or wrong"));
            if ((message.fields[60] ?? "").slice(8, 11) !== netCode)
              return end(new TmsError("mismatch", "60.3 of the 0810 is not the request's"));
            const f62 = message.fields[62];
            end(f62 === undefined ? { f39 } : { f39, f62: fromHex(f62) });
          },
        );
      });
    });
  }

  /** How this engine's reversal episodes spend their attempts. */
  get reversalPolicy(): ReversalPolicy {
    return this.#policy;
  }

  /**
   * Power-on: recovery, then reversals due and an interrupted settlement resume. `onState` sees the state
   * record first (the terminal configures the engine from a downloaded parameter block before anything runs).
   */
  boot(onState?: (state: TerminalState) => void): void {
    const { state, journal, keys } = this.#options;
    this.#state = state.load() ?? this.#state;
    onState?.(this.#state);
    // Every record still needing a reversal counts, 冲正失败 included: all of them go out before the next online message.
    const due = journal.recover();
    this.#records.clear();
    for (const record of journal.pending()) {
      this.#track(record.stan, record.state === "failed" ? "failed" : "reversalDue");
      this.#emit({ ev: "journal", stan: record.stan, state: "reversalDue", reason: record.reason });
    }
    this.#emit({ ev: "boot", reversalDue: due });
    this.#loadCiphers(keys);
    this.#enqueue((finish) =>
      this.#flushReversals((reachable) => {
        const progress = this.#state.settlement;
        // An interrupted upload resumes only behind the reversals: none may wait while it goes out.
        if (progress === undefined || !reachable) return finish();
        this.#upload(progress.next, () => finish());
      }),
    );
  }

  signOn(): void {
    this.#enqueue((finish) => {
      const stan = this.#takeStan();
      this.#flushReversals((reachable) =>
        !reachable
          ? this.#refuse("signOn", "reversalPending", finish, stan)
          : this.#online("signOn", messages.signOn(this.#identity, stan, this.#state.batch), undefined, (result) => {
              const answer = result.kind === "answer" ? result.answer : undefined;
              if (answer?.f39 === "00" && this.#acceptSignOn(answer.message)) {
                if (answer.message.header?.[5] === PROCESSING_TMS_CHECK) this.#emit({ ev: "tmsDue" });
                return this.#result({ op: "signOn", stan, outcome: "approved", f39: "00" }, finish);
              }
              this.#finishWith("signOn", stan, result, finish);
            }),
      );
    });
  }

  signOff(): void {
    this.#management("signOff", "002");
  }

  echo(): void {
    this.#management("echo", "301");
  }

  balance(card: PresentedCard, pin?: string): void {
    this.#cardOperation({
      op: "balance",
      amount: 0,
      card,
      build: (stan) => messages.balance(this.#identity, this.#cardRequest(stan, card, pin)),
    });
  }

  sale(request: SaleRequest): void {
    checkAmount(request.amount);
    this.#cardOperation({
      op: "sale",
      amount: request.amount,
      card: request.card,
      build: (stan) => messages.sale(this.#identity, this.#cardRequest(stan, request.card, request.pin), request.amount),
    });
  }

  refund(request: RefundRequest): void {
    checkAmount(request.amount);
    const refusal = refundRefusal(this.refundable(request.originalStan), request.amount);
    if (refusal !== undefined)
      throw new TxnRequestError("originalStan", `${REFUND_REFUSALS[refusal]} (STAN ${request.originalStan!}, refund ${request.amount})`);
    this.#cardOperation({
      op: "refund",
      amount: request.amount,
      card: request.card,
      originalStan: request.originalStan,
      build: (stan) =>
        messages.refund(this.#identity, this.#cardRequest(stan, request.card, request.pin), request.amount, request.originalStan),
    });
  }

  /**
   * The approved sale of the open batch with this STAN that a void may still take back, or why it may not: not in
   * the open batch, voided already, or refunded (partly or wholly) by a refund of the open batch that names it, whose
   * money the customer has: a void on top would credit them twice. What a void confirms before it runs.
   */
  voidable(originalStan: string): VoidLookup {
    // The same walk as a refund's: one reading of what names a sale. A refund gives back at least 1 fen.
    const found = this.refundable(originalStan);
    if (found === undefined) return { refusal: "notFound" };
    if (found.voided) return { refusal: "voided" };
    return found.refundedAmount > 0 ? { refusal: "refunded" } : { sale: found.sale };
  }

  /**
   * The sale of the open batch a refund naming `originalStan` would give money back for: voided or not, and what
   * the refunds of the open batch naming it gave back already. Undefined when there is none here to check (no STAN,
   * or a sale of an earlier batch): the acquirer checks those.
   */
  refundable(originalStan: string | undefined): RefundableSale | undefined {
    if (originalStan === undefined) return undefined;
    let sale: ApprovedRecord | undefined;
    let refundedAmount = 0;
    let voided = false;
    this.#options.journal.forEachApproved((r) => {
      if (r.op === "sale") {
        if (sale === undefined && r.stan === originalStan) sale = r;
      } else if (r.originalStan === originalStan) {
        if (r.op === "void") voided = true;
        else refundedAmount += r.amount;
      }
      return !voided;
    });
    return sale === undefined ? undefined : { sale, voided, refundedAmount };
  }

  /** Voids a sale of the open batch by its STAN. */
  voidSale(originalStan: string): void {
    const lookup = this.voidable(originalStan);
    if (!("sale" in lookup)) throw new TxnRequestError("stan", `${VOID_REFUSALS[lookup.refusal]} (STAN ${originalStan})`);
    const original = lookup.sale;
    this.#cardOperation({
      op: "void",
      amount: original.amount,
      originalStan,
      original,
      build: (stan) => messages.voidSale(this.#identity, stan, this.#state.batch, original, original.pan, original.expiry),
    });
  }

  settle(): void {
    this.#enqueue((finish) => {
      if (!this.#requireSignOn("settle", finish)) return;
      this.#flushReversals((reachable) => {
        if (!reachable) return this.#refuse("settle", "reversalPending", finish);
        const batch = this.#state.batch;
        const stan = this.#takeStan();
        this.#emit({ ev: "settlementProgress", phase: "totals", batch, uploaded: 0, toUpload: 0 });
        this.#online("settle", messages.settlement(this.#identity, stan, batch, this.#totalsField()), undefined, (result) => {
          const answer = result.kind === "answer" ? result.answer : undefined;
          if (answer === undefined || answer.f39 !== "00" || !answer.macValid) return this.#finishWith("settle", stan, result, finish);
          const f48 = answer.message.fields[48] ?? "";
          const balanced = f48.length >= 62 && f48[30] === "1" && f48[61] === "1";
          if (balanced) {
            this.#closeBatch(stan, true);
            return this.#result({ op: "settle", stan, outcome: "approved", f39: "00" }, finish);
          }
          this.#saveState({ ...this.#state, settlement: { batch, phase: "upload", next: 0 } });
          this.#upload(0, () =>
            this.#result({ op: "settle", stan, outcome: this.#state.settlement === undefined ? "approved" : "failed", f39: "00" }, finish),
          );
        });
      });
    });
  }

  // ---------------------------------------------------------------- operations

  get #identity(): messageBuilders.Identity {
    return { terminalId: this.#options.terminalId, merchantId: this.#options.merchantId };
  }

  #management(op: "signOff" | "echo", code: "002" | "301"): void {
    this.#enqueue((finish) => {
      if (!this.#requireSignOn(op, finish)) return;
      this.#flushReversals((reachable) => {
        if (!reachable) return this.#refuse(op, "reversalPending", finish);
        const stan = this.#takeStan();
        this.#online(op, messages.networkManagement(this.#identity, stan, this.#state.batch, code), undefined, (result) => {
          const answer = result.kind === "answer" ? result.answer : undefined;
          const ok = answer !== undefined && answer.f39 === "00" && answer.macValid;
          if (ok && op === "signOff") this.#saveState({ ...this.#state, signedOn: false });
          if (ok) return this.#result({ op, stan, outcome: "approved", f39: "00" }, finish);
          this.#finishWith(op, stan, result, finish);
        });
      });
    });
  }

  /** A limit this operation would pass, asked before a STAN or a byte is spent. */
  #limitPassed(request: CardOperation): RefusalReason | undefined {
    if (request.op === "balance") return undefined;
    if (request.op !== "void" && request.amount > this.#limits.amountMaxMinor) return "amountLimit";
    // Counted and totalled without reading the batch: the journal keeps both as running numbers.
    const { journal } = this.#options;
    if (journal.approvedCount() >= this.#limits.batchCountMax) return "batchLimit";
    if (request.op === "void") return undefined;
    const totals = wholeBatch(journal.approvedTotals());
    const open = request.op === "sale" ? totals.saleAmount : totals.refundAmount;
    return open + request.amount > this.#limits.batchAmountMaxMinor ? "batchLimit" : undefined;
  }

  #cardOperation(request: CardOperation): void {
    const { op, amount, card, original } = request;
    this.#enqueue((finish) => {
      if (!this.#requireSignOn(op, finish)) return;
      this.#flushReversals((reachable) => {
        if (!reachable) return this.#refuse(op, "reversalPending", finish);
        const { journal } = this.#options;
        if (op === "sale" && this.#blockSales && journal.pending().length > 0) return this.#refuse(op, "blocked", finish);
        const limit = this.#limitPassed(request);
        if (limit !== undefined) return this.#refuse(op, limit, finish);
        // Asked after the flush (a reversal that went through frees room) and before a STAN or a byte is spent.
        if (op !== "balance" && !journal.canArm()) return this.#refuse(op, "journalFull", finish);
        const stan = this.#takeStan();
        const message = request.build(stan);
        // Every financial request is reversible (a refund too: the host may have credited the card before its answer was lost).
        const record: ReversalRecord | undefined =
          op === "balance"
            ? undefined
            : { stan, batch: this.#state.batch, op, amount, fields: messages.reversalFields(message), state: "armed" };
        const onFile: CardOnFile = card ?? original!;
        const armed =
          record === undefined ? undefined : { record, card: { pan: onFile.pan, expiry: onFile.expiry, domestic: onFile.domestic } };
        const sent: SentRequest = { ...request, stan, message, record };
        this.#online(op, message, armed, (result) => {
          if (result.kind === "notSent") return this.#refuse(op, "notSent", finish, stan);
          if (result.kind === "noResponse" || result.kind === "garbled") {
            if (record === undefined) return this.#finishWith(op, stan, result, finish);
            const garbled = result.kind === "garbled";
            return this.#trigger(
              sent,
              garbled ? "failedAfterApproval" : "noAnswer",
              garbled ? "06" : "98",
              undefined,
              undefined,
              (episode) => this.#result({ op, stan, outcome: garbled ? "failed" : "timeout", amount, ...episodeFields(episode) }, finish),
            );
          }
          this.#onAnswer(sent, result.answer, finish);
        });
      });
    });
  }

  #onAnswer(request: SentRequest, answer: Answer, finish: () => void): void {
    const { op, stan, record, card, amount, original } = request;
    const f39 = answer.f39;
    const fields = answer.message.fields;
    if (record !== undefined) this.#move(stan, "answer");
    const failed = (episode: EpisodeOutcome | undefined) =>
      this.#result({ op, stan, outcome: "failed", f39, amount, ...episodeFields(episode) }, finish);
    // An approval must echo F3, F4 and F42 (reference §2.3), and carry references the journal can keep: one
    // that does not is a bad answer, reversed with 06.
    const echoesRequest =
      fields[3] === request.message.fields[3] &&
      (request.message.fields[4] === undefined || fields[4] === request.message.fields[4]) &&
      fields[42] === request.message.fields[42] &&
      messages.approvalReferencesValid(fields[38], fields[37]);
    if (f39 === "00" && !answer.macValid) {
      if (record === undefined) return failed(undefined);
      return this.#trigger(request, "badMac", "A0", undefined, undefined, failed);
    }
    if (f39 !== "00" || !echoesRequest) {
      if (record !== undefined && f39 === "00") return this.#trigger(request, "failedAfterApproval", "06", undefined, fields[38], failed);
      // A balance's 00 that does not echo is a bad answer as well, not a decline: failed, with nothing to reverse.
      if (f39 === "00") return failed(undefined);
      if (record !== undefined) {
        this.#move(stan, "declined");
        this.#journal("complete", stan);
      }
      return this.#result({ op, stan, outcome: "declined", f39, ...(amount > 0 ? { amount } : {}) }, finish);
    }
    // The second GENERATE AC completes a chip sale; a chip refund ends with its first (no card decision on the host's answer).
    if (op === "sale" && card?.completeChip !== undefined && record !== undefined) {
      const chip = card.completeChip(f39, fields[55]);
      if (!chip.accepted) return this.#trigger(request, "failedAfterApproval", "06", messages.reversalF55(chip.f55), fields[38], failed);
    }
    if (op === "balance") {
      const balance = messages.balanceOf(fields[54]);
      return this.#result({ op, stan, outcome: "approved", f39, ...(balance !== undefined ? { balance } : {}) }, finish);
    }
    const pan = card?.pan ?? original!.pan;
    const approved: ApprovedRecord = {
      stan,
      batch: this.#state.batch,
      op,
      amount,
      panMasked: maskPan(pan),
      pan,
      expiry: card?.expiry ?? original!.expiry,
      domestic: card?.domestic ?? original!.domestic,
      authCode: fields[38] ?? "",
      rrn: fields[37] ?? "",
      originalStan: request.originalStan,
    };
    // One atomic step: the armed record closes and the approval is logged (sale, void and refund alike).
    this.#options.journal.approve(approved);
    this.#move(stan, "approved");
    this.#emit({ ev: "journal", stan, state: "completed" });
    this.#result({ op, stan, outcome: "approved", f39, amount }, finish);
  }

  // ---------------------------------------------------------------- reversal

  /** A trigger: the record becomes reversal-due and its episode runs now; `then` hears whether it was reversed. */
  #trigger(
    request: SentRequest,
    event: ReversalEvent,
    reason: ReversalReason,
    f55: string | undefined,
    authCode: string | undefined,
    then: (outcome: EpisodeOutcome) => void,
  ): void {
    const stan = request.stan;
    this.#options.journal.reversalDue(stan, reason, f55, authCode);
    this.#move(stan, event);
    this.#emit({ ev: "journal", stan, state: "reversalDue", reason });
    // The 0400 is built from the record as the journal keeps it: the same record a reboot would read back.
    const due = this.#options.journal.pending().find((r) => r.stan === stan);
    assert(due !== undefined, "TxnEngine: a reversal-due record is missing from the journal");
    this.#episode(due, false, then);
  }

  /**
   * Every pending reversal gets one episode, oldest first, before the next online message. `reachable`
   * false: one could not be sent at all (xspos policy), so no other message may go before it.
   */
  #flushReversals(then: (reachable: boolean) => void): void {
    if (this.#mac === undefined) return then(true); // no MAK yet: a sign-on must come first
    const pending = this.#options.journal.pending().slice(0, PENDING_REVERSALS_MAX);
    const next = (index: number): void => {
      if (index >= pending.length) return then(true);
      this.#episode(pending[index], true, (outcome) => (outcome === "offline" ? then(false) : next(index + 1)));
    };
    next(0);
  }

  /** Reversals still owed go out now, if any (the terminal's idle worker, a link that came back). */
  retryReversals(): void {
    if (this.#mac === undefined || this.#options.journal.pending().length === 0) return;
    this.#enqueue((finish) => this.#flushReversals(() => finish()));
  }

  /**
   * Reversal attempts, `reversalAttempts` in all until the record is 冲正失败: the count lives on flash
   * (`attempt`, durable before the 0400's first byte), so a reboot mid-episode continues it instead of
   * granting a fresh set every boot (a terminal that keeps rebooting would otherwise never reach
   * 冲正失败 and never tell the operator). A 冲正失败 record gets a fresh episode before each later
   * online message (contract).
   *
   * The policy decides how attempts are spent. The reference counts an attempt before connecting and
   * goes back to back; xspos counts it only once the connection is up and the 0400 is about to be
   * written (a dead link proves nothing about the bank), waits `backoffMs` between attempts, and ends
   * the episode `offline` when nothing could be sent: the record stays owed, not 冲正失败.
   */
  #episode(record: ReversalRecord, deferred: boolean, then: (outcome: EpisodeOutcome) => void): void {
    const reason = record.reason ?? "98";
    const journal = this.#options.journal;
    const attempts = this.#reversalAttempts;
    const policy = this.#policy;
    const wasFailed = record.state === "failed";
    const { stan, op, amount } = record;
    const count = () => {
      this.#move(stan, "attempt");
      journal.attempt(stan);
    };
    const attempt = (n: number): void => {
      if (n > attempts) {
        this.#move(stan, "exhausted");
        this.#journal("failed", stan);
        const salesBlocked = this.#blockSales;
        this.#emit({ ev: "reversal", phase: "failed", stan, op, amount, attempts, deferred, firstFailure: !wasFailed, salesBlocked });
        return then("failed");
      }
      if (policy.countUnsentAttempts) count();
      this.#emit({ ev: "reversal", phase: "attempt", stan, op, amount, attempt: n, attempts, deferred });
      const onWaiting = () =>
        this.#emit({
          ev: "reversal",
          phase: "waiting",
          stan,
          op,
          amount,
          attempt: n,
          attempts,
          deferred,
          timeoutMs: this.#responseTimeoutMs,
        });
      const beforeWrite = policy.countUnsentAttempts ? undefined : count;
      this.#online(
        op,
        messages.reversal(record, reason),
        undefined,
        (result) => {
          if (result.kind === "notSent" && !policy.countUnsentAttempts) {
            // Nothing reached the bank: the record stays owed, and the merchant hears "no network", not 冲正失败.
            this.#emit({ ev: "reversal", phase: "offline", stan, op, amount, deferred });
            return then("offline");
          }
          const answer = result.kind === "answer" ? result.answer : undefined;
          if (answer !== undefined && answer.macValid && REVERSAL_FINAL_CODES.includes(answer.f39 ?? "")) {
            this.#move(stan, "accepted");
            this.#journal("reversed", stan);
            this.#emit({ ev: "reversal", phase: "reversed", stan, op, amount, attempt: n, deferred, wasFailed });
            return then("reversed");
          }
          this.#move(stan, "unanswered");
          const waitMs = n < attempts ? backoffOf(policy, n) : 0;
          if (waitMs === 0) return attempt(n + 1);
          this.#emit({ ev: "reversal", phase: "backoff", stan, op, amount, attempt: n + 1, attempts, deferred, timeoutMs: waitMs });
          this.#options.clock.schedule(waitMs, () => attempt(n + 1));
        },
        { beforeWrite, onWaiting },
      );
    };
    attempt(wasFailed ? 1 : Math.min((record.attempts ?? 0) + 1, attempts + 1));
  }

  /** Moves a record through the reversal machine; a move the table does not name is a bug. */
  #move(stan: string, event: ReversalEvent): void {
    const from = this.#records.get(stan);
    assert(from !== undefined, `TxnEngine: STAN ${stan} is not a live reversible record`);
    const to = nextReversalState(from, event);
    if (REVERSAL_FINAL_STATES.includes(to)) this.#records.delete(stan);
    else this.#records.set(stan, to);
  }

  #track(stan: string, state: ReversalState): void {
    assert(this.#records.size < TRACKED_MAX || this.#records.has(stan), "TxnEngine: too many live reversible records");
    this.#records.set(stan, state);
  }

  /** The last link failures, newest last (bounded): what a network check shows. */
  #noteLinkFailure(failure: LinkFailure["failure"]): void {
    if (this.#linkFailures.length >= LINK_FAILURES_KEPT) this.#linkFailures.shift();
    this.#linkFailures.push({ failure, atMs: this.#options.wallClock?.nowMs() ?? this.#options.clock.nowMs() });
  }

  /**
   * 检查网络连接: the reversals owed go first (as before any online message), then an 0820 echo whose
   * connect (TCP and TLS) and answer times are measured, with the last link failures. Before sign-on
   * too: a merchant whose sign-on fails needs the check most; the reversals then wait for the sign-on
   * (they need its MAK) and the echo proves only that the host is reached.
   */
  networkCheck(): void {
    this.#enqueue((finish) => {
      const signedOn = this.#state.signedOn && this.#mac !== undefined;
      const flush = signedOn
        ? (then: (reachable: boolean) => void) => this.#flushReversals(then)
        : (then: (reachable: boolean) => void) => then(true);
      flush((reachable) => {
        const failures = this.#linkFailures.slice();
        if (!reachable) {
          this.#emit({ ev: "networkCheck", ok: false, failures });
          return this.#refuse("networkCheck", "reversalPending", finish);
        }
        const stan = this.#takeStan();
        const startMs = this.#options.clock.nowMs();
        let connectMs: number | undefined;
        let writtenMs: number | undefined;
        const request = messages.networkManagement(this.#identity, stan, this.#state.batch, "301");
        this.#online(
          "networkCheck",
          request,
          undefined,
          (result) => {
            const answer = result.kind === "answer" ? result.answer : undefined;
            const ok = answer !== undefined && answer.f39 === "00" && answer.macValid;
            const answerMs = ok && writtenMs !== undefined ? this.#options.clock.nowMs() - writtenMs : undefined;
            // Reached but refused: why, so the merchant is not sent to check a network that works.
            const refusedBy = answer === undefined || ok ? {} : answer.macValid ? { f39: answer.f39 } : { badMac: true as const };
            this.#emit({
              ev: "networkCheck",
              ok,
              ...(connectMs !== undefined ? { connectMs } : {}),
              ...(answerMs !== undefined ? { answerMs } : {}),
              ...refusedBy,
              failures: this.#linkFailures.slice(),
            });
            if (ok) return this.#result({ op: "networkCheck", stan, outcome: "approved", f39: "00" }, finish);
            this.#finishWith("networkCheck", stan, result, finish);
          },
          {
            beforeWrite: () => (connectMs = this.#options.clock.nowMs() - startMs),
            onWaiting: () => {
              writtenMs = this.#options.clock.nowMs();
              this.#emit({ ev: "exchange", op: "networkCheck", stan, phase: "waiting", timeoutMs: this.#responseTimeoutMs });
            },
          },
        );
      });
    });
  }

  /** Records still owed a reversal, as settlement reports them. */
  #openReversals(): OpenReversal[] {
    return this.#options.journal
      .pending()
      .slice(0, PENDING_REVERSALS_MAX)
      .map((r) => ({ stan: r.stan, op: r.op, amount: r.amount, state: r.state === "failed" ? "failed" : "reversalDue" }));
  }

  // ---------------------------------------------------------------- settlement

  /** F48 of the 0500: the open batch's totals per card origin; the batch limits keep each within its digits. */
  #totalsField(): string {
    const { domestic, foreign } = this.#options.journal.approvedTotals();
    const part = (totals: BatchTotals) => ({
      debitAmount: totals.saleAmount,
      debitCount: totals.saleCount,
      creditAmount: totals.refundAmount,
      creditCount: totals.refundCount,
      result: "0",
    });
    return encodeSettlementTotals({ domestic: part(domestic), foreign: part(foreign) });
  }

  /**
   * Batch upload from record `next` (among the approved log's records that are not voids), then the
   * end-of-upload message; progress is durable after each.
   */
  #upload(next: number, then: () => void): void {
    const progress = this.#state.settlement;
    assert(progress !== undefined, "TxnEngine: upload without a settlement in progress");
    const { journal } = this.#options;
    const { domestic, foreign } = journal.approvedTotals();
    const toUpload = journal.approvedCount() - domestic.voidCount - foreign.voidCount;
    this.#emit({ ev: "settlementProgress", phase: "upload", batch: progress.batch, uploaded: next, toUpload });
    const stan = this.#takeStan();
    const ending = next >= toUpload;
    const request = ending
      ? messages.batchUploadEnd(this.#identity, stan, progress.batch, toUpload)
      : messages.batchUpload(this.#identity, stan, progress.batch, this.#uploadRecord(next));
    this.#online("settle", request, undefined, (result) => {
      const answer = result.kind === "answer" ? result.answer : undefined;
      if (answer === undefined || answer.f39 !== "00" || !answer.macValid) return then(); // resumes at the next settle or boot
      if (ending) {
        this.#closeBatch(stan, false);
        return then();
      }
      this.#saveState({ ...this.#state, settlement: { ...progress, next: next + 1 } });
      this.#upload(next + 1, then);
    });
  }

  /**
   * The `index`-th record to upload, read from flash (nothing of the batch stays in RAM). Uploads go in
   * order, so the walk resumes after the previous record (#uploadCursor); after a reboot the first one
   * walks from the start.
   */
  #uploadRecord(index: number): ApprovedRecord {
    const cursor = this.#uploadCursor;
    const resume = cursor !== undefined && cursor.index === index - 1 ? cursor.stan : undefined;
    let record: ApprovedRecord | undefined;
    let seen = resume === undefined ? 0 : index;
    this.#options.journal.forEachApproved((r) => {
      if (r.op === "void" || seen++ < index) return true;
      record = r;
      return false;
    }, resume);
    assert(record !== undefined, `TxnEngine: no record ${index} to upload`);
    this.#uploadCursor = { index, stan: record.stan };
    return record;
  }

  #closeBatch(stan: string, balanced: boolean): void {
    this.#uploadCursor = undefined;
    const batch = this.#state.batch;
    const totals = wholeBatch(this.#options.journal.approvedTotals());
    const openReversals = this.#openReversals();
    this.#options.journal.closeBatch(batch);
    const nextBatch = padNumber((Number(batch) % 999_999) + 1, 6);
    this.#saveState({ stanNext: this.#state.stanNext, batch: nextBatch, signedOn: this.#state.signedOn });
    this.#emit({ ev: "settlement", batch, stan, balanced, totals, openReversals });
  }

  // ---------------------------------------------------------------- one message

  /**
   * Encodes and MACs `request`, exchanges it, decodes and checks the answer.
   * `record` is armed inside beforeWrite: durable before the first byte.
   */
  #online(
    op: Operation,
    request: IsoMessage,
    armed: Armed | undefined,
    done: (result: OnlineResult) => void,
    hooks?: { readonly beforeWrite?: () => void; readonly onWaiting: () => void },
  ): void {
    const stan = request.fields[11]!;
    const waiting =
      hooks?.onWaiting ?? (() => this.#emit({ ev: "exchange", op, stan, phase: "waiting", timeoutMs: this.#responseTimeoutMs }));
    const bytes = this.#encode(request);
    const expect: CorrelationKey = { mti: messages.responseMti(request.mti), stan, tid: this.#options.terminalId };
    if (request.mti !== "0400") this.#emit({ ev: "exchange", op, stan, phase: "connecting" });
    this.#link.exchange(
      {
        message: bytes,
        expect,
        beforeWrite: () => {
          hooks?.beforeWrite?.();
          if (armed === undefined) return;
          this.#options.journal.arm(armed.record, armed.card);
          this.#track(stan, "armed");
          this.#emit({ ev: "journal", stan, state: "armed" });
        },
        onWritten: () => {
          this.#emit(
            request.fields[39] === undefined
              ? { ev: "send", mti: request.mti, stan }
              : { ev: "send", mti: request.mti, stan, f39: request.fields[39] },
          );
          if (armed !== undefined) this.#move(stan, "written");
          waiting();
        },
      },
      (outcome: ExchangeOutcome) => {
        if (outcome.kind !== "response") this.#noteLinkFailure(outcome.failure);
        if (outcome.kind === "notSent") return done({ kind: "notSent" });
        if (outcome.kind === "noResponse") return done({ kind: "noResponse" });
        let message: IsoMessage;
        try {
          message = this.#decodeAnswer(outcome.message);
        } catch (error) {
          if (!(error instanceof Iso8583Error)) throw error;
          return done({ kind: "garbled" });
        }
        const f39 = message.fields[39];
        const macValid = this.#verifyMac(outcome.message, message);
        // Discarded only when the engine ignores it: an approval or a reversal's final answer that fails its MAC.
        // A decline is acted on with or without a good MAC (it moves no money), so it is a plain recv.
        if (!macValid && macProtects(message)) this.#emit({ ev: "recv", mti: message.mti, stan, f39, discarded: true, reason: "badMac" });
        else this.#emit({ ev: "recv", mti: message.mti, stan, f39 });
        done({ kind: "answer", answer: { message, f39, macValid } });
      },
    );
  }

  #encode(request: IsoMessage): Uint8Array {
    const encoded = this.#codec.encode(request).slice();
    if (request.fields[64] !== undefined) {
      assert(this.#mac !== undefined, "TxnEngine: a MAC'd message before sign-on");
      this.#codec.writeMac(encoded, cupEcbMac(this.#mac, this.#codec.macInput(encoded), this.#macOut));
    }
    return encoded;
  }

  /**
   * An answer without F64 is valid only where none is due (sign-on, answers the engine does not trust anyway:
   * declines); an approval and a reversal's final 0410 (00, 12, 25) must carry F64, and it must match.
   */
  #verifyMac(bytes: Uint8Array, message: IsoMessage): boolean {
    // An echo answered before sign-on (the network check): no MAK to check it with, and it authorizes nothing.
    if (this.#mac === undefined && message.mti === "0830") return true;
    if (message.fields[64] === undefined) return message.mti === "0810" || !macProtects(message);
    if (this.#mac === undefined) return false;
    return macEqual(cupEcbMac(this.#mac, this.#codec.macInput(bytes), this.#macOut), this.#codec.macField(bytes));
  }

  #readKey(bytes: Uint8Array): CorrelationKey | undefined {
    this.#keyed = undefined;
    try {
      const message = this.#codec.decode(bytes);
      this.#keyed = { bytes, message };
      const stan = message.fields[11];
      const tid = message.fields[41];
      return stan === undefined || tid === undefined ? undefined : { mti: message.mti, stan, tid };
    } catch (error) {
      if (error instanceof Iso8583Error) return undefined;
      throw error;
    }
  }

  /** An answer's message: the one decoded when its key was read (the same bytes), else decoded now. */
  #decodeAnswer(bytes: Uint8Array): IsoMessage {
    const keyed = this.#keyed;
    this.#keyed = undefined;
    return keyed !== undefined && keyed.bytes === bytes ? keyed.message : this.#codec.decode(bytes);
  }

  #acceptSignOn(message: IsoMessage): boolean {
    const { keys } = this.#options;
    const tmk = keys.loadMasterKey();
    const f62 = message.fields[62];
    const f60 = message.fields[60] ?? "";
    if (tmk === undefined || f62 === undefined || f60.length < 8) return false;
    try {
      keys.replaceWorkingKeys(unwrapWorkingKeys(fromHex(f62), tmk, this.#options.ciphers));
    } catch {
      return false; // a bad check value: the keys are not trusted and the sign-on fails
    }
    this.#loadCiphers(keys);
    // 60.2 is taken only while the terminal's own batch is empty. When a 0500's answer was lost after the
    // host settled, the host's batch has moved on while the approvals are still open here: they settle
    // under their own batch first (the host settles it again, balanced), or no later settlement would
    // ever close them and every one would be unbalanced.
    const keepBatch = this.#state.settlement !== undefined || this.#options.journal.approvedCount() > 0;
    this.#saveState({ ...this.#state, batch: keepBatch ? this.#state.batch : f60.slice(2, 8), signedOn: true });
    this.#setWallClock(message.fields[13], message.fields[12]);
    return true;
  }

  /**
   * F13 (MMDD) and F12 (hhmmss) of the sign-on answer set the calendar clock; the year is the one closest to the
   * current (to the floor, when the clock was lost).
   */
  #setWallClock(monthDay: string | undefined, time: string | undefined): void {
    const wall = this.#options.wallClock;
    if (wall === undefined || monthDay === undefined || time === undefined || !/^[0-9]{4}$/.test(monthDay) || !/^[0-9]{6}$/.test(time))
      return;
    const nowMs = Math.max(wall.nowMs(), CALENDAR_FLOOR_MS);
    const year = new Date(nowMs).getUTCFullYear();
    let best: number | undefined;
    for (let y = year - 1; y <= year + 1; y++) {
      const ms = Date.UTC(
        y,
        Number(monthDay.slice(0, 2)) - 1,
        Number(monthDay.slice(2)),
        Number(time.slice(0, 2)),
        Number(time.slice(2, 4)),
        Number(time.slice(4)),
      );
      if (best === undefined || Math.abs(ms - nowMs) < Math.abs(best - nowMs)) best = ms;
    }
    wall.set(best!);
  }

  /** False when the calendar clock reads before the floor: it was lost, and only a sign-on sets it again. */
  #calendarKnown(): boolean {
    const wall = this.#options.wallClock;
    return wall === undefined || wall.nowMs() >= CALENDAR_FLOOR_MS;
  }

  #loadCiphers(keys: KeyStore): void {
    const working = keys.loadWorkingKeys();
    this.#mac = working?.mak.createCipher(this.#options.ciphers);
    this.#pik = working?.pik.createCipher(this.#options.ciphers);
  }

  #cardRequest(stan: string, card: PresentedCard, pin: string | undefined): messageBuilders.CardRequest {
    if (pin === undefined || pin === "") return { stan, batch: this.#state.batch, card };
    assert(this.#pik !== undefined, "TxnEngine: PIN entry before sign-on");
    const block = pinBlockFormat0(pin, card.pan);
    this.#pik.encryptBlock(block, 0, block, 0);
    const pinBlock = toHex(block);
    block.fill(0);
    return { stan, batch: this.#state.batch, card, pinBlock };
  }

  // ---------------------------------------------------------------- plumbing

  #requireSignOn(op: Operation, finish: () => void): boolean {
    if (this.#state.signedOn && this.#mac !== undefined && this.#calendarKnown()) return true;
    this.#refuse(op, "notSignedOn", finish);
    return false;
  }

  /** Refused on the terminal: nothing sent (a STAN only when a connection was tried). */
  #refuse(op: Operation, refusal: RefusalReason, finish: () => void, stan?: string): void {
    this.#result({ op, outcome: "refused", refusal, ...(stan !== undefined ? { stan } : {}) }, finish);
  }

  /** The STAN is durable before it is used: a power cut never reuses one. */
  #takeStan(): string {
    const stan = this.#state.stanNext;
    this.#saveState({ ...this.#state, stanNext: stan >= STAN_MAX ? 1 : stan + 1 });
    return padNumber(stan, 6);
  }

  #saveState(state: TerminalState): void {
    this.#options.state.save(state);
    this.#state = state;
  }

  #journal(action: "complete" | "reversed" | "failed", stan: string): void {
    this.#options.journal[action](stan);
    this.#emit({ ev: "journal", stan, state: action === "complete" ? "completed" : action });
  }

  #result(result: Omit<Extract<TxnEvent, { ev: "result" }>, "ev">, finish: () => void): void {
    const event: { -readonly [K in keyof typeof result]: (typeof result)[K] } = { ...result };
    if (event.f39 === undefined) delete event.f39;
    this.#emit({ ev: "result", ...event });
    finish();
  }

  /** The result of an exchange that ended without an approval. */
  #finishWith(op: Operation, stan: string, result: OnlineResult, finish: () => void): void {
    if (result.kind === "notSent") return this.#refuse(op, "notSent", finish, stan);
    const f39 = result.kind === "answer" ? result.answer.f39 : undefined;
    this.#result({ op, stan, outcome: outcomeOf(result), f39 }, finish);
  }

  #emit(event: TxnEvent): void {
    this.#options.onEvent(event);
  }

  #enqueue(job: Job): void {
    assert(this.#queue.length < QUEUE_MAX, "TxnEngine: operation queue full");
    this.#queue.push(job);
    if (!this.#running) this.#runNext();
  }

  #runNext(): void {
    const job = this.#queue.shift();
    if (job === undefined) {
      // Reached only after an operation finished (enqueue pushes first): nothing runs any more.
      this.#running = false;
      this.#emit({ ev: "idle" });
      return;
    }
    this.#running = true;
    let finished = false;
    job(() => {
      assert(!finished, "TxnEngine: an operation finished twice");
      finished = true;
      // Next operation after the current call stack unwinds.
      this.#options.clock.schedule(0, () => this.#runNext());
    });
  }
}

function checkAmount(amount: number): void {
  if (!Number.isInteger(amount) || amount <= 0 || amount > AMOUNT_MAX)
    throw new TxnRequestError("amount", `must be an integer of minor units from 1 to ${AMOUNT_MAX}, got ${amount}`);
}

/**
 * Answers whose content the engine acts on only with a good MAC: an approval (00) and a reversal's final
 * 0410 (00/12/25). Any other answer (a decline) is acted on as it is, MAC or not: it moves no money.
 */
function macProtects(message: IsoMessage): boolean {
  const f39 = message.fields[39] ?? "";
  return f39 === "00" || (message.mti === "0410" && REVERSAL_FINAL_CODES.includes(f39));
}

function outcomeOf(result: OnlineResult): Outcome {
  switch (result.kind) {
    case "notSent":
      return "refused";
    case "noResponse":
      return "timeout";
    case "garbled":
      return "failed";
    case "answer":
      return result.answer.f39 === "00" ? "failed" : "declined";
  }
}

/** The whole batch's totals: the two card origins added (a void carries its sale's card, so nothing is counted twice). */
function wholeBatch(totals: ApprovedTotals): BatchTotals {
  const { domestic: d, foreign: f } = totals;
  return {
    saleCount: d.saleCount + f.saleCount,
    saleAmount: d.saleAmount + f.saleAmount,
    voidCount: d.voidCount + f.voidCount,
    voidAmount: d.voidAmount + f.voidAmount,
    refundCount: d.refundCount + f.refundCount,
    refundAmount: d.refundAmount + f.refundAmount,
  };
}

/** What a transaction's result says of its own reversal episode. */
function episodeFields(episode: EpisodeOutcome | undefined): { reversed?: true; reversalPending?: true } {
  if (episode === "reversed") return { reversed: true };
  if (episode === "offline") return { reversalPending: true };
  return {};
}

/** The wait before attempt `n + 1` after attempt `n` went unanswered: the policy's list, its last entry repeating. */
function backoffOf(policy: ReversalPolicy, n: number): number {
  const list = policy.backoffMs;
  return list.length === 0 ? 0 : list[Math.min(n - 1, list.length - 1)];
}
