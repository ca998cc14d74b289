/**
 * The terminal, assembled once: the journal partition split into the reversal
 * journal and the terminal state record, the transaction engine, the screens
 * and slips of modules/ui, and the glue between them. Every host (the ESP32,
 * the Linux terminal, the simulator, the scenario runner, chaos) builds this
 * class and differs only in the platform it hands over (clock, transport,
 * flash, random, keys) and in how cards arrive: so what the scenario and chaos
 * verdicts judge is the assembly the device runs.
 *
 * One instance lives for one powered period: a power cut drops it, and the
 * next power-on builds a new one over the same flash and key store.
 */
import { assertInteger } from "../base/assert";
import { crc32 } from "../base/crc32";
import { bytesEqual } from "../base/hex";
import type { CipherProvider } from "../crypto/block-cipher";
import type { KeyStore } from "../crypto/key-store";
import type { SecretKey } from "../crypto/keys";
import type { TerminalIdentity } from "../journal/format";
import type { JournalAlarm } from "../journal/journal";
import type { Clock, TimerHandle } from "../platform/clock";
import type { Flash } from "../platform/flash";
import type { Logger } from "../platform/log";
import type { Random } from "../platform/random";
import type { Transport, TransportEndpoint } from "../platform/transport";
import { refundRefusal, TxnEngine, TxnRequestError, type RefundRefusal, type VoidRefusal } from "../txn/engine";
import { TRACE_EVENTS, type Operation, type TxnEvent } from "../txn/events";
import { FlashJournal } from "../txn/flash-journal";
import { FlashRegion } from "../txn/flash-region";
import { FlashStateStore } from "../txn/flash-state";
import type { PresentedCard, TerminalState, TxnJournal, WallClock } from "../txn/ports";
import type { ReversalPolicy } from "../txn/reversal-policy";
import { renderSlip, type Slip } from "../ui/slips";
import {
  renderTitle,
  TerminalUi,
  type Diagnostics,
  type Intent,
  type Key,
  type LinkStatus,
  type NoticeId,
  type PendingReversalLine,
  type Screen,
} from "../ui/terminal-ui";
import { TmsClient } from "../tms/client";
import { TmsError } from "../tms/errors";
import { decodeParameterBlock, ParameterError, resolveParameters, type TerminalParameters } from "./parameters";
import { FIRMWARE_VERSION } from "../update/firmware-version";
import { journalFormatIsNewer, JournalTooNewError } from "../update/journal-format";
import type { Updater, UpdateTraceEvent } from "../update/updater";
import { TerminalUpdates, type TerminalUpdateOptions } from "./terminal-updates";
import { failedReads, READER_KINDS, ReaderCare, type ReaderCareStore, type ReaderKind } from "./reader-care";

/** The terminal state record takes the last two sectors of the partition; the journal the rest. */
export const STATE_SECTORS = 2;
/** The journal format's range (docs/journal-format.md). */
const JOURNAL_SECTORS_MIN = 3;
const JOURNAL_SECTORS_MAX = 64;

/** What a trace (scenario, chaos, simulator) hears: the engine's contract events, the screen's title, each slip. */
export type TerminalEvent =
  | Exclude<TxnEvent, { ev: "boot" | "exchange" | "reversal" | "settlementProgress" | "idle" }>
  /** Power-on recovered the journal: records still owing a reversal, and the version that runs. */
  | { readonly ev: "boot"; readonly reversalDue: number; readonly version: string }
  | UpdateTraceEvent
  | { readonly ev: "screen"; readonly text: string }
  /**
   * A TMS parameter download (docs/tms.md): applied (in effect and on flash), refused as a whole (`reason`
   * names the parameter), unchanged (the block in effect already), none published, or failed (no good answer).
   */
  | {
      readonly ev: "parameters";
      readonly state: "applied" | "refused" | "unchanged" | "none" | "failed";
      readonly reason?: string;
    }
  | {
      readonly ev: "slip";
      readonly kind: Slip["kind"];
      readonly stan: string;
      readonly atMs: number;
      /** Reversal slips: the attempts made so far. */
      readonly attempts?: number;
    };

export type { TerminalUpdateOptions };

/** The card steps a host starts: which operation asks for a card. */
export type CardOperation = "sale" | "refund" | "balance";

export interface TerminalOptions {
  readonly clock: Clock;
  readonly transport: Transport;
  readonly endpoint: TransportEndpoint;
  /** The whole journal partition: the journal's sectors, then STATE_SECTORS for the state record. */
  readonly flash: Flash;
  readonly random: Random;
  readonly keys: KeyStore;
  /** SM4 data-at-rest key sealing the PAN in the journal. */
  readonly dataKey: SecretKey;
  /** The engine's MAC and PIN ciphers (a device routes 3DES to native code); default modules/crypto's. */
  readonly ciphers?: CipherProvider;
  readonly identity: TerminalIdentity;
  readonly parameters: TerminalParameters;
  /** How reversal episodes spend their attempts; default the shipped policy (modules/txn/reversal-policy.ts). */
  readonly reversalPolicy?: ReversalPolicy;
  readonly wallClock: WallClock;
  readonly log?: Logger;
  /** Wraps the journal port: a simulator's copy of settled batches, chaos's watchers and planted bugs. */
  readonly wrapJournal?: (journal: FlashJournal) => TxnJournal;
  /** Wraps the handler of the engine's events (chaos's planted bugs). */
  readonly wrapEvents?: (handler: (event: TxnEvent) => void) => (event: TxnEvent) => void;
  /** Where the card readers' counters live across power (NVS on the ESP32); none: in RAM for this powered period. */
  readonly readerCare?: ReaderCareStore;
  /** The link under the transport, for the network check (Wi-Fi state and RSSI on the ESP32). */
  readonly linkStatus?: () => LinkStatus;
  /** The trace: contract events, screen titles, slips. */
  readonly onEvent?: (event: TerminalEvent) => void;
  /** `screen` events in the trace (default true); a device that paints the screen and logs the rest spares their garbage. */
  readonly traceScreens?: boolean;
  /** Firmware updates; none: this terminal runs the image it has (the boot event reports FIRMWARE_VERSION). */
  readonly update?: TerminalUpdateOptions;
  /** The screen changed (or a notice over it). */
  readonly onScreen?: (screen: Screen) => void;
  /** A slip is printed. */
  readonly onSlip?: (slip: Slip, lines: readonly string[]) => void;
}

interface CardStep {
  readonly op: CardOperation;
  readonly amount: number;
  readonly originalStan?: string;
  card?: PresentedCard;
}

/** Unacknowledged screens a scripted operator clears in one go (the UI keeps at most this many). */
const ACKNOWLEDGE_MAX = 64;

export class Terminal {
  readonly #options: TerminalOptions;
  readonly #flashJournal: FlashJournal;
  readonly #journal: TxnJournal;
  readonly #ui: TerminalUi;
  readonly #engine: TxnEngine;
  readonly #readerCare: ReaderCare;
  #step: CardStep | undefined;
  /** When the response (or reversal) on the wire is due, for the countdown. */
  #deadlineMs: number | undefined;
  #lastTitle = "";
  /** The idle reversal worker's timer, and how many of the policy's idle retries it spent. */
  #idleRetry: TimerHandle | undefined;
  #idleRetries = 0;
  /** The client of the check under way (one at a time); none between checks, so an idle terminal spends no slots on it. */
  #tms: TmsClient | undefined;
  /** The parameters in effect: the provisioned ones, with a downloaded block over them. */
  #parameters: TerminalParameters;
  /** Firmware updates; undefined when the host gave no slots. */
  readonly #updates: TerminalUpdates | undefined;

  constructor(options: TerminalOptions) {
    this.#options = options;
    const { flash, parameters } = options;
    this.#parameters = parameters;
    const sectors = flash.byteLength / flash.blockSize;
    const journalSectors = sectors - STATE_SECTORS;
    assertInteger(journalSectors, JOURNAL_SECTORS_MIN, JOURNAL_SECTORS_MAX, "journal sectors of the partition");
    this.#flashJournal = new FlashJournal({
      flash: new FlashRegion(flash, 0, journalSectors),
      dataKey: options.dataKey,
      random: options.random,
      identity: options.identity,
      nowSeconds: () => Math.floor(options.wallClock.nowMs() / 1000),
      onAlarm: (alarm: JournalAlarm) => options.log?.error("journal: alarm, reconcile with the host", { kind: alarm.kind }),
    });
    this.#journal = options.wrapJournal?.(this.#flashJournal) ?? this.#flashJournal;
    this.#ui = new TerminalUi({ onScreen: (screen) => this.#onScreen(screen), onIntent: (intent) => this.#onIntent(intent) });
    this.#readerCare = new ReaderCare({
      ...(options.readerCare !== undefined ? { store: options.readerCare } : {}),
      onCleaningDue: (reader) => this.#ui.notify(CLEANING_NOTICE[reader]),
    });
    const handle = (event: TxnEvent) => this.#onEngineEvent(event);
    this.#engine = new TxnEngine({
      clock: options.clock,
      transport: options.transport,
      endpoint: options.endpoint,
      journal: this.#journal,
      state: new FlashStateStore(new FlashRegion(flash, journalSectors, STATE_SECTORS)),
      keys: options.keys,
      terminalId: options.identity.terminalId,
      merchantId: options.identity.merchantId,
      responseTimeoutMs: parameters.responseTimeoutMs,
      connectTimeoutMs: parameters.connectTimeoutMs,
      reversalAttempts: parameters.reversalAttempts,
      blockSalesWhileReversalFailed: parameters.blockSalesWhileReversalFailed,
      limits: {
        amountMaxMinor: parameters.amountMaxMinor,
        batchCountMax: parameters.batchCountMax,
        batchAmountMaxMinor: parameters.batchAmountMaxMinor,
      },
      reversalPolicy: options.reversalPolicy,
      wallClock: options.wallClock,
      ciphers: options.ciphers,
      onEvent: options.wrapEvents?.(handle) ?? handle,
    });
    const update = options.update;
    this.#updates =
      update === undefined
        ? undefined
        : new TerminalUpdates({
            update,
            engine: this.#engine,
            clock: options.clock,
            journalClean: () => this.#flashJournal.pending().length === 0,
            notify: (notice) => this.#ui.notify(notice),
            trace: (event) => this.#trace(event),
            ...(options.log !== undefined ? { log: options.log } : {}),
          });
  }

  /** The firmware updater (the TMS client calls `check(source)` on it); none without update slots. */
  get updater(): Updater | undefined {
    return this.#updates?.updater;
  }

  /** The version of the image that runs. */
  get version(): string {
    return this.#updates?.updater.runningVersion ?? FIRMWARE_VERSION;
  }

  get engine(): TxnEngine {
    return this.#engine;
  }

  /** The journal port the engine uses (wrapped, if a host wrapped it). */
  get journal(): TxnJournal {
    return this.#journal;
  }

  /** The flash journal itself: its records for a journal panel, its alarms. */
  get flashJournal(): FlashJournal {
    return this.#flashJournal;
  }

  get ui(): TerminalUi {
    return this.#ui;
  }

  get screen(): Screen {
    return this.#ui.screen;
  }

  get state(): TerminalState {
    return this.#engine.state;
  }

  /** The parameters in effect (provisioned, with a downloaded block over them). */
  get parameters(): TerminalParameters {
    return this.#parameters;
  }

  get idle(): boolean {
    return this.#engine.idle;
  }

  /** Response time left on the message on the wire, if one is. */
  get remainingMs(): number | undefined {
    return this.#deadlineMs === undefined ? undefined : Math.max(0, this.#deadlineMs - this.#options.clock.nowMs());
  }

  /** Power-on: the first screen (painted; the trace starts at its first change), recovery, then the reversals due go out first. */
  boot(): void {
    this.#lastTitle = renderTitle(this.#ui.screen, "en");
    this.#options.onScreen?.(this.#ui.screen);
    // A block saved by an earlier download takes effect before recovery runs; one that no longer resolves is logged and left out.
    const bootJournal = () => {
      this.#engine.boot((state) => {
        if (state.parameters === undefined) return;
        try {
          this.#parameters = useParameters(this.#engine, this.#options.parameters, state.parameters);
        } catch (error) {
          if (!(error instanceof ParameterError)) throw error;
          this.#options.log?.error("parameters: the saved block does not resolve, provisioned values apply", { reason: error.message });
        }
      });
      this.#countPending();
    };
    const { flash } = this.#options;
    // Looked at before recovery, which would take a newer format's headers for dirty sectors and erase them.
    const journalTooNew = () => journalFormatIsNewer(flash, flash.byteLength / flash.blockSize - STATE_SECTORS);
    if (this.#updates !== undefined) return this.#updates.boot(journalTooNew, bootJournal);
    if (journalTooNew()) throw new JournalTooNewError("the journal was written by a newer firmware: this image does not open it");
    bootJournal();
  }

  /**
   * Checks the TMS now (the menu, the scenario's tmsCheck, a sign-on answer that asks for it): the parameter
   * block first, then, on a terminal with update slots, the updater's image check with the same client as
   * its ImageFeed (docs/update.md). False when a check is still under way.
   *
   * A downloaded block equal to the one in effect changes nothing; another is checked as a whole over the
   * provisioned parameters, then made durable (the state record) and put in effect, or refused with the
   * reason; either way the TMS is told (docs/tms.md).
   */
  tmsCheck(): boolean {
    if (this.#tms !== undefined) return false;
    const tms = new TmsClient({ exchange: this.#engine });
    this.#tms = tms;
    tms.requestParameters((result) => {
      const log = this.#options.log;
      if (result instanceof TmsError) {
        log?.warn("parameters: no download", { reason: result.message });
        this.#trace({ ev: "parameters", state: "failed", reason: result.reason });
        this.#ui.notify("noticeParametersFailed");
      } else if (
        result === undefined ||
        (this.#engine.state.parameters !== undefined && bytesEqual(this.#engine.state.parameters, result))
      ) {
        this.#trace({ ev: "parameters", state: result === undefined ? "none" : "unchanged" });
        this.#ui.notify("noticeParametersCurrent");
      } else {
        let reason: string | undefined;
        try {
          resolveParameters({ ...this.#options.parameters, ...decodeParameterBlock(result) }); // the whole set, before anything changes
          this.#engine.saveParameters(result);
          this.#parameters = useParameters(this.#engine, this.#options.parameters, result);
        } catch (error) {
          if (!(error instanceof ParameterError)) throw error;
          reason = error.message;
        }
        if (reason === undefined) log?.info("parameters: applied");
        else log?.warn("parameters: refused", { reason });
        this.#trace(reason === undefined ? { ev: "parameters", state: "applied" } : { ev: "parameters", state: "refused", reason });
        this.#ui.notify(reason === undefined ? "noticeParametersApplied" : "noticeParametersRefused");
        const report = { applied: reason === undefined, blockCrc32: crc32(result), ...(reason !== undefined ? { reason } : {}) };
        tms.reportParameters(report, (answer) => {
          if (answer instanceof TmsError) log?.warn("parameters: report not delivered", { reason: answer.message });
        });
      }
      const updater = this.#updates?.updater;
      if (updater === undefined) this.#tms = undefined;
      else updater.check(tms, () => (this.#tms = undefined));
    });
    return true;
  }

  /** Moves the countdown on the processing or reversing screen (hosts call it a few times a second). */
  tick(): void {
    if (this.#deadlineMs === undefined) return;
    this.#ui.tick(this.remainingMs);
    this.#options.onScreen?.(this.#ui.screen);
  }

  press(key: Key): void {
    this.#ui.press(key);
  }

  notify(notice: NoticeId): void {
    this.#ui.notify(notice);
  }

  /** A function key. False (with a notice) when the screen is busy. */
  menu(
    fn: "sale" | "refund" | "void" | "balance" | "settle" | "signOn" | "signOff" | "echo" | "pending" | "networkCheck" | "tmsCheck",
  ): boolean {
    if (!this.#ui.ready) {
      this.#ui.notify("noticeBusy");
      return false;
    }
    switch (fn) {
      case "sale":
      case "refund":
      case "void":
        return this.#ui.start(fn);
      case "pending":
        return this.#ui.listPendingReversals(this.pendingLines());
      case "balance":
        this.#askCard({ op: "balance", amount: 0 });
        return true;
      case "settle":
        this.#engine.settle();
        return true;
      case "signOn":
        this.#engine.signOn();
        return true;
      case "signOff":
        this.#engine.signOff();
        return true;
      case "echo":
        this.#engine.echo();
        return true;
      case "networkCheck":
        this.#engine.networkCheck();
        return true;
      case "tmsCheck":
        return this.tmsCheck();
    }
  }

  /** A card read the host attempted: worked (`failure` undefined) or failed with the reader's reason. */
  readerResult(reader: ReaderKind, failure?: string): void {
    this.#readerCare.record(reader, failure);
  }

  /** The operation that waits for a card, if one does: the host reads the card for it. */
  get cardAsked(): { readonly op: CardOperation; readonly amount: number } | undefined {
    const step = this.#step;
    return step === undefined || step.card !== undefined || this.#ui.screen.kind !== "presentCard" ? undefined : step;
  }

  /** A card read for the operation that asked for it; then the PIN. False (with a notice) when no card was asked for. */
  presentCard(card: PresentedCard): boolean {
    const step = this.#step;
    if (step === undefined || step.card !== undefined || this.#ui.screen.kind !== "presentCard") {
      this.#ui.notify("noticeNoCardNeeded");
      return false;
    }
    step.card = card;
    this.#ui.ask({ kind: "enterPin" });
    return true;
  }

  /** The reversals still owed, oldest first, for the pending-reversals screen (no PAN on it). */
  pendingLines(): PendingReversalLine[] {
    return this.#flashJournal.pending().map((r) => ({
      stan: r.stan,
      op: r.op,
      amount: r.amount,
      state: r.state === "failed" ? "failed" : "reversalDue",
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      attempts: r.attempts ?? 0,
    }));
  }

  /**
   * A scripted operation (scenario steps, the simulator's headless scripts): the card already read, the
   * PIN given. It stands for an operator who started it, so one who acknowledged every screen waiting
   * for ENTER first. A request the engine refuses up front (TxnRequestError) is thrown to the script.
   */
  run(
    op: Operation,
    args: { readonly amount?: number; readonly card?: PresentedCard; readonly pin?: string; readonly stan?: string } = {},
  ): void {
    this.acknowledgeAll();
    const card = (): PresentedCard => {
      if (args.card === undefined) throw new TxnRequestError("card", `${op} needs a card`);
      return args.card;
    };
    switch (op) {
      case "signOn":
        return this.#engine.signOn();
      case "signOff":
        return this.#engine.signOff();
      case "echo":
        return this.#engine.echo();
      case "settle":
        return this.#engine.settle();
      case "networkCheck":
        return this.#engine.networkCheck();
      case "balance":
        return this.#engine.balance(card(), args.pin);
      case "sale":
        return this.#engine.sale({ amount: args.amount ?? 0, card: card(), pin: args.pin });
      case "refund":
        return this.#engine.refund({ amount: args.amount ?? 0, card: card(), pin: args.pin, originalStan: args.stan });
      case "void":
        return this.#engine.voidSale(args.stan ?? "");
    }
  }

  /** ENTER on every screen waiting for acknowledgement (冲正失败, reversed notices), as an operator does before starting anything. */
  acknowledgeAll(): void {
    for (let i = 0; i < ACKNOWLEDGE_MAX; i++) {
      const kind = this.#ui.screen.kind;
      if (kind !== "reversalFailed" && kind !== "reversedNotice") return;
      this.#ui.press("enter");
    }
  }

  // ---------------------------------------------------------------- the operator

  #askCard(step: CardStep): void {
    this.#step = step;
    this.#ui.ask({ kind: "presentCard", op: step.op, amount: step.amount });
  }

  #onIntent(intent: Intent): void {
    switch (intent.kind) {
      case "sale":
        return this.#askCard({ op: "sale", amount: intent.amount });
      case "refundLookup": {
        // The sale named: its amount still to give back heads the amount screen; a voided or wholly refunded one is a notice here.
        const found = this.#engine.refundable(intent.stan);
        if (found?.voided === true) return this.#ui.notify("noticeRefundVoided");
        const leftAmount = found === undefined ? undefined : found.sale.amount - found.refundedAmount;
        if (leftAmount === 0) return this.#ui.notify("noticeRefundedInFull");
        return this.#ui.ask({ kind: "refundAmount", originalStan: intent.stan, ...(leftAmount !== undefined ? { leftAmount } : {}) });
      }
      case "refund":
        // What the named sale has left was on the amount screen, which refused more (a refund the engine would
        // still refuse, because something ran meanwhile, is a notice after the card: the keypad path never throws).
        return this.#askCard({
          op: "refund",
          amount: intent.amount,
          ...(intent.originalStan !== undefined ? { originalStan: intent.originalStan } : {}),
        });
      case "voidLookup": {
        const lookup = this.#engine.voidable(intent.stan);
        if (!("sale" in lookup)) return this.#ui.notify(VOID_NOTICES[lookup.refusal]);
        const original = lookup.sale;
        return this.#ui.ask({ kind: "voidConfirm", stan: original.stan, amount: original.amount, panMasked: original.panMasked });
      }
      case "void": {
        // Asked again: the keypad path must never throw (a void or refund that ran meanwhile is a notice, not a crash).
        const lookup = this.#engine.voidable(intent.stan);
        if (!("sale" in lookup)) return this.#ui.notify(VOID_NOTICES[lookup.refusal]);
        return this.#engine.voidSale(intent.stan);
      }
      case "cancel":
        this.#step = undefined;
        return;
      case "readersCleaned":
        for (const reader of intent.readers) this.#readerCare.cleaned(reader);
        return this.#ui.notify("noticeReadersCleaned");
      case "pin": {
        const step = this.#step;
        this.#step = undefined;
        if (step?.card === undefined) return;
        const pin = intent.pin === "" ? undefined : intent.pin;
        if (step.op === "balance") return this.#engine.balance(step.card, pin);
        if (step.op === "refund") {
          // Asked again, as a void is: the keypad path never throws.
          const refusal = refundRefusal(this.#engine.refundable(step.originalStan), step.amount);
          if (refusal !== undefined) return this.#ui.notify(REFUND_NOTICES[refusal]);
          return this.#engine.refund({ amount: step.amount, card: step.card, pin, originalStan: step.originalStan });
        }
        return this.#engine.sale({ amount: step.amount, card: step.card, pin });
      }
    }
  }

  // ---------------------------------------------------------------- what the engine reports

  #onEngineEvent(event: TxnEvent): void {
    this.#deadline(event);
    this.#idleWorker(event);
    if (event.ev === "tmsDue") this.tmsCheck();
    if (event.ev === "networkCheck") this.#ui.showDiagnostics(this.#diagnostics(event));
    if (event.ev === "boot") this.#trace({ ...event, version: this.version });
    else if ((TRACE_EVENTS as readonly string[]).includes(event.ev)) this.#trace(event as TerminalEvent);
    this.#updates?.onEngineEvent(event);
    this.#ui.onEngineEvent(event);
    if (event.ev === "journal" || event.ev === "boot") this.#countPending();
    this.#slipFor(event);
  }

  #deadline(event: TxnEvent): void {
    const waiting = (event.ev === "exchange" || event.ev === "reversal") && "timeoutMs" in event && event.timeoutMs !== undefined;
    if (waiting) this.#deadlineMs = this.#options.clock.nowMs() + event.timeoutMs!;
    else if (event.ev !== "send" && event.ev !== "recv" && event.ev !== "journal") this.#deadlineMs = undefined;
  }

  /**
   * Reversals still owed while the terminal is idle go out on their own, after the policy's idle
   * delays (xspos; the reference policy has none), so a pending reversal does not wait for the next
   * sale. Never over the operator: a screen that is being used waits for the next idle moment.
   */
  #idleWorker(event: TxnEvent): void {
    if (event.ev === "reversal" && event.phase === "reversed") this.#idleRetries = 0;
    if (event.ev !== "idle") return;
    this.#scheduleIdleRetry();
  }

  /** The next idle retry after `delayMs` (default: the policy's delay for the retries spent so far; none left: no timer). */
  #scheduleIdleRetry(delayMs: number | undefined = this.#engine.reversalPolicy.idleRetryMs[this.#idleRetries]): void {
    const { clock } = this.#options;
    if (this.#idleRetry !== undefined) clock.cancel(this.#idleRetry);
    this.#idleRetry = undefined;
    if (delayMs === undefined || this.#flashJournal.pending().length === 0) return;
    this.#idleRetry = clock.schedule(delayMs, () => {
      this.#idleRetry = undefined;
      if (!this.#engine.idle) return; // an operation runs: its own flush goes first, and its idle reschedules
      // Spent either way, so the worker stays bounded: one whose turn comes while the operator types waits for the next.
      this.#idleRetries++;
      if (!atRest(this.#ui.screen)) return this.#scheduleIdleRetry();
      this.#engine.retryReversals();
    });
  }

  /** The link is back (Wi-Fi up on the device, the simulator's network restored): owed reversals go now. */
  linkRestored(): void {
    if (!this.#engine.reversalPolicy.retryOnLinkUp) return;
    this.#idleRetries = 0;
    if (this.#engine.idle) this.#scheduleIdleRetry(0);
  }

  #diagnostics(check: Extract<TxnEvent, { ev: "networkCheck" }>): Diagnostics {
    const link = this.#options.linkStatus?.();
    const readers = READER_KINDS.map((reader) => {
      const counters = this.#readerCare.state[reader];
      return { reader, reads: counters.windowReads, failed: failedReads(counters.window), reasons: counters.reasons };
    }).filter((r) => r.reads > 0);
    return {
      ok: check.ok,
      ...(check.connectMs !== undefined ? { connectMs: check.connectMs } : {}),
      ...(check.answerMs !== undefined ? { answerMs: check.answerMs } : {}),
      ...(check.f39 !== undefined ? { f39: check.f39 } : {}),
      ...(check.badMac === true ? { badMac: true as const } : {}),
      failures: check.failures,
      ...(link !== undefined ? { link } : {}),
      readers,
      cleaning: this.#readerCare.dueForCleaning(),
    };
  }

  #countPending(): void {
    this.#ui.setPendingReversals(this.#flashJournal.pending().length);
  }

  #slipFor(event: TxnEvent): void {
    if (event.ev === "result" && event.outcome === "approved" && (event.op === "sale" || event.op === "void" || event.op === "refund")) {
      const record = event.stan === undefined ? undefined : this.#journal.approved(event.stan);
      // The engine logs the approval before it reports it; a journal that did not is alarmed elsewhere, not printed.
      if (record === undefined) return this.#options.log?.error("slip: the approval is not in the log", { stan: event.stan ?? "" });
      return this.#print({
        ...this.#slipHeader(),
        kind: record.op,
        stan: record.stan,
        batch: record.batch,
        amount: record.amount,
        panMasked: record.panMasked,
        authCode: record.authCode,
        rrn: record.rrn,
        ...(record.originalStan !== undefined ? { originalStan: record.originalStan } : {}),
      });
    }
    if (event.ev === "reversal" && event.phase === "failed" && event.firstFailure) {
      const { stan, op, amount, attempts, salesBlocked } = event;
      const hotline = this.#parameters.hotlineText;
      return this.#print({
        ...this.#slipHeader(),
        kind: "reversalFailed",
        stan,
        op,
        amount,
        attempts,
        salesBlocked,
        ...(hotline !== "" ? { hotline } : {}),
      });
    }
    // The merchant holds a 冲正失败 slip: exactly one slip says it is over.
    if (event.ev === "reversal" && event.phase === "reversed" && event.wasFailed) {
      const { stan, op, amount, attempt } = event;
      return this.#print({ ...this.#slipHeader(), kind: "reversed", stan, op, amount, attempts: attempt });
    }
    if (event.ev === "settlement") {
      const { stan, batch, balanced, totals, openReversals } = event;
      this.#print({ ...this.#slipHeader(), kind: "settlement", stan, batch, balanced, totals, openReversals });
    }
  }

  #slipHeader(): { terminalId: string; merchantId: string; atMs: number } {
    const { identity, wallClock } = this.#options;
    return { terminalId: identity.terminalId, merchantId: identity.merchantId, atMs: wallClock.nowMs() };
  }

  #print(slip: Slip): void {
    const attempts = slip.kind === "reversalFailed" || slip.kind === "reversed" ? { attempts: slip.attempts } : {};
    this.#trace({ ev: "slip", kind: slip.kind, stan: slip.stan, atMs: slip.atMs, ...attempts });
    this.#options.onSlip?.(slip, renderSlip(slip));
  }

  #onScreen(screen: Screen): void {
    if (this.#options.traceScreens !== false) {
      const title = renderTitle(screen, "en");
      if (title !== this.#lastTitle) this.#trace({ ev: "screen", text: title });
      this.#lastTitle = title;
    }
    this.#options.onScreen?.(screen);
  }

  #trace(event: TerminalEvent): void {
    this.#options.onEvent?.(event);
  }
}

/**
 * The parameters in effect with `block` laid over the provisioned ones, handed to the engine; a
 * ParameterError (nothing changed) when the set does not resolve. A module function, not a method: XS
 * gives every instance a slot per private method.
 */
function useParameters(engine: TxnEngine, provisioned: TerminalParameters, block: Uint8Array): TerminalParameters {
  const p = resolveParameters({ ...provisioned, ...decodeParameterBlock(block) });
  engine.configure({
    responseTimeoutMs: p.responseTimeoutMs,
    connectTimeoutMs: p.connectTimeoutMs,
    reversalAttempts: p.reversalAttempts,
    blockSalesWhileReversalFailed: p.blockSalesWhileReversalFailed,
    limits: { amountMaxMinor: p.amountMaxMinor, batchCountMax: p.batchCountMax, batchAmountMaxMinor: p.batchAmountMaxMinor },
  });
  return p;
}

/** Screens the operator is not typing on: the idle worker may send a reversal (acknowledgements stay on top). */
function atRest(screen: Screen): boolean {
  switch (screen.kind) {
    case "idle":
    case "result":
    case "settlementDone":
    case "reversalFailed":
    case "reversedNotice":
      return true;
    default:
      return false;
  }
}

/** The notice a void the engine will not run gets: each says why, so the merchant knows what to do instead. */
const VOID_NOTICES = Object.freeze({
  notFound: "noticeVoidNotFound",
  voided: "noticeVoidAlreadyVoided",
  refunded: "noticeVoidRefunded",
} as const satisfies Record<VoidRefusal, NoticeId>);

/** The notice a refund the engine will not run gets. */
const REFUND_NOTICES = Object.freeze({
  voided: "noticeRefundVoided",
  overRefund: "noticeRefundOverSale",
} as const satisfies Record<RefundRefusal, NoticeId>);

/** The notice each reader's cleaning gets. */
const CLEANING_NOTICE = Object.freeze({
  magstripe: "noticeCleanMagstripe",
  contactless: "noticeCleanContactless",
  contact: "noticeCleanContact",
} as const satisfies Record<ReaderKind, NoticeId>);
