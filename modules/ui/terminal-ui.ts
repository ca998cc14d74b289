/**
 * The terminal's screens as one state machine, shared by the device (which
 * paints them and feeds key presses) and the simulator (which renders them in
 * a page and reports the English title as `screen` events).
 *
 * Inputs are key presses, the menu (`start`, `listPendingReversals`) and what
 * the transaction engine reports. Outputs are the new screen (`onScreen`) and
 * what the operator asked for (`onIntent`). The PIN digits never enter a
 * Screen: the screen holds only their count, and the digits leave once,
 * through `onIntent`, then the buffer is wiped.
 *
 * 冲正失败 must be seen: a reversalFailed screen stays until ENTER or CANCEL.
 * What the engine reports meanwhile waits behind it (the latest report is
 * shown after the acknowledgement); the result of the very transaction whose
 * reversal failed is dropped, since the 冲正失败 screen already says what
 * happened to it. Several failures queue, each shown. A record acknowledged
 * since power-on that fails again (its retry before a later operation) is
 * shown like any report, so that operation's own result is not held back.
 */
import { assert } from "../base/assert";
import { fill, formatAmount, RESPONSE_REASONS, TEXTS, type Language, type TextId } from "./texts";

export type Operation = "sale" | "void" | "refund" | "balance" | "signOn" | "signOff" | "echo" | "settle";
export type Outcome = "approved" | "declined" | "timeout" | "refused" | "failed" | "blocked" | "journalFull";

/** One line of the pending-reversals list: no PAN at all (the journal panel shows the masked one). */
export interface PendingReversalLine {
  readonly stan: string;
  readonly op: "sale" | "void" | "refund";
  readonly amount: number;
  readonly state: "reversalDue" | "failed";
  readonly reason?: "98" | "A0" | "06";
  /** Attempts made so far (kept on flash). */
  readonly attempts: number;
}

/** What the engine reports that the screen shows as it is: the same shapes in the screen state and the engine's input. */
export type EngineReport =
  | { readonly kind: "processing"; readonly op: Operation; readonly remainingMs: number | undefined }
  | {
      readonly kind: "result";
      readonly op: Operation;
      readonly outcome: Outcome;
      readonly stan?: string;
      readonly f39?: string;
      readonly amount?: number;
      readonly balance?: number;
    }
  | { readonly kind: "reversal"; readonly stan: string; readonly attempt: number; readonly attempts: number }
  | {
      readonly kind: "reversalFailed";
      readonly op: Operation;
      readonly stan: string;
      readonly amount: number;
      readonly salesBlocked: boolean;
    }
  | {
      readonly kind: "settlement";
      readonly phase: "totals" | "upload" | "done";
      readonly uploaded: number;
      readonly toUpload: number;
      readonly balanced: boolean;
      readonly failedReversals: number;
    };

export type Screen =
  | { readonly kind: "idle" }
  /** `op` "refund" (with the original STAN if one was typed): a refund's amount; absent: a sale's. */
  | { readonly kind: "amount"; readonly digits: string; readonly op?: "refund"; readonly originalStan?: string }
  /** The original STAN of a void (required) or of a refund (optional). */
  | { readonly kind: "stanEntry"; readonly purpose: "void" | "refund"; readonly digits: string }
  | { readonly kind: "pendingReversals"; readonly records: readonly PendingReversalLine[] }
  | { readonly kind: "presentCard"; readonly op: Operation; readonly amount: number }
  | { readonly kind: "pin"; readonly entered: number }
  | EngineReport;

/**
 * What the engine (and the host application, for the card steps) reports to the screen. `idle`: the
 * engine has nothing running or queued; a screen that only showed progress goes back to idle, one
 * waiting for the operator (a result, 冲正失败, settlement done, an entry) stays.
 */
export type EngineInput =
  | { readonly kind: "presentCard"; readonly op: Operation; readonly amount: number }
  | { readonly kind: "enterPin" }
  | EngineReport
  | { readonly kind: "idle" };

export type Key = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "enter" | "cancel" | "clear";

export type Intent =
  | { readonly kind: "sale"; readonly amount: number }
  | { readonly kind: "refund"; readonly amount: number; readonly originalStan?: string }
  | { readonly kind: "void"; readonly stan: string }
  | { readonly kind: "pin"; readonly pin: string }
  | { readonly kind: "cancel" };

export interface RenderedScreen {
  readonly title: string;
  readonly lines: readonly string[];
}

export interface TerminalUiOptions {
  readonly onScreen?: (screen: Screen) => void;
  readonly onIntent?: (intent: Intent) => void;
}

const AMOUNT_DIGITS_MAX = 10;
const PIN_DIGITS_MAX = 12;
const STAN_DIGITS = 6;
/** Unacknowledged 冲正失败 screens kept: the engine's own bound on reversals flushed at once. */
const FAILURES_SHOWN_MAX = 64;
/** Pending reversals listed on the display (8 lines: the title's list, then "n more" and the hint). */
const PENDING_LINES_MAX = 6;

export class TerminalUi {
  readonly #options: TerminalUiOptions;
  #screen: Screen = { kind: "idle" };
  /** PIN digits typed so far, as key codes; wiped after use. */
  readonly #pin = new Uint8Array(PIN_DIGITS_MAX);
  /** 冲正失败 screens not yet acknowledged, the first one on the display. */
  readonly #failures: Extract<Screen, { kind: "reversalFailed" }>[] = [];
  /** The latest engine report that arrived while a 冲正失败 was on the display. */
  #behind: Screen | undefined;
  /** STANs whose 冲正失败 the operator acknowledged since power-on, newest last. */
  readonly #acknowledged: string[] = [];

  constructor(options: TerminalUiOptions = {}) {
    this.#options = options;
  }

  get screen(): Screen {
    return this.#screen;
  }

  /** The operator may start something: the screen waits for them and no 冲正失败 waits for acknowledgement. */
  get ready(): boolean {
    const screen = this.#screen;
    switch (screen.kind) {
      case "idle":
      case "amount":
      case "stanEntry":
      case "pendingReversals":
      case "result":
        return true;
      case "settlement":
        return screen.phase === "done";
      default:
        return false;
    }
  }

  /** Reported by the engine (or the host's card steps): the screen follows the transaction, except over an unacknowledged 冲正失败. */
  show(input: EngineInput): void {
    if (input.kind === "reversalFailed" && !this.#acknowledged.includes(input.stan)) return this.#addFailure(input);
    if (this.#failures.length > 0) return this.#hold(input);
    if (input.kind === "idle") {
      if (inProgress(this.#screen)) this.#set({ kind: "idle" });
      return;
    }
    if (this.#screen.kind === "pin") this.#pin.fill(0);
    this.#set(input.kind === "enterPin" ? { kind: "pin", entered: 0 } : input);
  }

  /** Updates the remaining response time shown while processing. */
  tick(remainingMs: number | undefined): void {
    if (this.#screen.kind === "processing") this.#screen = { ...this.#screen, remainingMs };
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
    switch (screen.kind) {
      case "idle":
        if (isDigit(key) && key !== "0") this.#set({ kind: "amount", digits: key });
        return;
      case "amount":
        return this.#pressAmount(screen, key);
      case "stanEntry":
        return this.#pressStan(screen.purpose, screen.digits, key);
      case "pendingReversals":
        return this.#set({ kind: "idle" });
      case "pin":
        return this.#pressPin(screen.entered, key);
      case "presentCard":
        if (key === "cancel") this.#cancel();
        return;
      case "reversalFailed":
        // Acknowledged: the next failure, or what waited behind. The failed record itself stays in the journal.
        if (key === "enter" || key === "cancel") this.#acknowledgeFailure();
        return;
      case "settlement":
        if (screen.phase === "done") this.#pressAcknowledge(key);
        return; // nothing may interrupt a message on the wire
      case "result":
        return this.#pressAcknowledge(key);
      case "processing":
      case "reversal":
        return; // nothing may interrupt a message on the wire
    }
  }

  /** A result or a settlement report: ENTER/CANCEL back to idle; a digit starts the next sale's amount at once. */
  #pressAcknowledge(key: Key): void {
    if (key === "enter" || key === "cancel") this.#set({ kind: "idle" });
    else if (isDigit(key) && key !== "0") this.#set({ kind: "amount", digits: key });
  }

  #pressAmount(screen: Extract<Screen, { kind: "amount" }>, key: Key): void {
    const digits = screen.digits;
    if (isDigit(key)) {
      if (digits.length < AMOUNT_DIGITS_MAX && (digits.length > 0 || key !== "0")) this.#set({ ...screen, digits: digits + key });
    } else if (key === "clear") {
      this.#set(digits.length > 1 ? { ...screen, digits: digits.slice(0, -1) } : { kind: "idle" });
    } else if (key === "cancel") {
      this.#set({ kind: "idle" });
    } else if (key === "enter" && digits.length > 0) {
      const amount = Number(digits);
      if (screen.op !== "refund") return this.#options.onIntent?.({ kind: "sale", amount });
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
      this.#set({ kind: "idle" });
    } else if (purpose === "refund") {
      // ENTER: the original STAN is optional for a refund; the amount comes next.
      const originalStan = digits.length === 0 ? undefined : digits.padStart(STAN_DIGITS, "0");
      this.#set(
        originalStan === undefined
          ? { kind: "amount", digits: "", op: "refund" }
          : { kind: "amount", digits: "", op: "refund", originalStan },
      );
    } else if (digits.length > 0) {
      // The screen stays until the engine reports: a STAN it refuses can be corrected here.
      this.#options.onIntent?.({ kind: "void", stan: digits.padStart(STAN_DIGITS, "0") });
    }
  }

  #pressPin(entered: number, key: Key): void {
    if (isDigit(key)) {
      if (entered < PIN_DIGITS_MAX) {
        this.#pin[entered] = key.charCodeAt(0);
        this.#set({ kind: "pin", entered: entered + 1 });
      }
    } else if (key === "clear") {
      this.#pin.fill(0);
      this.#set({ kind: "pin", entered: 0 });
    } else if (key === "cancel") {
      this.#pin.fill(0);
      this.#cancel();
    } else if (key === "enter") {
      const pin = String.fromCharCode(...this.#pin.subarray(0, entered));
      this.#pin.fill(0);
      this.#options.onIntent?.({ kind: "pin", pin });
    }
  }

  #cancel(): void {
    this.#set({ kind: "idle" });
    this.#options.onIntent?.({ kind: "cancel" });
  }

  #addFailure(failure: Extract<Screen, { kind: "reversalFailed" }>): void {
    const failures = this.#failures;
    const index = failures.findIndex((f) => f.stan === failure.stan);
    if (index >= 0) failures[index] = failure;
    else if (failures.length < FAILURES_SHOWN_MAX) failures.push(failure);
    else failures[failures.length - 1] = failure;
    if (failures.length === 1 && this.#screen.kind !== "reversalFailed") this.#behind = undefined;
    if (this.#screen.kind === "pin") this.#pin.fill(0);
    if (index === 0 || (index < 0 && failures.length === 1)) this.#set(failures[0]);
  }

  /** An engine report while a 冲正失败 is on the display: kept to show after the acknowledgement. */
  #hold(input: EngineInput): void {
    if (input.kind === "idle") {
      if (this.#behind !== undefined && inProgress(this.#behind)) this.#behind = undefined;
    } else if (input.kind === "result" && this.#failures.some((f) => f.stan === input.stan)) {
      this.#behind = undefined; // the 冲正失败 screen already tells what became of this transaction
    } else {
      this.#behind = input.kind === "enterPin" ? { kind: "pin", entered: 0 } : input;
    }
  }

  #acknowledgeFailure(): void {
    const failure = this.#failures.shift();
    if (failure !== undefined && !this.#acknowledged.includes(failure.stan)) {
      if (this.#acknowledged.length >= FAILURES_SHOWN_MAX) this.#acknowledged.shift();
      this.#acknowledged.push(failure.stan);
    }
    const next = this.#failures.at(0);
    if (next !== undefined) return this.#set(next);
    const behind = this.#behind ?? { kind: "idle" };
    this.#behind = undefined;
    if (behind.kind === "pin") this.#pin.fill(0);
    this.#set(behind);
  }

  #set(screen: Screen): void {
    this.#screen = screen;
    this.#options.onScreen?.(screen);
  }
}

/** A screen that only shows the engine at work: the engine going idle ends it. */
function inProgress(screen: Screen): boolean {
  return screen.kind === "processing" || screen.kind === "reversal" || (screen.kind === "settlement" && screen.phase !== "done");
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
});

const OUTCOME_TEXT: Readonly<Record<Outcome, TextId>> = Object.freeze({
  approved: "approved",
  declined: "declined",
  timeout: "timeout",
  refused: "refused",
  failed: "failed",
  blocked: "blocked",
  journalFull: "journalFull",
});

/** The screen's title and lines in `language`. */
export function render(screen: Screen, language: Language): RenderedScreen {
  const t = (id: TextId, values?: Readonly<Record<string, string>>) => fill(id, language, values);
  switch (screen.kind) {
    case "idle":
      return { title: t("idle"), lines: [t("idleHint")] };
    case "amount": {
      const lines = [t("amountLine", { amount: formatAmount(Number(screen.digits)) })];
      if (screen.originalStan !== undefined) lines.push(t("originalStanLine", { stan: screen.originalStan }));
      return { title: t(screen.op === "refund" ? "refundAmount" : "amount"), lines };
    }
    case "stanEntry":
      return {
        title: t(screen.purpose === "void" ? "voidStan" : "refundStan"),
        lines: [
          t("stanLine", { stan: screen.digits === "" ? "_" : screen.digits }),
          t(screen.purpose === "void" ? "voidStanHint" : "refundStanHint"),
        ],
      };
    case "pendingReversals":
      return { title: t("pendingReversals"), lines: pendingLines(screen.records, language) };
    case "presentCard":
      return { title: t("presentCard"), lines: screen.amount > 0 ? [t("amountLine", { amount: formatAmount(screen.amount) })] : [] };
    case "pin":
      return { title: t("pin"), lines: ["*".repeat(screen.entered), t("pinHint")] };
    case "processing": {
      const lines = [TEXTS[OPERATION_TEXT[screen.op]][language]];
      if (screen.remainingMs !== undefined) lines.push(t("remaining", { seconds: String(Math.ceil(screen.remainingMs / 1000)) }));
      return { title: t("processing"), lines };
    }
    case "result":
      return { title: t(OUTCOME_TEXT[screen.outcome]), lines: resultLines(screen, language) };
    case "reversal":
      return {
        title: t("reversal"),
        lines: [t("reversalAttempt", { attempt: String(screen.attempt), attempts: String(screen.attempts), stan: screen.stan })],
      };
    case "reversalFailed":
      return { title: t("reversalFailed"), lines: [...reversalFailedGuidance(screen, language), t("reversalFailedAcknowledge")] };
    case "settlement": {
      const title = screen.phase === "done" ? t("settlementDone") : t("settlement");
      const lines =
        screen.phase === "totals"
          ? [t("settlementTotals")]
          : screen.phase === "upload"
            ? [t("settlementUpload", { done: String(screen.uploaded), total: String(screen.toUpload) })]
            : screen.balanced
              ? []
              : [t("settlementUnbalanced")];
      if (screen.failedReversals > 0) lines.push(t("settlementPendingReversals", { count: String(screen.failedReversals) }));
      return { title, lines };
    }
  }
}

/** What happened and what to do after a 冲正失败: the screen's lines before its key hint, and the slip's. */
export function reversalFailedGuidance(screen: Extract<Screen, { kind: "reversalFailed" }>, language: Language): string[] {
  const values = { op: TEXTS[OPERATION_TEXT[screen.op]][language], amount: formatAmount(screen.amount), stan: screen.stan };
  const lines = [fill("reversalFailedWhat", language, values), fill("reversalFailedWhatToDo", language)];
  if (screen.salesBlocked) lines.push(fill("reversalFailedSalesBlocked", language));
  return lines;
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

function resultLines(screen: Extract<Screen, { kind: "result" }>, language: Language): string[] {
  const lines: string[] = [];
  if (screen.amount !== undefined && screen.amount > 0) lines.push(fill("amountLine", language, { amount: formatAmount(screen.amount) }));
  if (screen.balance !== undefined) lines.push(fill("balanceLine", language, { amount: formatAmount(screen.balance) }));
  if (screen.stan !== undefined) lines.push(fill("stanLine", language, { stan: screen.stan }));
  if (screen.outcome === "declined" && screen.f39 !== undefined) {
    const reason = RESPONSE_REASONS[screen.f39];
    lines.push(fill("declinedCode", language, { code: screen.f39, reason: reason === undefined ? "" : reason[language] }));
  }
  // A refund that timed out or failed was reversed before its result shows (else 冲正失败 replaces the result).
  if (screen.op === "refund" && (screen.outcome === "timeout" || screen.outcome === "failed"))
    lines.push(fill("refundReversedHint", language));
  else if (screen.outcome === "timeout") lines.push(fill("timeoutHint", language));
  else if (screen.outcome === "failed") lines.push(fill("failedHint", language));
  if (screen.outcome === "refused") lines.push(fill("refusedHint", language));
  if (screen.outcome === "blocked") lines.push(fill("blockedHint", language));
  if (screen.outcome === "journalFull") lines.push(fill("journalFullHint", language));
  assert(lines.length <= 8, "render: too many lines for the display");
  return lines;
}
