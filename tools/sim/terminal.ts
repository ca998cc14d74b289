/**
 * The simulated terminal: the firmware core (TxnEngine + TerminalUi) on a
 * real clock, with its non-volatile memory on emulated flash, its network
 * over node:tls and its cards through the emulated readers, plus what a
 * handheld adds around the core: the function menu, card actions, printed
 * slips and the power switch.
 *
 * Power: everything a powered period starts (timers, connections) belongs to
 * one generation; a cut bumps it, so nothing of the old period runs again.
 * A cut inside a flash operation surfaces as PowerCut from wherever the core
 * was; every entry into the core is guarded so the cut ends the period there.
 * What survives is what the flash holds (FlashStore) and the key store.
 */
import type { KeyStore } from "../../modules/crypto/key-store";
import type { SecretKey } from "../../modules/crypto/keys";
import { PowerCut } from "../../modules/emulators/nor-flash";
import type { TerminalIdentity } from "../../modules/journal/format";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import type { Random } from "../../modules/platform/random";
import type { Transport, TransportEndpoint } from "../../modules/platform/transport";
import { TxnEngine, TxnRequestError, type TxnEvent } from "../../modules/txn/engine";
import { FlashRegion } from "../../modules/txn/flash-region";
import { FlashStateStore } from "../../modules/txn/flash-state";
import type { PresentedCard, TerminalState, WallClock } from "../../modules/txn/ports";
import { formatAmount } from "../../modules/ui/texts";
import {
  render,
  reversalFailedGuidance,
  TerminalUi,
  type EngineInput,
  type Intent,
  type Key,
  type Operation,
  type PendingReversalLine,
  type Screen,
} from "../../modules/ui/terminal-ui";
import { CardDesk, CardPresentError } from "../scenario/card-desk";
import { SettlingJournal } from "../scenario/reconcile";
import { acknowledgeReversalFailures } from "../scenario/runner";
import type { PowerFlash } from "./power-flash";

export interface TerminalParameters {
  readonly responseTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reversalRetries: number;
  readonly blockSalesWhileReversalFailed: boolean;
}

export type TerminalEvent = { readonly ev: string } & Readonly<Record<string, unknown>>;

export interface SimTerminalOptions {
  readonly clock: Clock;
  readonly transport: Transport;
  readonly endpoint: TransportEndpoint;
  /** The terminal's one flash chip: the journal's sectors, then the state record's two. */
  readonly flash: PowerFlash;
  readonly journalSectors: number;
  /** SM4 data-at-rest key: seals the PAN in the journal. */
  readonly dataKey: SecretKey;
  readonly keys: KeyStore;
  readonly random: Random;
  readonly identity: TerminalIdentity;
  readonly parameters: TerminalParameters;
  /** Every event of shared/contracts.md, without `t` (the caller stamps it). */
  readonly onEvent: (event: TerminalEvent) => void;
  /** Something visible changed. */
  readonly onChange: () => void;
}

/** The menu's functions (the keypad's function keys). */
export type MenuFunction = "sale" | "void" | "refund" | "balance" | "settle" | "signOn" | "reprint" | "pending";

export interface Receipt {
  readonly id: number;
  readonly kind: "transaction" | "reversalFailed";
  readonly text: string;
}

type CardOp = "sale" | "refund" | "balance";

interface PendingCardOp {
  readonly op: CardOp;
  readonly amount: number;
  readonly originalStan?: string;
  card?: PresentedCard;
}

const RECEIPTS_MAX = 20;
const STATE_SECTORS = 2;

export class SimTerminal {
  readonly #options: SimTerminalOptions;
  #generation = 0;
  #engine: TxnEngine | undefined;
  #ui: TerminalUi | undefined;
  #lastTitle = "";
  #pending: PendingCardOp | undefined;
  #notice = "";
  #deadlineMs: number | undefined;
  readonly #receipts: Receipt[] = [];
  #receiptId = 1;
  readonly #wall = new SystemWallClock();
  readonly #cards: CardDesk;
  /** The last powered period's journal and state: still shown while the power is off. */
  #journal: SettlingJournal | undefined;
  /** What settlement closed during this run (a headless run's reconcile), across power cycles. */
  readonly #settled: SettlingJournal["settled"] = [];
  #state: TerminalState | undefined;
  readonly #connections = new Set<{ close(): void }>();
  readonly #timers = new Set<TimerHandle>();

  constructor(options: SimTerminalOptions) {
    this.#options = options;
    this.#cards = new CardDesk({ ifdSerial: options.identity.ifdSerial, random: options.random, nowMs: () => this.#wall.nowMs() });
  }

  /** The journal as last seen (undefined before the first power-on). */
  get journal(): SettlingJournal | undefined {
    return this.#journal;
  }

  get terminalState(): TerminalState | undefined {
    return this.#engine?.state ?? this.#state;
  }

  get powered(): boolean {
    return this.#engine !== undefined;
  }

  get idle(): boolean {
    return this.#engine === undefined || this.#engine.idle;
  }

  get screen(): Screen | undefined {
    return this.#ui?.screen;
  }

  get notice(): string {
    return this.#notice;
  }

  get receipts(): readonly Receipt[] {
    return this.#receipts;
  }

  /** Response time left on the request in flight, if one is. */
  get remainingMs(): number | undefined {
    return this.#deadlineMs === undefined ? undefined : Math.max(0, this.#deadlineMs - this.#options.clock.nowMs());
  }

  get parameters(): TerminalParameters {
    return this.#options.parameters;
  }

  /** Called a few times a second by the page's server: moves the countdown on the processing screen. */
  tick(): void {
    const ui = this.#ui;
    if (ui === undefined || this.#deadlineMs === undefined) return;
    ui.tick(this.remainingMs);
    this.#options.onChange();
  }

  // ---------------------------------------------------------------- power

  powerOn(): void {
    if (this.powered) return;
    const flash = this.#options.flash;
    flash.powerOn();
    const generation = ++this.#generation;
    const { flash: chip, journalSectors } = this.#options;
    const journal = new SettlingJournal(
      {
        flash: new FlashRegion(chip, 0, journalSectors),
        dataKey: this.#options.dataKey,
        random: this.#options.random,
        identity: this.#options.identity,
        nowSeconds: () => this.#wall.nowMs() / 1000,
      },
      this.#settled,
    );
    this.#journal = journal;
    this.#guard(() => {
      const ui = new TerminalUi({ onScreen: (screen) => this.#onScreen(screen), onIntent: (intent) => this.#onIntent(intent) });
      this.#ui = ui;
      this.#engine = new TxnEngine({
        clock: this.#gatedClock(generation),
        transport: this.#gatedTransport(generation),
        endpoint: this.#options.endpoint,
        journal,
        state: new FlashStateStore(new FlashRegion(chip, journalSectors, STATE_SECTORS)),
        keys: this.#options.keys,
        terminalId: this.#options.identity.terminalId,
        merchantId: this.#options.identity.merchantId,
        wallClock: this.#wall,
        ...this.#options.parameters,
        onEvent: (event) => this.#onEngineEvent(event),
        onUi: (input) => this.#onEngineUi(input),
      });
      this.#emit({ ev: "power", state: "on" });
      this.#onScreen(ui.screen);
      this.#engine.boot();
    });
  }

  /** A cut now (`clean` false) or a clean shutdown between operations. */
  powerOff(clean: boolean): void {
    this.#options.flash.cutNow();
    this.#shutdown(clean ? "off" : "cut");
  }

  /** Arms a cut inside the n-th flash erase/program from now. */
  cutAtFlashOp(n: number): void {
    this.#options.flash.cutAtOperation(n);
    this.#options.onChange();
  }

  #shutdown(state: "off" | "cut"): void {
    if (!this.powered) return;
    this.#state = this.#engine?.state;
    this.#generation++;
    for (const connection of [...this.#connections]) connection.close();
    this.#connections.clear();
    // A dead period's timers would never run anything; dropping them lets the process exit.
    for (const handle of this.#timers) this.#options.clock.cancel(handle);
    this.#timers.clear();
    this.#engine = undefined;
    this.#ui = undefined;
    this.#pending = undefined;
    this.#deadlineMs = undefined;
    this.#lastTitle = "";
    this.#emit({ ev: "power", state });
    this.#options.onChange();
  }

  /** Runs `action` in the core; a power cut inside a flash operation ends the powered period here. */
  #guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (error instanceof PowerCut) return this.#shutdown("cut");
      if (error instanceof TxnRequestError) return this.#say(error.message);
      throw error;
    }
  }

  #gatedClock(generation: number): Clock {
    const clock = this.#options.clock;
    const timers = this.#timers;
    return {
      nowMs: () => clock.nowMs(),
      schedule: (delayMs, callback): TimerHandle => {
        const handle = clock.schedule(delayMs, () => {
          timers.delete(handle);
          if (this.#generation === generation) this.#guard(callback);
        });
        timers.add(handle);
        return handle;
      },
      cancel: (handle) => {
        timers.delete(handle);
        clock.cancel(handle);
      },
    };
  }

  #gatedTransport(generation: number): Transport {
    const live = () => this.#generation === generation;
    return {
      connect: (endpoint, events) => {
        const connection = this.#options.transport.connect(endpoint, {
          onConnected: () => live() && this.#guard(() => events.onConnected()),
          onData: (bytes) => live() && this.#guard(() => events.onData(bytes)),
          onClosed: (failure, detail) => {
            this.#connections.delete(connection);
            if (live()) this.#guard(() => events.onClosed(failure, detail));
          },
        });
        this.#connections.add(connection);
        return {
          write: (bytes) => connection.write(bytes),
          close: () => {
            this.#connections.delete(connection);
            connection.close();
          },
        };
      },
    };
  }

  // ---------------------------------------------------------------- keypad and menu

  press(key: Key): void {
    const ui = this.#ui;
    if (ui === undefined) return;
    this.#notice = "";
    this.#guard(() => ui.press(key));
    this.#options.onChange();
  }

  /** A function key: every prompt it opens is a screen of modules/ui, as on the device. */
  menu(fn: MenuFunction): void {
    const engine = this.#engine;
    const ui = this.#ui;
    const journal = this.#journal;
    if (engine === undefined || ui === undefined || journal === undefined) return;
    this.#notice = "";
    if (fn === "reprint") {
      const last = this.#receipts.at(-1);
      if (last === undefined) return this.#say("no slip to reprint");
      return this.#addReceipt(last.kind, `*** REPRINT 重打印 ***\n${last.text}`);
    }
    if (!ui.ready) return this.#say("busy: finish, cancel or acknowledge the current screen first");
    switch (fn) {
      case "sale":
      case "refund":
      case "void":
        this.#guard(() => ui.start(fn));
        return;
      case "pending":
        this.#guard(() => ui.listPendingReversals(pendingLines(journal)));
        return;
      case "balance":
        return this.#startCardOp("balance", 0);
      case "settle":
        return this.#guard(() => engine.settle());
      case "signOn":
        return this.#guard(() => engine.signOn());
    }
  }

  // ---------------------------------------------------------------- cards

  /** A card swiped, inserted or tapped (as its kind is meant to be); read at once through the emulated reader. */
  present(cardName: string): void {
    const pending = this.#pending;
    if (this.#ui === undefined) return;
    if (pending === undefined || this.#ui.screen.kind !== "presentCard") return this.#say("no card needed now: enter an amount first");
    try {
      pending.card = this.#cards.present(cardName, pending.op, pending.amount);
    } catch (error) {
      if (error instanceof CardPresentError) return this.#say(`${cardName}: ${error.message}`);
      throw error;
    }
    this.#guard(() => this.#ui?.show({ kind: "enterPin" }));
    this.#options.onChange();
  }

  #startCardOp(op: CardOp, amount: number, originalStan?: string): void {
    this.#pending = originalStan === undefined ? { op, amount } : { op, amount, originalStan };
    this.#guard(() => this.#ui?.show({ kind: "presentCard", op, amount }));
  }

  #onIntent(intent: Intent): void {
    const engine = this.#engine;
    switch (intent.kind) {
      case "sale":
        return this.#startCardOp("sale", intent.amount);
      case "refund":
        return this.#startCardOp("refund", intent.amount, intent.originalStan);
      case "void":
        // An unknown STAN is refused here (TxnRequestError → notice) and the STAN entry stays to correct it.
        return engine === undefined ? undefined : this.#guard(() => engine.voidSale(intent.stan));
      case "cancel":
        this.#pending = undefined;
        return;
      case "pin": {
        const pending = this.#pending;
        this.#pending = undefined;
        if (pending?.card === undefined || engine === undefined) return;
        const pin = intent.pin === "" ? undefined : intent.pin;
        if (pending.op === "balance") engine.balance(pending.card, pin);
        else if (pending.op === "refund")
          engine.refund({ amount: pending.amount, card: pending.card, pin, originalStan: pending.originalStan });
        else engine.sale({ amount: pending.amount, card: pending.card, pin });
      }
    }
  }

  // ---------------------------------------------------------------- scripted operations (headless runs)

  /** Runs one operation as a script step: cards are presented the way they are meant to be. */
  script(op: Operation, args: { amount?: number; card?: string; pin?: string; stan?: string }): void {
    const engine = this.#engine;
    if (engine === undefined || this.#ui === undefined) throw new TxnRequestError("power", "the terminal is off: powerOn first");
    // As in the scenario runner: a scripted operation stands for an operator who acknowledged any 冲正失败 first.
    acknowledgeReversalFailures(this.#ui);
    const card = (cardOp: CardOp) => {
      try {
        return this.#cards.present(args.card ?? "", cardOp, args.amount ?? 0);
      } catch (error) {
        if (error instanceof CardPresentError) throw new TxnRequestError("card", error.message);
        throw error;
      }
    };
    const run = (action: () => void) => {
      try {
        action();
      } catch (error) {
        if (error instanceof PowerCut) return this.#shutdown("cut");
        throw error;
      }
    };
    switch (op) {
      case "signOn":
        return run(() => engine.signOn());
      case "signOff":
        return run(() => engine.signOff());
      case "echo":
        return run(() => engine.echo());
      case "settle":
        return run(() => engine.settle());
      case "balance":
        return run(() => engine.balance(card("balance"), args.pin));
      case "sale":
        return run(() => engine.sale({ amount: args.amount ?? 0, card: card("sale"), pin: args.pin }));
      case "refund":
        return run(() => engine.refund({ amount: args.amount ?? 0, card: card("refund"), pin: args.pin, originalStan: args.stan }));
      case "void":
        return run(() => engine.voidSale(args.stan ?? ""));
    }
  }

  // ---------------------------------------------------------------- what the core reports

  #onEngineUi(input: EngineInput): void {
    this.#deadlineMs =
      input.kind === "processing" && input.remainingMs !== undefined ? this.#options.clock.nowMs() + input.remainingMs : undefined;
    if (input.kind === "reversalFailed") this.#addReceipt("reversalFailed", reversalFailedSlip(input, this.#options.identity.terminalId));
    this.#ui?.show(input);
  }

  #onEngineEvent(event: TxnEvent): void {
    this.#emit({ ...event });
    if (event.ev === "result" && event.outcome === "approved" && event.stan !== undefined && event.op !== "balance") {
      const record = this.#journal?.approvedLog().find((r) => r.stan === event.stan);
      const { terminalId: tid, merchantId: mid } = this.#options.identity;
      if (record !== undefined) this.#addReceipt("transaction", transactionSlip({ ...record, tid, mid, atMs: this.#wall.nowMs() }));
    }
  }

  #onScreen(screen: Screen): void {
    const title = render(screen, "en").title;
    if (title !== this.#lastTitle) this.#emit({ ev: "screen", text: title });
    this.#lastTitle = title;
    this.#options.onChange();
  }

  #addReceipt(kind: Receipt["kind"], text: string): void {
    this.#receipts.push({ id: this.#receiptId++, kind, text });
    if (this.#receipts.length > RECEIPTS_MAX) this.#receipts.shift();
    this.#options.onChange();
  }

  #say(notice: string): void {
    this.#notice = notice;
    this.#options.onChange();
  }

  #emit(event: TerminalEvent): void {
    this.#options.onEvent(event);
  }
}

/** The calendar clock: the host's time from the sign-on answer, kept as an offset to the system clock. */
class SystemWallClock implements WallClock {
  #offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.#offsetMs;
  }
  set(ms: number): void {
    this.#offsetMs = ms - Date.now();
  }
}

const OP_NAMES: Readonly<Record<string, string>> = Object.freeze({
  sale: "消费 SALE",
  void: "消费撤销 VOID",
  refund: "退货 REFUND",
});

const RULE = "--------------------------------";

function transactionSlip(r: {
  op: string;
  amount: number;
  stan: string;
  batch: string;
  panMasked: string;
  authCode: string;
  rrn: string;
  tid: string;
  mid: string;
  atMs: number;
  originalStan?: string;
}): string {
  const lines = [
    "      POS 签购单 SALES SLIP",
    RULE,
    `商户号 MID   ${r.mid}`,
    `终端号 TID   ${r.tid}`,
    `卡号 CARD    ${r.panMasked}`,
    `交易类型 TYPE ${OP_NAMES[r.op] ?? r.op}`,
    `批次号 BATCH ${r.batch}`,
    `凭证号 STAN  ${r.stan}`,
  ];
  if (r.originalStan !== undefined) lines.push(`原凭证号 ORIG ${r.originalStan}`);
  lines.push(
    `授权码 AUTH  ${r.authCode}`,
    `参考号 RRN   ${r.rrn}`,
    `日期 DATE    ${new Date(r.atMs).toISOString().slice(0, 19).replace("T", " ")}`,
    RULE,
    `金额 AMOUNT  RMB ${formatAmount(r.amount)}`,
    RULE,
    "持卡人签名 CARDHOLDER SIGNATURE",
    "",
    "本人确认以上交易 I accept this transaction",
  );
  return lines.join("\n");
}

/** The reversals still owed, for the pending-reversals screen (no PAN on it). */
function pendingLines(journal: SettlingJournal): PendingReversalLine[] {
  const lines: PendingReversalLine[] = [];
  for (const r of journal.records())
    if (r.state === "reversalDue" || r.state === "failed")
      lines.push({
        stan: r.stan,
        op: r.op,
        amount: r.amount,
        state: r.state,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        attempts: r.attempts,
      });
  return lines;
}

function reversalFailedSlip(input: Extract<EngineInput, { kind: "reversalFailed" }>, tid: string): string {
  return [
    "   *** 冲正失败 REVERSAL FAILED ***",
    RULE,
    `终端号 TID   ${tid}`,
    `凭证号 STAN  ${input.stan}`,
    `金额 AMOUNT  RMB ${formatAmount(input.amount)}`,
    RULE,
    ...reversalFailedGuidance(input, "zh"),
    "",
    ...reversalFailedGuidance(input, "en"),
  ].join("\n");
}
