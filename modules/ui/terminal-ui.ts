/**
 * The terminal's screens as one state machine, shared by the device (which
 * paints them and feeds key presses) and the simulator (which renders them in
 * a page and reports the English title as `screen` events).
 *
 * Inputs are key presses and what the transaction engine reports. Outputs are
 * the new screen (`onScreen`) and what the operator asked for (`onIntent`).
 * The PIN digits never enter a Screen: the screen holds only their count, and
 * the digits leave once, through `onIntent`, then the buffer is wiped.
 */
import { assert } from "../base/assert";
import { fill, formatAmount, RESPONSE_REASONS, TEXTS, type Language, type TextId } from "./texts";

export type Operation = "sale" | "void" | "refund" | "balance" | "signOn" | "signOff" | "echo" | "settle";
export type Outcome = "approved" | "declined" | "timeout" | "refused" | "failed" | "blocked" | "journalFull";

export type Screen =
  | { readonly kind: "idle" }
  | { readonly kind: "amount"; readonly digits: string }
  | { readonly kind: "presentCard"; readonly op: Operation; readonly amount: number }
  | { readonly kind: "pin"; readonly entered: number }
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

/** What the engine reports to the screen. */
export type EngineInput =
  | { readonly kind: "presentCard"; readonly op: Operation; readonly amount: number }
  | { readonly kind: "enterPin" }
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
    }
  | { readonly kind: "idle" };

export type Key = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "enter" | "cancel" | "clear";

export type Intent =
  { readonly kind: "sale"; readonly amount: number } | { readonly kind: "pin"; readonly pin: string } | { readonly kind: "cancel" };

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

export class TerminalUi {
  readonly #options: TerminalUiOptions;
  #screen: Screen = { kind: "idle" };
  /** PIN digits typed so far, as key codes; wiped after use. */
  readonly #pin = new Uint8Array(PIN_DIGITS_MAX);

  constructor(options: TerminalUiOptions = {}) {
    this.#options = options;
  }

  get screen(): Screen {
    return this.#screen;
  }

  /** What the engine reports always wins: the screen follows the transaction. */
  show(input: EngineInput): void {
    if (input.kind === "enterPin") {
      this.#pin.fill(0);
      this.#set({ kind: "pin", entered: 0 });
      return;
    }
    if (this.#screen.kind === "pin") this.#pin.fill(0);
    this.#set(input);
  }

  /** Updates the remaining response time shown while processing. */
  tick(remainingMs: number | undefined): void {
    if (this.#screen.kind === "processing") this.#screen = { ...this.#screen, remainingMs };
  }

  press(key: Key): void {
    const screen = this.#screen;
    switch (screen.kind) {
      case "idle":
        if (isDigit(key) && key !== "0") this.#set({ kind: "amount", digits: key });
        return;
      case "amount":
        return this.#pressAmount(screen.digits, key);
      case "pin":
        return this.#pressPin(screen.entered, key);
      case "presentCard":
        if (key === "cancel") this.#cancel();
        return;
      case "result":
      case "reversalFailed":
        // Acknowledged: back to idle. The failed record itself stays in the journal.
        if (key === "enter" || key === "cancel") this.#set({ kind: "idle" });
        return;
      case "processing":
      case "reversal":
      case "settlement":
        return; // nothing may interrupt a message on the wire
    }
  }

  #pressAmount(digits: string, key: Key): void {
    if (isDigit(key)) {
      if (digits.length < AMOUNT_DIGITS_MAX) this.#set({ kind: "amount", digits: digits + key });
    } else if (key === "clear") {
      this.#set(digits.length > 1 ? { kind: "amount", digits: digits.slice(0, -1) } : { kind: "idle" });
    } else if (key === "cancel") {
      this.#set({ kind: "idle" });
    } else if (key === "enter") {
      this.#options.onIntent?.({ kind: "sale", amount: Number(digits) });
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

  #set(screen: Screen): void {
    this.#screen = screen;
    this.#options.onScreen?.(screen);
  }
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
    case "amount":
      return { title: t("amount"), lines: [t("amountLine", { amount: formatAmount(Number(screen.digits)) })] };
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
    case "reversalFailed": {
      const values = { op: TEXTS[OPERATION_TEXT[screen.op]][language], amount: formatAmount(screen.amount), stan: screen.stan };
      const lines = [t("reversalFailedWhat", values), t("reversalFailedWhatToDo")];
      if (screen.salesBlocked) lines.push(t("reversalFailedSalesBlocked"));
      return { title: t("reversalFailed"), lines };
    }
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

function resultLines(screen: Extract<Screen, { kind: "result" }>, language: Language): string[] {
  const lines: string[] = [];
  if (screen.amount !== undefined && screen.amount > 0) lines.push(fill("amountLine", language, { amount: formatAmount(screen.amount) }));
  if (screen.balance !== undefined) lines.push(fill("balanceLine", language, { amount: formatAmount(screen.balance) }));
  if (screen.stan !== undefined) lines.push(fill("stanLine", language, { stan: screen.stan }));
  if (screen.outcome === "declined" && screen.f39 !== undefined) {
    const reason = RESPONSE_REASONS[screen.f39];
    lines.push(fill("declinedCode", language, { code: screen.f39, reason: reason === undefined ? "" : reason[language] }));
  }
  if (screen.outcome === "timeout") lines.push(fill("timeoutHint", language));
  if (screen.outcome === "refused") lines.push(fill("refusedHint", language));
  if (screen.outcome === "failed") lines.push(fill("failedHint", language));
  if (screen.outcome === "blocked") lines.push(fill("blockedHint", language));
  if (screen.outcome === "journalFull") lines.push(fill("journalFullHint", language));
  assert(lines.length <= 8, "render: too many lines for the display");
  return lines;
}
