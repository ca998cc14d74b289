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
 * - a reversal episode runs right after its trigger: `reversalRetries`
 *   attempts, each with the response timeout. Exhausted → 冲正失败: kept, shown
 *   with guidance, retried before the next online message (every one,
 *   balance and settlement included), reported by settlement.
 * - boot: every armed record without a final state is reversal-due.
 *
 * Operations run one at a time from a bounded queue; every decision is an
 * event (`onEvent`), every screen change an input for the UI (`onUi`). When
 * the queue runs dry the UI hears `idle`: a progress screen no result
 * follows (boot's reversals, a resumed upload) gives the keypad back.
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
import { padNumber } from "../iso8583/subfields";
import { HostLink, type CorrelationKey, type ExchangeOutcome } from "../link/host-link";
import type { Clock } from "../platform/clock";
import { maskPan } from "../platform/log";
import type { Transport, TransportEndpoint } from "../platform/transport";
import type { EngineInput, Operation } from "../ui/terminal-ui";
import * as messageBuilders from "./messages";
import type {
  ApprovedRecord,
  CardOnFile,
  PresentedCard,
  ReversalReason,
  ReversalRecord,
  TerminalState,
  TerminalStateStore,
  TxnJournal,
  WallClock,
} from "./ports";

// A namespace import captured by methods is a writable binding to xsl (a RAM alias on the device); a const is not.
const messages = messageBuilders;

export type Outcome = "approved" | "declined" | "timeout" | "refused" | "failed";

/** The events of shared/contracts.md (the runner adds `t`, power and screen). */
export type TxnEvent =
  | { readonly ev: "boot"; readonly reversalDue: number }
  | { readonly ev: "send"; readonly mti: string; readonly stan: string; readonly f39?: string }
  | {
      readonly ev: "recv";
      readonly mti: string;
      readonly stan: string;
      readonly f39?: string;
      readonly discarded?: true;
      readonly reason?: "late" | "mismatch" | "badMac" | "duplicate";
    }
  | {
      readonly ev: "journal";
      readonly stan: string;
      readonly state: "armed" | "completed" | "reversalDue" | "reversed" | "failed";
      readonly reason?: ReversalReason;
    }
  | { readonly ev: "result"; readonly op: Operation; readonly stan?: string; readonly outcome: Outcome; readonly f39?: string };

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
  readonly reversalRetries?: number;
  readonly blockSalesWhileReversalFailed?: boolean;
  /** The terminal's calendar clock: set from F12/F13 of the sign-on answer. */
  readonly wallClock?: WallClock;
  /** Makes the MAC and PIN ciphers from the working keys (a device routes 3DES to native code); default modules/crypto's TypeScript ones. */
  readonly ciphers?: CipherProvider;
  readonly onEvent: (event: TxnEvent) => void;
  readonly onUi?: (input: EngineInput) => void;
}

export interface SaleRequest {
  readonly amount: number;
  readonly card: PresentedCard;
  readonly pin?: string;
}

export interface RefundRequest extends SaleRequest {
  readonly originalStan?: string;
}

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
const REVERSAL_RETRIES_MAX = 10;
const STAN_MAX = 999_999;
const HOST_TIME = /^[0-9]{6}$/;
const HOST_DATE = /^[0-9]{4}$/;
/** 0410 answers that end a reversal: done (00), nothing to reverse (12), original unknown (25). */
const REVERSAL_FINAL_CODES = Object.freeze(["00", "12", "25"]);

type Job = (finish: () => void) => void;

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
  readonly #reversalRetries: number;
  readonly #responseTimeoutMs: number;
  readonly #queue: Job[] = [];
  #running = false;
  #state: TerminalState = { stanNext: 1, batch: "000001", signedOn: false };
  #mac: BlockCipher | undefined;
  #pik: BlockCipher | undefined;
  readonly #macOut = new Uint8Array(8);

  constructor(options: TxnEngineOptions) {
    this.#options = options;
    this.#reversalRetries = options.reversalRetries ?? 3;
    this.#responseTimeoutMs = options.responseTimeoutMs ?? 60_000;
    assertInteger(this.#reversalRetries, 1, REVERSAL_RETRIES_MAX, "reversalRetries");
    this.#link = new HostLink({
      transport: options.transport,
      clock: options.clock,
      endpoint: options.endpoint,
      readKey: (bytes) => this.#readKey(bytes),
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      responseTimeoutMs: this.#responseTimeoutMs,
      onDiscard: (reason, key) => {
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

  /** Power-on: recovery, then reversals due and an interrupted settlement resume. */
  boot(): void {
    const { state, journal, keys } = this.#options;
    this.#state = state.load() ?? this.#state;
    // Every record still needing a reversal counts, 冲正失败 included: all of them go out before the next online message.
    const due = journal.recover();
    for (const record of journal.pending()) this.#emit({ ev: "journal", stan: record.stan, state: "reversalDue", reason: record.reason });
    this.#emit({ ev: "boot", reversalDue: due });
    this.#loadCiphers(keys);
    this.#enqueue((finish) =>
      this.#flushReversals(() => {
        const progress = this.#state.settlement;
        if (progress === undefined) return finish();
        this.#upload(progress.next, () => finish());
      }),
    );
  }

  signOn(): void {
    this.#enqueue((finish) => {
      const stan = this.#takeStan();
      this.#flushReversals(() =>
        this.#online("signOn", messages.signOn(this.#identity, stan, this.#state.batch), undefined, (result) => {
          const answer = result.kind === "answer" ? result.answer : undefined;
          if (answer?.f39 === "00" && this.#acceptSignOn(answer.message)) return this.#result("signOn", stan, "approved", "00", finish);
          this.#result("signOn", stan, outcomeOf(result), answer?.f39, finish);
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
    this.#cardOperation("balance", (stan) => messages.balance(this.#identity, this.#cardRequest(stan, card, pin)), card, 0);
  }

  sale(request: SaleRequest): void {
    checkAmount(request.amount);
    this.#cardOperation(
      "sale",
      (stan) => messages.sale(this.#identity, this.#cardRequest(stan, request.card, request.pin), request.amount),
      request.card,
      request.amount,
    );
  }

  refund(request: RefundRequest): void {
    checkAmount(request.amount);
    this.#cardOperation(
      "refund",
      (stan) => messages.refund(this.#identity, this.#cardRequest(stan, request.card, request.pin), request.amount, request.originalStan),
      request.card,
      request.amount,
      request.originalStan,
    );
  }

  /** Voids a sale of the open batch by its STAN. */
  voidSale(originalStan: string): void {
    const original = this.#options.journal.approvedLog().find((r) => r.stan === originalStan && r.op === "sale");
    if (original === undefined) throw new TxnRequestError("stan", `no approved sale ${originalStan} in the open batch`);
    this.#cardOperation(
      "void",
      (stan) => messages.voidSale(this.#identity, stan, this.#state.batch, original, original.pan, original.expiry),
      undefined,
      original.amount,
      originalStan,
      original,
    );
  }

  settle(): void {
    this.#enqueue((finish) => {
      if (!this.#requireSignOn("settle", finish)) return;
      this.#flushReversals(() => {
        const failedReversals = this.#options.journal.pending().length;
        const batch = this.#state.batch;
        const stan = this.#takeStan();
        this.#ui({ kind: "settlement", phase: "totals", uploaded: 0, toUpload: 0, balanced: true, failedReversals });
        this.#online("settle", messages.settlement(this.#identity, stan, batch, this.#totals()), undefined, (result) => {
          const answer = result.kind === "answer" ? result.answer : undefined;
          if (answer === undefined || answer.f39 !== "00" || !answer.macValid)
            return this.#result("settle", stan, outcomeOf(result), answer?.f39, finish);
          const f48 = answer.message.fields[48] ?? "";
          const balanced = f48.length >= 62 && f48[30] === "1" && f48[61] === "1";
          if (balanced) {
            this.#closeBatch(true);
            return this.#result("settle", stan, "approved", "00", finish);
          }
          this.#saveState({ ...this.#state, settlement: { batch, phase: "upload", next: 0 } });
          this.#upload(0, () => this.#result("settle", stan, this.#state.settlement === undefined ? "approved" : "failed", "00", finish));
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
      this.#flushReversals(() => {
        const stan = this.#takeStan();
        this.#online(op, messages.networkManagement(this.#identity, stan, this.#state.batch, code), undefined, (result) => {
          const answer = result.kind === "answer" ? result.answer : undefined;
          const ok = answer !== undefined && answer.f39 === "00" && answer.macValid;
          if (ok && op === "signOff") this.#saveState({ ...this.#state, signedOn: false });
          this.#result(op, stan, ok ? "approved" : outcomeOf(result), answer?.f39, finish);
        });
      });
    });
  }

  #cardOperation(
    op: "balance" | "sale" | "refund" | "void",
    build: (stan: string) => IsoMessage,
    card: PresentedCard | undefined,
    amount: number,
    originalStan?: string,
    original?: ApprovedRecord,
  ): void {
    this.#enqueue((finish) => {
      if (!this.#requireSignOn(op, finish)) return;
      this.#flushReversals(() => {
        const { journal } = this.#options;
        if (op === "sale" && this.#options.blockSalesWhileReversalFailed === true && journal.pending().length > 0)
          return this.#refuse(op, "blocked", finish);
        // Asked after the flush (a reversal that went through frees room) and before a STAN or a byte is spent.
        if (op !== "balance" && journal.canArm?.() === false) return this.#refuse(op, "journalFull", finish);
        const stan = this.#takeStan();
        const request = build(stan);
        // Every financial request is reversible (a refund too: the host may have credited the card before its answer was lost).
        const record: ReversalRecord | undefined =
          op === "balance"
            ? undefined
            : { stan, batch: this.#state.batch, op, amount, fields: messages.reversalFields(request, card), state: "armed" };
        const onFile: CardOnFile = card ?? original!;
        const armed =
          record === undefined ? undefined : { record, card: { pan: onFile.pan, expiry: onFile.expiry, domestic: onFile.domestic } };
        this.#online(op, request, armed, (result) => {
          if (result.kind === "notSent") return this.#result(op, stan, "refused", undefined, finish);
          if (result.kind === "noResponse" || result.kind === "garbled") {
            if (record === undefined) return this.#result(op, stan, "timeout", undefined, finish);
            return this.#trigger(record, result.kind === "garbled" ? "06" : "98", undefined, undefined, () =>
              this.#result(op, stan, result.kind === "garbled" ? "failed" : "timeout", undefined, finish),
            );
          }
          this.#onAnswer(op, request, record, result.answer, card, amount, originalStan, original, finish);
        });
      });
    });
  }

  #onAnswer(
    op: "balance" | "sale" | "refund" | "void",
    request: IsoMessage,
    record: ReversalRecord | undefined,
    answer: Answer,
    card: PresentedCard | undefined,
    amount: number,
    originalStan: string | undefined,
    original: ApprovedRecord | undefined,
    finish: () => void,
  ): void {
    const stan = request.fields[11]!;
    const f39 = answer.f39;
    const fields = answer.message.fields;
    // An approval must echo F3, F4 and F42 (reference §2.3): one that does not is a bad answer, reversed with 06.
    const echoesRequest =
      fields[3] === request.fields[3] &&
      (request.fields[4] === undefined || fields[4] === request.fields[4]) &&
      fields[42] === request.fields[42];
    if (f39 === "00" && !answer.macValid) {
      if (record === undefined) return this.#result(op, stan, "failed", f39, finish);
      return this.#trigger(record, "A0", undefined, undefined, () => this.#result(op, stan, "failed", f39, finish));
    }
    if (f39 !== "00" || !echoesRequest) {
      if (record !== undefined && f39 === "00")
        return this.#trigger(record, "06", undefined, fields[38], () => this.#result(op, stan, "failed", f39, finish));
      if (record !== undefined) this.#journal("complete", stan);
      return this.#result(op, stan, "declined", f39, finish);
    }
    // The second GENERATE AC completes a chip sale; a chip refund ends with its first (no card decision on the host's answer).
    if (op === "sale" && card?.completeChip !== undefined && record !== undefined) {
      const chip = card.completeChip(f39, fields[55]);
      if (!chip.accepted)
        return this.#trigger(record, "06", messages.reversalF55(chip.f55), fields[38], () => this.#result(op, stan, "failed", f39, finish));
    }
    if (op !== "balance") {
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
        originalStan,
      };
      // One atomic step: the armed record closes and the approval is logged (sale, void and refund alike).
      this.#options.journal.approve(approved);
      this.#emit({ ev: "journal", stan, state: "completed" });
    }
    this.#result(op, stan, "approved", f39, finish);
  }

  // ---------------------------------------------------------------- reversal

  /** A trigger: the record becomes reversal-due and its episode runs now. */
  #trigger(record: ReversalRecord, reason: ReversalReason, f55: string | undefined, authCode: string | undefined, then: () => void): void {
    this.#options.journal.reversalDue(record.stan, reason, f55, authCode);
    this.#emit({ ev: "journal", stan: record.stan, state: "reversalDue", reason });
    const due = this.#options.journal.pending().find((r) => r.stan === record.stan);
    assert(due !== undefined, "TxnEngine: a reversal-due record is missing from the journal");
    this.#episode(due, then);
  }

  /** Every pending reversal gets one episode, oldest first, before the next online message. */
  #flushReversals(then: () => void): void {
    if (this.#mac === undefined) return then(); // no MAK yet: a sign-on must come first
    const pending = this.#options.journal.pending().slice(0, PENDING_REVERSALS_MAX);
    const next = (index: number): void => {
      if (index >= pending.length) return then();
      this.#episode(pending[index], () => next(index + 1));
    };
    next(0);
  }

  /**
   * Reversal attempts, `reversalRetries` in all until the record is 冲正失败: the count lives on flash
   * (`attempt` before each 0400), so a reboot mid-episode continues it instead of granting a fresh set
   * every boot (a terminal that keeps rebooting would otherwise never reach 冲正失败 and never tell the
   * operator). A 冲正失败 record gets a fresh episode before each later online message (contract).
   */
  #episode(record: ReversalRecord, then: () => void): void {
    const reason = record.reason ?? "98";
    const journal = this.#options.journal;
    const attempt = (n: number): void => {
      if (n > this.#reversalRetries) {
        this.#journal("failed", record.stan);
        this.#ui({
          kind: "reversalFailed",
          op: record.op,
          stan: record.stan,
          amount: record.amount,
          salesBlocked: this.#options.blockSalesWhileReversalFailed === true,
        });
        return then();
      }
      this.#ui({ kind: "reversal", stan: record.stan, attempt: n, attempts: this.#reversalRetries });
      journal.attempt?.(record.stan);
      this.#online(record.op, messages.reversal(record, reason), undefined, (result) => {
        const answer = result.kind === "answer" ? result.answer : undefined;
        if (answer !== undefined && answer.macValid && REVERSAL_FINAL_CODES.includes(answer.f39 ?? "")) {
          this.#journal("reversed", record.stan);
          return then();
        }
        attempt(n + 1);
      });
    };
    attempt(record.state === "failed" ? 1 : Math.min((record.attempts ?? 0) + 1, this.#reversalRetries + 1));
  }

  // ---------------------------------------------------------------- settlement

  #totals(): string {
    const log = this.#options.journal.approvedLog();
    const voided = new Set(log.filter((r) => r.op === "void").map((r) => r.originalStan));
    const part = (domestic: boolean): string => {
      let debit = 0;
      let debitCount = 0;
      let credit = 0;
      let creditCount = 0;
      for (const r of log) {
        if (r.domestic !== domestic) continue;
        if (r.op === "sale" && !voided.has(r.stan)) {
          debit += r.amount;
          debitCount++;
        }
        if (r.op === "refund") {
          credit += r.amount;
          creditCount++;
        }
      }
      return padNumber(debit, 12) + padNumber(debitCount, 3) + padNumber(credit, 12) + padNumber(creditCount, 3) + "0";
    };
    return part(true) + part(false);
  }

  /** Batch upload from record `next`, then the end-of-upload message; progress is durable after each. */
  #upload(next: number, then: () => void): void {
    const progress = this.#state.settlement;
    assert(progress !== undefined, "TxnEngine: upload without a settlement in progress");
    const records = this.#options.journal.approvedLog().filter((r) => r.op !== "void");
    const failedReversals = this.#options.journal.pending().length;
    this.#ui({ kind: "settlement", phase: "upload", uploaded: next, toUpload: records.length, balanced: false, failedReversals });
    const stan = this.#takeStan();
    const ending = next >= records.length;
    const request = ending
      ? messages.batchUploadEnd(this.#identity, stan, progress.batch, records.length)
      : messages.batchUpload(this.#identity, stan, progress.batch, records[next]);
    this.#online("settle", request, undefined, (result) => {
      const answer = result.kind === "answer" ? result.answer : undefined;
      if (answer === undefined || answer.f39 !== "00" || !answer.macValid) return then(); // resumes at the next settle or boot
      if (ending) {
        this.#closeBatch(false);
        return then();
      }
      this.#saveState({ ...this.#state, settlement: { ...progress, next: next + 1 } });
      this.#upload(next + 1, then);
    });
  }

  #closeBatch(balanced: boolean): void {
    const batch = this.#state.batch;
    const failedReversals = this.#options.journal.pending().length;
    this.#options.journal.closeBatch(batch);
    const nextBatch = padNumber((Number(batch) % 999_999) + 1, 6);
    this.#saveState({ stanNext: this.#state.stanNext, batch: nextBatch, signedOn: this.#state.signedOn });
    this.#ui({ kind: "settlement", phase: "done", uploaded: 0, toUpload: 0, balanced, failedReversals });
  }

  // ---------------------------------------------------------------- one message

  /**
   * Encodes and MACs `request`, exchanges it, decodes and checks the answer.
   * `record` is armed inside beforeWrite: durable before the first byte.
   */
  #online(op: Operation, request: IsoMessage, armed: Armed | undefined, done: (result: OnlineResult) => void): void {
    const stan = request.fields[11]!;
    const bytes = this.#encode(request);
    const expect: CorrelationKey = { mti: messages.responseMti(request.mti), stan, tid: this.#options.terminalId };
    this.#ui({ kind: "processing", op, remainingMs: undefined });
    this.#link.exchange(
      {
        message: bytes,
        expect,
        beforeWrite: () => {
          if (armed === undefined) return;
          this.#options.journal.arm(armed.record, armed.card);
          this.#emit({ ev: "journal", stan, state: "armed" });
        },
        onWritten: () => {
          this.#emit(
            request.fields[39] === undefined
              ? { ev: "send", mti: request.mti, stan }
              : { ev: "send", mti: request.mti, stan, f39: request.fields[39] },
          );
          this.#ui({ kind: "processing", op, remainingMs: this.#responseTimeoutMs });
        },
      },
      (outcome: ExchangeOutcome) => {
        if (outcome.kind === "notSent") return done({ kind: "notSent" });
        if (outcome.kind === "noResponse") return done({ kind: "noResponse" });
        let message: IsoMessage;
        try {
          message = this.#codec.decode(outcome.message);
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

  /** An answer without F64 is valid only where none is due (sign-on, declines); with F64 the MAC must match. */
  #verifyMac(bytes: Uint8Array, message: IsoMessage): boolean {
    if (message.fields[64] === undefined) return message.mti === "0810" || message.fields[39] !== "00";
    if (this.#mac === undefined) return false;
    return macEqual(cupEcbMac(this.#mac, this.#codec.macInput(bytes), this.#macOut), this.#codec.macField(bytes));
  }

  #readKey(bytes: Uint8Array): CorrelationKey | undefined {
    try {
      const message = this.#codec.decode(bytes);
      const stan = message.fields[11];
      const tid = message.fields[41];
      return stan === undefined || tid === undefined ? undefined : { mti: message.mti, stan, tid };
    } catch (error) {
      if (error instanceof Iso8583Error) return undefined;
      throw error;
    }
  }

  #acceptSignOn(message: IsoMessage): boolean {
    const { keys } = this.#options;
    const tmk = keys.loadMasterKey();
    const f62 = message.fields[62];
    const f60 = message.fields[60] ?? "";
    if (tmk === undefined || f62 === undefined || f60.length < 8) return false;
    try {
      keys.replaceWorkingKeys(unwrapWorkingKeys(fromHex(f62), tmk));
    } catch {
      return false; // a bad check value: the keys are not trusted and the sign-on fails
    }
    this.#loadCiphers(keys);
    this.#saveState({ ...this.#state, batch: f60.slice(2, 8), signedOn: true });
    this.#setWallClock(message.fields[13], message.fields[12]);
    return true;
  }

  /** F13 (MMDD) and F12 (hhmmss) of the sign-on answer set the calendar clock; the year is the one closest to the current. */
  #setWallClock(monthDay: string | undefined, time: string | undefined): void {
    const wall = this.#options.wallClock;
    if (wall === undefined || monthDay === undefined || time === undefined || !HOST_DATE.test(monthDay) || !HOST_TIME.test(time)) return;
    const nowMs = wall.nowMs();
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
    if (this.#state.signedOn && this.#mac !== undefined) return true;
    this.#refuse(op, "refused", finish);
    return false;
  }

  /** Refused on the terminal, before any connection: nothing sent, no STAN used. */
  #refuse(op: Operation, screen: "refused" | "blocked" | "journalFull", finish: () => void): void {
    this.#ui({ kind: "result", op, outcome: screen });
    this.#emit({ ev: "result", op, outcome: "refused" });
    finish();
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

  #result(op: Operation, stan: string, outcome: Outcome, f39: string | undefined, finish: () => void): void {
    this.#ui({ kind: "result", op, outcome, stan, f39 });
    this.#emit(f39 === undefined ? { ev: "result", op, stan, outcome } : { ev: "result", op, stan, outcome, f39 });
    finish();
  }

  #emit(event: TxnEvent): void {
    this.#options.onEvent(event);
  }

  #ui(input: EngineInput): void {
    this.#options.onUi?.(input);
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
      this.#ui({ kind: "idle" });
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
