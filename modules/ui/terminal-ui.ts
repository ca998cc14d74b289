/**
 * The terminal's screens as one state machine, shared by every host (the
 * device paints them, the simulator renders them in a page and reports the
 * English title as `screen` events).
 *
 * Inputs: key presses, the menu (`start`, `listPendingReversals`), the host's
 * card steps (`ask`), the count of reversals owed (`setPendingReversals`) and
 * the engine's domain events (`onEngineEvent`, modules/txn/events.ts): the
 * engine knows nothing of screens; this file decides what the merchant sees.
 * Outputs: the new screen (`onScreen`) and what the operator asked for
 * (`onIntent`). The PIN digits never enter a Screen: the screen holds only
 * their count, and the digits leave once, through `onIntent`, then the buffer
 * is wiped.
 *
 * Screens that must be seen wait for ENTER or CANCEL: 冲正失败 (the first
 * failure of a record), and the notice that a record owed from before (冲正失败
 * or cut by a power loss) was reversed later. What the engine reports
 * meanwhile waits behind them (the latest report shows after the
 * acknowledgement); the result of the very transaction whose reversal failed
 * is dropped, since 冲正失败 already says what became of it.
 */
import type { FinancialOp } from "../txn/ports";
import type { BatchTotals, LinkFailure, OpenReversal, Operation, Outcome as EngineOutcome, RefusalReason, TxnEvent } from "../txn/events";
import { assert } from "../base/assert";
import { fill, formatAmount, RESPONSE_REASONS, TEXTS, type Language, type TextId } from "./texts";

export type { Operation };
/** What a result screen says: the engine's outcome, a refusal on the terminal, or the operator's cancel. */
export type Outcome = Exclude<EngineOutcome, "refused"> | RefusalReason | "cancelled";

/** One line of the pending-reversals list: no PAN at all (the journal panel shows the masked one). */
export interface PendingReversalLine {
  readonly stan: string;
  readonly op: FinancialOp;
  readonly amount: number;
  readonly state: "reversalDue" | "failed";
  readonly reason?: "98" | "A0" | "06";
  /** Attempts made so far (kept on flash). */
  readonly attempts: number;
}

export type Screen =
  /** `pending`: reversals still owed (reversal-due and 冲正失败). */
  | { readonly kind: "idle"; readonly pending: number }
  /**
   * `op` "refund" (with the original STAN if one was typed): a refund's amount; absent: a sale's. `leftAmount`: what
   * the named sale of the open batch has left to give back (the refunds of the batch naming it taken off).
   */
  | {
      readonly kind: "amount";
      readonly digits: string;
      readonly op?: "refund";
      readonly originalStan?: string;
      readonly leftAmount?: number;
    }
  /** The original STAN of a void (required) or of a refund (optional). */
  | { readonly kind: "stanEntry"; readonly purpose: "void" | "refund"; readonly digits: string }
  /** A void shows the original it cancels before anything is sent. */
  | { readonly kind: "voidConfirm"; readonly stan: string; readonly amount: number; readonly panMasked: string }
  | { readonly kind: "pendingReversals"; readonly records: readonly PendingReversalLine[] }
  | { readonly kind: "presentCard"; readonly op: Operation; readonly amount: number }
  | { readonly kind: "pin"; readonly entered: number; readonly op: Operation; readonly amount: number }
  | { readonly kind: "processing"; readonly op: Operation; readonly remainingMs: number | undefined }
  /** A reversal episode at work: its own STAN, attempt and countdown. */
  | {
      readonly kind: "reversing";
      readonly stan: string;
      readonly op: FinancialOp;
      readonly amount: number;
      readonly attempt: number;
      readonly attempts: number;
      /** `backoff`: the attempt waits before it goes (the countdown is to the next try, not to an answer). */
      readonly backoff?: true;
      readonly remainingMs: number | undefined;
    }
  | {
      readonly kind: "result";
      readonly op: Operation;
      readonly outcome: Outcome;
      readonly stan?: string;
      readonly f39?: string;
      readonly amount?: number;
      readonly balance?: number;
      /** Reversed with the bank in its own episode: nothing was charged (credited). */
      readonly reversed?: boolean;
      /** Its reversal could not be sent (no network): owed, retried by the terminal. */
      readonly reversalPending?: boolean;
    }
  | {
      readonly kind: "reversalFailed";
      readonly op: FinancialOp;
      readonly stan: string;
      readonly amount: number;
      readonly salesBlocked: boolean;
    }
  /** A record owed from before went through: once, until acknowledged. `wasFailed`: a 冲正失败 slip was printed for it. */
  | {
      readonly kind: "reversedNotice";
      readonly op: FinancialOp;
      readonly stan: string;
      readonly amount: number;
      readonly wasFailed: boolean;
    }
  | { readonly kind: "settlement"; readonly phase: "totals" | "upload"; readonly uploaded: number; readonly toUpload: number }
  | ({ readonly kind: "diagnostics" } & Diagnostics)
  | {
      readonly kind: "settlementDone";
      readonly balanced: boolean;
      readonly totals: BatchTotals;
      readonly openReversals: readonly OpenReversal[];
    };

/** The link under the transport, as the host sees it (Wi-Fi on the ESP32). */
export interface LinkStatus {
  readonly up: boolean;
  /** Signal strength, where the radio reports it. */
  readonly rssiDbm?: number;
}

/** 检查网络连接 and 清洁和维护 on one screen: the link, the echo's timings, the last failures, the readers. */
export interface Diagnostics {
  readonly ok: boolean;
  readonly connectMs?: number;
  readonly answerMs?: number;
  /** The host answered the echo with this code, not 00. */
  readonly f39?: string;
  /** The host's answer failed its MAC check. */
  readonly badMac?: true;
  readonly failures: readonly LinkFailure[];
  readonly link?: LinkStatus;
  /** Each reader with reads in its window: how many of them failed, and the failures by reason (totals). */
  readonly readers: readonly {
    readonly reader: "magstripe" | "contactless" | "contact";
    readonly reads: number;
    readonly failed: number;
    readonly reasons: Readonly<Record<string, number>>;
  }[];
  /** Readers the merchant should clean. */
  readonly cleaning: readonly ("magstripe" | "contactless" | "contact")[];
}

/** The host application's card steps: a card is asked for, its PIN, a void's original to confirm. */
export type AskInput =
  | { readonly kind: "presentCard"; readonly op: Operation; readonly amount: number }
  | { readonly kind: "enterPin" }
  | { readonly kind: "voidConfirm"; readonly stan: string; readonly amount: number; readonly panMasked: string }
  /** The refund's original STAN was looked up: its amount next, with what the sale has left when it is in the open batch. */
  | { readonly kind: "refundAmount"; readonly originalStan: string; readonly leftAmount?: number };

export type Key = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "enter" | "cancel" | "clear";

export type Intent =
  | { readonly kind: "sale"; readonly amount: number }
  | { readonly kind: "refund"; readonly amount: number; readonly originalStan?: string }
  /** The refund's original STAN was typed: the host looks it up and asks for the amount (`refundAmount`). */
  | { readonly kind: "refundLookup"; readonly stan: string }
  /** The void's original STAN was typed: the host looks it up and asks for confirmation. */
  | { readonly kind: "voidLookup"; readonly stan: string }
  /** The operator confirmed the original on the voidConfirm screen. */
  | { readonly kind: "void"; readonly stan: string }
  | { readonly kind: "pin"; readonly pin: string }
  /** CLEAR on the diagnostics screen: the merchant cleaned the readers it asked to clean. */
  | { readonly kind: "readersCleaned"; readonly readers: Diagnostics["cleaning"] }
  | { readonly kind: "cancel" };

/** A short message over the current screen: a key that cannot act, a card that was not read. */
export type NoticeId =
  | "noticeAmountZero"
  | "noticeAmountTooLong"
  | "noticeBusy"
  | "noticeNoCardNeeded"
  | "noticeCardUnreadable"
  | "noticeNoSlip"
  | "noticeVoidNotFound"
  | "noticeVoidAlreadyVoided"
  | "noticeVoidRefunded"
  | "noticeRefundVoided"
  | "noticeRefundOverSale"
  | "noticeRefundedInFull"
  | "noticeStanEmpty"
  | "noticeCleanMagstripe"
  | "noticeCleanContactless"
  | "noticeCleanContact"
  | "noticeReadersCleaned"
  | "noticeParametersApplied"
  | "noticeParametersRefused"
  | "noticeParametersCurrent"
  | "noticeParametersFailed"
  | "noticeUpdateWaiting"
  | "noticeUpdateRejected"
  | "noticeUpdateRestarting"
  | "noticeUpdateInstalled"
  | "noticeUpdateRolledBack";

export interface RenderedScreen {
  readonly title: string;
  readonly lines: readonly string[];
}

export interface TerminalUiOptions {
  readonly onScreen?: (screen: Screen) => void;
  readonly onIntent?: (intent: Intent) => void;
}

export const AMOUNT_DIGITS_MAX = 10;
const PIN_DIGITS_MAX = 12;
const STAN_DIGITS = 6;
/** Unacknowledged screens kept: the engine's own bound on reversals flushed at once. */
const ATTENTION_MAX = 64;
/** Pending reversals listed on the display (8 lines: the title's list, then "n more" and the hint). */
const PENDING_LINES_MAX = 6;
const LINES_MAX = 8;

type Attention = Extract<Screen, { kind: "reversalFailed" | "reversedNotice" }>;

export class TerminalUi {
  readonly #options: TerminalUiOptions;
  #screen: Screen = { kind: "idle", pending: 0 };
  #pending = 0;
  #notice: NoticeId | undefined;
  /** PIN digits typed so far, as key codes; wiped after use. */
  readonly #pin = new Uint8Array(PIN_DIGITS_MAX);
  /** The card step in progress: the PIN screen repeats its amount. */
  #asked: { readonly op: Operation; readonly amount: number } | undefined;
  /** Screens waiting for acknowledgement (冲正失败, reversed notices), the first one on the display. */
  readonly #attention: Attention[] = [];
  /** The latest report that arrived while an acknowledgement was awaited. */
  #behind: Screen | undefined;
  /** The latest engine report, shown or held. */
  #lastReport: Screen | undefined;
  /**
   * A screen waiting for the operator (a result, a settlement report) that a reversal owed from before
   * covered with its progress while the terminal was idle: it comes back when that episode ends, unless
   * what it said about that record is out of date by then.
   */
  #coveredByWorker: Screen | undefined;

  constructor(options: TerminalUiOptions = {}) {
    this.#options = options;
  }

  get screen(): Screen {
    return this.#screen;
  }

  /** The notice over the screen, until the next key or screen change. */
  get notice(): NoticeId | undefined {
    return this.#notice;
  }

  /** The operator may start something: the screen waits for them and nothing waits for acknowledgement. */
  get ready(): boolean {
    switch (this.#screen.kind) {
      case "idle":
      case "amount":
      case "stanEntry":
      case "voidConfirm":
      case "pendingReversals":
      case "result":
      case "settlementDone":
      case "diagnostics":
        return true;
      default:
        return false;
    }
  }

  /** What the engine reports: the screen follows the transaction, except over a screen awaiting acknowledgement. */
  onEngineEvent(event: TxnEvent): void {
    switch (event.ev) {
      case "exchange":
        // Settlement shows its own progress (totals, upload n/N); a processing screen would hide it.
        if (event.op === "settle") return;
        return this.#report({ kind: "processing", op: event.op, remainingMs: event.phase === "waiting" ? event.timeoutMs : undefined });
      case "reversal":
        if (event.phase === "attempt" || event.phase === "waiting" || event.phase === "backoff") {
          const { stan, op, amount, attempt, attempts } = event;
          if (event.deferred && this.#attention.length === 0 && waitsForOperator(this.#screen)) this.#coveredByWorker = this.#screen;
          const backoff = event.phase === "backoff" ? { backoff: true as const } : {};
          return this.#report({ kind: "reversing", stan, op, amount, attempt, attempts, ...backoff, remainingMs: event.timeoutMs });
        }
        // No network: what follows says so (the transaction's result, the refused operation, or idle with the count).
        if (event.phase === "offline") return;
        if (event.phase === "failed") {
          // A record that was 冲正失败 already fails again: the pending count tells it, not a new alarm.
          if (!event.firstFailure) return;
          return this.#attend({
            kind: "reversalFailed",
            op: event.op,
            stan: event.stan,
            amount: event.amount,
            salesBlocked: event.salesBlocked,
          });
        }
        // Reversed: the running operation's own result says so; a record owed from before gets its notice.
        if (event.phase === "reversed" && event.deferred)
          this.#attend({ kind: "reversedNotice", op: event.op, stan: event.stan, amount: event.amount, wasFailed: event.wasFailed });
        return;
      case "result":
        // The settlement report and the network check say it all: their result must not replace them.
        if (event.op === "settle" && event.outcome === "approved" && this.#lastReport?.kind === "settlementDone") return;
        if (event.op === "networkCheck" && this.#lastReport?.kind === "diagnostics") return;
        return this.#report(resultScreen(event));
      case "settlementProgress":
        return this.#report({ kind: "settlement", phase: event.phase, uploaded: event.uploaded, toUpload: event.toUpload });
      case "settlement":
        return this.#report({ kind: "settlementDone", balanced: event.balanced, totals: event.totals, openReversals: event.openReversals });
      case "idle": {
        const covered = this.#coveredByWorker;
        this.#coveredByWorker = undefined;
        if (this.#attention.length > 0) {
          if (this.#behind !== undefined && inProgress(this.#behind)) this.#behind = covered;
        } else if (inProgress(this.#screen)) this.#set(covered ?? { kind: "idle", pending: this.#pending });
        return;
      }
      default:
        return; // boot, send, recv, journal: the trace's business, not the screen's
    }
  }

  /** The host's card steps. */
  ask(input: AskInput): void {
    if (input.kind === "presentCard") this.#asked = { op: input.op, amount: input.amount };
    if (input.kind === "refundAmount") return this.#report({ ...input, kind: "amount", digits: "", op: "refund" });
    const asked = this.#asked ?? { op: "sale", amount: 0 };
    this.#report(input.kind === "enterPin" ? { kind: "pin", entered: 0, op: asked.op, amount: asked.amount } : input);
  }

  /** The network check's findings, with the link and the readers (the host adds what only it knows). */
  showDiagnostics(diagnostics: Diagnostics): void {
    this.#report({ kind: "diagnostics", ...diagnostics });
  }

  /** How many reversals are owed: the idle screen shows it. */
  setPendingReversals(count: number): void {
    assert(Number.isInteger(count) && count >= 0, "TerminalUi: a pending count is a whole number");
    if (count === this.#pending) return;
    this.#pending = count;
    if (this.#screen.kind === "idle") this.#set({ kind: "idle", pending: count });
  }

  /** A short message over the current screen, cleared by the next key. */
  notify(notice: NoticeId): void {
    this.#notice = notice;
    this.#options.onScreen?.(this.#screen);
  }

  /** Updates the remaining response time on the processing or reversing screen. */
  tick(remainingMs: number | undefined): void {
    const screen = this.#screen;
    if (screen.kind === "processing" || screen.kind === "reversing") this.#screen = { ...screen, remainingMs };
  }

  /** A menu function: a sale's amount, a refund's original STAN (then its amount), a void's original STAN. False when not ready. */
  start(fn: "sale" | "refund" | "void"): boolean {
    if (!this.ready) return false;
    this.#set(fn === "sale" ? { kind: "amount", digits: "" } : { kind: "stanEntry", purpose: fn, digits: "" });
    return true;
  }

  /** The reversals still waiting (reversal-due and 冲正失败), until any key. False when not ready. */
  listPendingReversals(records: readonly PendingReversalLine[]): boolean {
    if (!this.ready) return false;
    this.#set({ kind: "pendingReversals", records: records.slice() });
    return true;
  }

  press(key: Key): void {
    const screen = this.#screen;
    this.#notice = undefined;
    switch (screen.kind) {
      case "idle":
        if (isDigit(key) && key !== "0") this.#set({ kind: "amount", digits: key });
        return;
      case "amount":
        return this.#pressAmount(screen, key);
      case "stanEntry":
        return this.#pressStan(screen.purpose, screen.digits, key);
      case "voidConfirm":
        if (key === "enter") return this.#options.onIntent?.({ kind: "void", stan: screen.stan });
        if (key === "cancel") this.#cancel();
        return;
      case "pendingReversals":
        return this.#idle();
      case "pin":
        return this.#pressPin(screen.entered, key);
      case "presentCard":
        if (key === "cancel") this.#cancel();
        return;
      case "reversalFailed":
      case "reversedNotice":
        // Acknowledged: the next one, or what waited behind. A failed record itself stays in the journal.
        if (key === "enter" || key === "cancel") this.#acknowledge();
        return;
      case "diagnostics":
        if (key === "clear" && screen.cleaning.length > 0) {
          this.#idle();
          return this.#options.onIntent?.({ kind: "readersCleaned", readers: screen.cleaning });
        }
        return this.#pressAcknowledge(key);
      case "result":
      case "settlementDone":
        return this.#pressAcknowledge(key);
      case "processing":
      case "reversing":
      case "settlement":
        return; // nothing may interrupt a message on the wire
    }
  }

  /** A result or a settlement report: ENTER/CANCEL back to idle; a digit starts the next sale's amount at once. */
  #pressAcknowledge(key: Key): void {
    if (key === "enter" || key === "cancel") this.#idle();
    else if (isDigit(key) && key !== "0") this.#set({ kind: "amount", digits: key });
  }

  #pressAmount(screen: Extract<Screen, { kind: "amount" }>, key: Key): void {
    const digits = screen.digits;
    if (isDigit(key)) {
      if (digits.length >= AMOUNT_DIGITS_MAX) return this.notify("noticeAmountTooLong");
      if (digits.length > 0 || key !== "0") this.#set({ ...screen, digits: digits + key });
    } else if (key === "clear") {
      this.#set(digits.length > 1 ? { ...screen, digits: digits.slice(0, -1) } : { ...screen, digits: "" });
    } else if (key === "cancel") {
      this.#cancel();
    } else if (key === "enter") {
      if (digits.length === 0) return this.notify("noticeAmountZero");
      const amount = Number(digits);
      if (screen.op !== "refund") return this.#options.onIntent?.({ kind: "sale", amount });
      if (screen.leftAmount !== undefined && amount > screen.leftAmount) return this.notify("noticeRefundOverSale");
      this.#options.onIntent?.(
        screen.originalStan === undefined ? { kind: "refund", amount } : { kind: "refund", amount, originalStan: screen.originalStan },
      );
    }
  }

  #pressStan(purpose: "void" | "refund", digits: string, key: Key): void {
    if (isDigit(key)) {
      if (digits.length < STAN_DIGITS) this.#set({ kind: "stanEntry", purpose, digits: digits + key });
    } else if (key === "clear") {
      this.#set({ kind: "stanEntry", purpose, digits: digits.slice(0, -1) });
    } else if (key === "cancel") {
      this.#cancel();
    } else if (purpose === "refund") {
      // ENTER: the original STAN is optional for a refund. Without one the amount comes next; with one the host looks it up first.
      if (digits.length === 0) this.#set({ kind: "amount", digits: "", op: "refund" });
      else this.#options.onIntent?.({ kind: "refundLookup", stan: digits.padStart(STAN_DIGITS, "0") });
    } else if (digits.length === 0) {
      this.notify("noticeStanEmpty");
    } else {
      // The screen stays until the host answers: a STAN it does not find can be corrected here.
      this.#options.onIntent?.({ kind: "voidLookup", stan: digits.padStart(STAN_DIGITS, "0") });
    }
  }

  #pressPin(entered: number, key: Key): void {
    const screen = this.#screen as Extract<Screen, { kind: "pin" }>;
    if (isDigit(key)) {
      if (entered < PIN_DIGITS_MAX) {
        this.#pin[entered] = key.charCodeAt(0);
        this.#set({ ...screen, entered: entered + 1 });
      }
    } else if (key === "clear") {
      this.#pin.fill(0);
      this.#set({ ...screen, entered: 0 });
    } else if (key === "cancel") {
      this.#pin.fill(0);
      this.#cancel();
    } else if (key === "enter") {
      const pin = String.fromCharCode(...this.#pin.subarray(0, entered));
      this.#pin.fill(0);
      this.#options.onIntent?.({ kind: "pin", pin });
    }
  }

  /** The operator gave up before anything was sent: 交易取消, and the host forgets the card step. */
  #cancel(): void {
    const op = this.#asked?.op ?? operationOf(this.#screen);
    this.#asked = undefined;
    this.#set({ kind: "result", op, outcome: "cancelled" });
    this.#options.onIntent?.({ kind: "cancel" });
  }

  #idle(): void {
    this.#set({ kind: "idle", pending: this.#pending });
  }

  /** A screen that waits for acknowledgement, queued behind the ones already waiting. */
  #attend(screen: Attention): void {
    const queue = this.#attention;
    const index = queue.findIndex((a) => a.stan === screen.stan);
    if (index >= 0) queue[index] = screen;
    else if (queue.length < ATTENTION_MAX) queue.push(screen);
    else queue[queue.length - 1] = screen;
    // What a covered screen said of this record is over: the notice or the alarm says what became of it.
    if (this.#coveredByWorker !== undefined && stanOf(this.#coveredByWorker) === screen.stan) this.#coveredByWorker = undefined;
    if (queue.length === 1 && index < 0)
      this.#behind = this.#screen.kind === "pin" ? undefined : (this.#behindOf(this.#screen) ?? this.#coveredByWorker);
    if (this.#screen.kind === "pin") this.#pin.fill(0);
    if (index === 0 || (index < 0 && queue.length === 1)) this.#set(queue[0]);
  }

  /** What to come back to after an acknowledgement: a screen waiting for the operator, or idle. */
  #behindOf(screen: Screen): Screen | undefined {
    return inProgress(screen) ? undefined : screen;
  }

  /** An engine report or a card step: shown, or held behind a screen awaiting acknowledgement. */
  #report(screen: Screen): void {
    this.#lastReport = screen;
    if (screen.kind === "result" || screen.kind === "settlementDone") this.#asked = undefined;
    if (this.#attention.length === 0) {
      if (this.#screen.kind === "pin") this.#pin.fill(0);
      return this.#set(screen);
    }
    // The result of a transaction whose 冲正失败 is on the display: that screen already says what became of it.
    if (screen.kind === "result" && this.#attention.some((a) => a.kind === "reversalFailed" && a.stan === screen.stan)) return;
    this.#behind = screen;
  }

  #acknowledge(): void {
    this.#attention.shift();
    const next = this.#attention.at(0);
    if (next !== undefined) return this.#set(next);
    const behind = this.#behind;
    this.#behind = undefined;
    if (behind === undefined || behind.kind === "idle") return this.#idle();
    if (behind.kind === "pin") this.#pin.fill(0);
    this.#set(behind);
  }

  #set(screen: Screen): void {
    this.#screen = screen;
    this.#options.onScreen?.(screen);
  }
}

function resultScreen(event: Extract<TxnEvent, { ev: "result" }>): Extract<Screen, { kind: "result" }> {
  const outcome: Outcome = event.outcome === "refused" ? (event.refusal ?? "notSent") : event.outcome;
  return {
    kind: "result",
    op: event.op,
    outcome,
    ...(event.stan !== undefined ? { stan: event.stan } : {}),
    ...(event.f39 !== undefined ? { f39: event.f39 } : {}),
    ...(event.amount !== undefined ? { amount: event.amount } : {}),
    ...(event.balance !== undefined ? { balance: event.balance } : {}),
    ...(event.reversed === true ? { reversed: true } : {}),
    ...(event.reversalPending === true ? { reversalPending: true } : {}),
  };
}

/** The operation an entry screen belongs to (a cancel's result). */
function operationOf(screen: Screen): Operation {
  if (screen.kind === "stanEntry") return screen.purpose;
  if (screen.kind === "voidConfirm") return "void";
  if (screen.kind === "amount") return screen.op ?? "sale";
  return "sale";
}

/** A line that opens with an operation's name (kept lower case for use mid-sentence): capitalised in English, "Sale ¥5.00". */
function lineStart(text: string, language: Language): string {
  return language === "en" ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** A screen that only shows the engine at work: the engine going idle ends it. */
function inProgress(screen: Screen): boolean {
  return screen.kind === "processing" || screen.kind === "reversing" || screen.kind === "settlement";
}

/** A report the operator has not dismissed yet: worth showing again after a background reversal covered it. */
function waitsForOperator(screen: Screen): boolean {
  return screen.kind === "result" || screen.kind === "settlementDone";
}

function stanOf(screen: Screen): string | undefined {
  return screen.kind === "result" ? screen.stan : undefined;
}

function isDigit(key: Key): boolean {
  return key.length === 1 && key >= "0" && key <= "9";
}

const OPERATION_TEXT: Readonly<Record<Operation, TextId>> = Object.freeze({
  sale: "opSale",
  void: "opVoid",
  refund: "opRefund",
  balance: "opBalance",
  signOn: "opSignOn",
  signOff: "opSignOff",
  echo: "opEcho",
  settle: "opSettle",
  networkCheck: "opNetworkCheck",
});

const OUTCOME_TEXT: Readonly<Record<Outcome, TextId>> = Object.freeze({
  approved: "approved",
  declined: "declined",
  timeout: "timeout",
  failed: "failed",
  notSent: "refused",
  notSignedOn: "notSignedOn",
  blocked: "blocked",
  journalFull: "journalFull",
  amountLimit: "amountLimit",
  batchLimit: "batchLimit",
  reversalPending: "noNetwork",
  cancelled: "cancelled",
});

/** Approvals that are not payments have their own words: 签到成功, not 交易成功. */
const APPROVED_TEXT: Readonly<Partial<Record<Operation, TextId>>> = Object.freeze({
  signOn: "signedOn",
  signOff: "signedOff",
  echo: "echoOk",
  balance: "balanceResult",
});

/** The notice in `language`. */
export function renderNotice(notice: NoticeId, language: Language): string {
  return fill(notice, language, notice === "noticeAmountTooLong" ? { digits: String(AMOUNT_DIGITS_MAX) } : {});
}

/** The screen's title alone (what a trace reports): no line is filled. */
export function renderTitle(screen: Screen, language: Language): string {
  switch (screen.kind) {
    case "idle":
      return screen.pending === 0 ? fill("idle", language) : fill("idlePending", language, { count: String(screen.pending) });
    case "amount":
      return fill(screen.op === "refund" ? "refundAmount" : "amount", language);
    case "stanEntry":
      return fill(screen.purpose === "void" ? "voidStan" : "refundStan", language);
    case "result":
      return resultTitle(screen, language);
    case "reversedNotice":
      return fill("reversedNotice", language, { stan: screen.stan });
    case "diagnostics":
      return fill(screen.ok ? "networkCheckOk" : "networkCheckFailed", language);
    default:
      return fill(TITLE_TEXT[screen.kind], language);
  }
}

const TITLE_TEXT = Object.freeze({
  voidConfirm: "voidConfirm",
  pendingReversals: "pendingReversals",
  presentCard: "presentCard",
  pin: "pin",
  processing: "processing",
  reversing: "reversing",
  reversalFailed: "reversalFailed",
  settlement: "settlement",
  settlementDone: "settlementDone",
} as const satisfies Record<
  Exclude<Screen["kind"], "idle" | "amount" | "stanEntry" | "result" | "reversedNotice" | "diagnostics">,
  TextId
>);

/** The screen's title and lines in `language`. */
export function render(screen: Screen, language: Language): RenderedScreen {
  return { title: renderTitle(screen, language), lines: renderLines(screen, language) };
}

function renderLines(screen: Screen, language: Language): string[] {
  const t = (id: TextId, values?: Readonly<Record<string, string>>) => fill(id, language, values);
  const op = (o: Operation) => TEXTS[OPERATION_TEXT[o]][language];
  switch (screen.kind) {
    case "idle":
      return screen.pending === 0 ? [t("idleHint")] : [t("idleHint"), t("idlePendingHint")];
    case "amount": {
      const lines = [t("amountLine", { amount: formatAmount(Number(screen.digits)) })];
      if (screen.originalStan !== undefined) lines.push(t("originalStanLine", { stan: screen.originalStan }));
      if (screen.leftAmount !== undefined) lines.push(t("refundLeftLine", { amount: formatAmount(screen.leftAmount) }));
      return lines;
    }
    case "stanEntry":
      return [
        t("stanLine", { stan: screen.digits === "" ? "_" : screen.digits }),
        t(screen.purpose === "void" ? "voidStanHint" : "refundStanHint"),
      ];
    case "voidConfirm":
      return [
        t("voidConfirmLine", { stan: screen.stan, amount: formatAmount(screen.amount) }),
        t("voidConfirmCard", { pan: screen.panMasked }),
        t("voidConfirmHint"),
      ];
    case "pendingReversals":
      return pendingLines(screen.records, language);
    case "presentCard":
      return screen.amount > 0 ? [t("amountLine", { amount: formatAmount(screen.amount) })] : [];
    case "pin": {
      const amountLine = t("pinAmountLine", { op: op(screen.op), amount: formatAmount(screen.amount) });
      const lines = screen.amount > 0 ? [lineStart(amountLine, language)] : [];
      return [...lines, "*".repeat(screen.entered), t("pinHint")];
    }
    case "processing": {
      const lines = [lineStart(op(screen.op), language)];
      if (screen.remainingMs !== undefined) lines.push(t("remaining", { seconds: String(Math.ceil(screen.remainingMs / 1000)) }));
      return lines;
    }
    case "reversing": {
      const lines = [
        t("reversalAttempt", { attempt: String(screen.attempt), attempts: String(screen.attempts), stan: screen.stan }),
        t("amountLine", { amount: formatAmount(screen.amount) }),
      ];
      if (screen.remainingMs !== undefined)
        lines.push(t(screen.backoff === true ? "nextTry" : "remaining", { seconds: String(Math.ceil(screen.remainingMs / 1000)) }));
      lines.push(t("reversingHint"));
      return lines;
    }
    case "result":
      return resultLines(screen, language);
    case "reversalFailed":
      return [...reversalFailedGuidance(screen, language), t("reversalFailedAcknowledge")];
    case "reversedNotice":
      return [...reversedNoticeText(screen, language), t("acknowledge")];
    case "settlement":
      return [
        screen.phase === "totals"
          ? t("settlementTotals")
          : t("settlementUpload", { done: String(screen.uploaded), total: String(screen.toUpload) }),
      ];
    case "settlementDone":
      return settlementLines(screen, language);
    case "diagnostics":
      return diagnosticsLines(screen, language);
  }
}

function resultTitle(screen: Extract<Screen, { kind: "result" }>, language: Language): string {
  if (screen.reversed === true) return fill("reversed", language);
  if (screen.reversalPending === true) return fill("reversalPendingTitle", language);
  if (screen.outcome === "approved") return fill(APPROVED_TEXT[screen.op] ?? "approved", language);
  return fill(OUTCOME_TEXT[screen.outcome], language);
}

/** What happened and what to do after a 冲正失败: the screen's lines before its key hint, and the slip's. */
export function reversalFailedGuidance(screen: Extract<Screen, { kind: "reversalFailed" }>, language: Language): string[] {
  const values = {
    op: TEXTS[OPERATION_TEXT[screen.op]][language],
    amount: formatAmount(screen.amount),
    stan: screen.stan,
    consequence: fill(MAY_HAVE_TEXT[screen.op], language),
  };
  const lines = [fill("reversalFailedWhat", language, values), fill("reversalFailedWhatToDo", language)];
  if (screen.salesBlocked) lines.push(fill("reversalFailedSalesBlocked", language));
  return lines;
}

/**
 * What a later reversal means for the merchant: what the bank undid, by operation (a void reversed leaves
 * its sale standing), and, when a 冲正失败 slip was printed for it, that the slip no longer applies. A
 * reversal that was only pending (no network) printed no slip. The notice's lines and the slip's.
 */
export function reversedNoticeText(
  screen: { readonly op: FinancialOp; readonly stan: string; readonly amount: number; readonly wasFailed: boolean },
  language: Language,
): string[] {
  const what = fill(REVERSED_NOTICE_TEXT[screen.op], language, {
    op: TEXTS[OPERATION_TEXT[screen.op]][language],
    amount: formatAmount(screen.amount),
    stan: screen.stan,
  });
  const sentence = lineStart(what, language);
  return screen.wasFailed ? [sentence, fill("reversedNoticeSlipVoid", language)] : [sentence];
}

/** What a cancellation that did not go through may have left behind: a charge, a credit, a cancelled sale. */
const MAY_HAVE_TEXT: Readonly<Record<FinancialOp, TextId>> = Object.freeze({
  sale: "mayHaveChargedSale",
  refund: "mayHaveCreditedRefund",
  void: "mayHaveVoidedSale",
});

/** While a cancellation waits for the network: what not to do meanwhile, by operation. */
const PENDING_WHAT_TO_DO_TEXT: Readonly<Record<FinancialOp, TextId>> = Object.freeze({
  sale: "reversalPendingWhatToDo",
  refund: "reversalPendingWhatToDoRefund",
  void: "reversalPendingWhatToDoVoid",
});

const REVERSED_NOTICE_TEXT: Readonly<Record<FinancialOp, TextId>> = Object.freeze({
  sale: "reversedNoticeSale",
  refund: "reversedNoticeRefund",
  void: "reversedNoticeVoid",
});

/** Totals by type, the host's verdict and the reversals still owed: the screen's lines and the slip's. */
export function settlementLines(
  screen: { readonly balanced: boolean; readonly totals: BatchTotals; readonly openReversals: readonly OpenReversal[] },
  language: Language,
): string[] {
  const t = (id: TextId, values?: Readonly<Record<string, string>>) => fill(id, language, values);
  const { totals } = screen;
  const lines = [
    screen.balanced ? t("settlementBalanced") : t("settlementUnbalanced"),
    t("settlementSales", { count: String(totals.saleCount), amount: formatAmount(totals.saleAmount) }),
    t("settlementVoids", { count: String(totals.voidCount), amount: formatAmount(totals.voidAmount) }),
    t("settlementRefunds", { count: String(totals.refundCount), amount: formatAmount(totals.refundAmount) }),
  ];
  if (screen.openReversals.length > 0) lines.push(t("settlementPendingReversals", { count: String(screen.openReversals.length) }));
  return lines;
}

const READER_TEXT = Object.freeze({ magstripe: "readerMagstripe", contactless: "readerContactless", contact: "readerContact" } as const);
const CLEAN_TEXT = Object.freeze({
  magstripe: "noticeCleanMagstripe",
  contactless: "noticeCleanContactless",
  contact: "noticeCleanContact",
} as const);
/** Link failures the screen lists (the engine keeps four). */
const FAILURE_LINES_MAX = 2;

function diagnosticsLines(screen: Diagnostics, language: Language): string[] {
  const t = (id: TextId, values?: Readonly<Record<string, string>>) => fill(id, language, values);
  const lines: string[] = [];
  if (screen.link !== undefined)
    lines.push(
      !screen.link.up
        ? t("linkDown")
        : screen.link.rssiDbm === undefined
          ? t("linkUp")
          : t("linkUpRssi", { rssi: String(screen.link.rssiDbm) }),
    );
  if (screen.connectMs !== undefined) {
    const answer = screen.answerMs === undefined ? "—" : String(screen.answerMs);
    lines.push(t("networkTimings", { connect: String(screen.connectMs), answer }));
  }
  if (screen.badMac === true) lines.push(t("networkAnswerBadMac"));
  else if (screen.f39 !== undefined) lines.push(t("networkAnswerRefused", { code: screen.f39 }));
  for (const f of screen.failures.slice(-FAILURE_LINES_MAX))
    lines.push(t("networkFailure", { time: new Date(f.atMs).toISOString().slice(11, 19), failure: f.failure }));
  for (const r of screen.readers)
    lines.push(t("readerLine", { reader: TEXTS[READER_TEXT[r.reader]][language], failed: String(r.failed), reads: String(r.reads) }));
  if (screen.cleaning.length === 0) return lines.slice(0, LINES_MAX);
  // The advice and how to say it was followed come last and are never cut: they are why the merchant opened this screen.
  const advice = screen.cleaning.map((reader) => t(CLEAN_TEXT[reader]));
  advice.push(t("cleanedHint"));
  return lines.slice(0, LINES_MAX - advice.length).concat(advice);
}

const REVERSAL_STATE_TEXT = Object.freeze({ reversalDue: "pendingStateDue", failed: "pendingStateFailed" } as const);
const REVERSAL_REASON_TEXT = Object.freeze({ "98": "reason98", A0: "reasonA0", "06": "reason06" } as const);

function pendingLines(records: readonly PendingReversalLine[], language: Language): string[] {
  if (records.length === 0) return [fill("pendingNone", language)];
  const lines = records.slice(0, PENDING_LINES_MAX).map((r) =>
    fill("pendingLine", language, {
      stan: r.stan,
      op: TEXTS[OPERATION_TEXT[r.op]][language],
      amount: formatAmount(r.amount),
      state: TEXTS[REVERSAL_STATE_TEXT[r.state]][language],
      reason: r.reason === undefined ? "" : ` ${r.reason} ${TEXTS[REVERSAL_REASON_TEXT[r.reason]][language]}`,
      attempts: String(r.attempts),
    }),
  );
  if (records.length > PENDING_LINES_MAX) lines.push(fill("pendingMore", language, { count: String(records.length - PENDING_LINES_MAX) }));
  lines.push(fill("pendingHint", language));
  return lines;
}

const REVERSED_TEXT: Readonly<Record<FinancialOp, TextId>> = Object.freeze({
  sale: "reversedSale",
  refund: "reversedRefund",
  void: "reversedVoid",
});

function resultLines(screen: Extract<Screen, { kind: "result" }>, language: Language): string[] {
  const t = (id: TextId, values?: Readonly<Record<string, string>>) => fill(id, language, values);
  const lines: string[] = [];
  if (screen.amount !== undefined && screen.amount > 0) lines.push(t("amountLine", { amount: formatAmount(screen.amount) }));
  if (screen.balance !== undefined) lines.push(t("balanceLine", { amount: formatAmount(screen.balance) }));
  if (screen.stan !== undefined) lines.push(t("stanLine", { stan: screen.stan }));
  if (screen.outcome === "declined" && screen.f39 !== undefined) {
    const reason = RESPONSE_REASONS[screen.f39];
    lines.push(t("declinedCode", { code: screen.f39, reason: reason === undefined ? "" : reason[language] }));
  }
  if (screen.reversed === true && screen.op !== "balance" && screen.op in REVERSED_TEXT) {
    lines.push(t(REVERSED_TEXT[screen.op as FinancialOp]), t("reversedRetry"));
  } else if (screen.reversalPending === true) {
    const whatToDo = screen.op in PENDING_WHAT_TO_DO_TEXT ? PENDING_WHAT_TO_DO_TEXT[screen.op as FinancialOp] : "reversalPendingWhatToDo";
    lines.push(t("reversalPendingWhat"), t(whatToDo));
  } else if (screen.outcome === "timeout") lines.push(t("timeoutHint"));
  else if (screen.outcome === "failed") lines.push(t("failedHint"));
  const hint = REFUSAL_HINT[screen.outcome];
  if (hint !== undefined) lines.push(t(hint));
  assert(lines.length <= LINES_MAX, "render: too many lines for the display");
  return lines;
}

const REFUSAL_HINT: Readonly<Partial<Record<Outcome, TextId>>> = Object.freeze({
  notSent: "refusedHint",
  notSignedOn: "notSignedOnHint",
  blocked: "blockedHint",
  journalFull: "journalFullHint",
  amountLimit: "amountLimitHint",
  batchLimit: "batchLimitHint",
  reversalPending: "noNetworkHint",
  cancelled: "cancelledHint",
});
