/**
 * The simulated terminal: the firmware's one assembly (modules/terminal) on a
 * real clock, with its non-volatile memory on emulated flash, its network
 * over node:tls and its cards through the emulated readers, plus what a
 * handheld adds around it: the function menu, card actions, the printer and
 * the power switch.
 *
 * Power: everything a powered period starts (timers, connections) belongs to
 * one generation; a cut bumps it, so nothing of the old period runs again.
 * A cut inside a flash operation surfaces as PowerCut from wherever the core
 * was; every entry into the core is guarded so the cut ends the period there.
 * What survives is what the flash holds and the key store.
 *
 * Firmware updates: the chip also holds the update record and the A/B slots
 * the scenario runner and chaos give their terminals (update-hardware.ts),
 * with the TEST release key; an image the TMS publishes is fetched at sign-on
 * or by the TMS menu function, and an activation or a rollback restarts the
 * terminal (power off, on again at once) into the slot that boots next.
 */
import type { KeyStore } from "../../modules/crypto/key-store";
import type { SecretKey } from "../../modules/crypto/keys";
import { PowerCut } from "../../modules/emulators/nor-flash";
import type { TerminalIdentity } from "../../modules/journal/format";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import type { Random } from "../../modules/platform/random";
import type { Transport, TransportEndpoint, TransportFailure } from "../../modules/platform/transport";
import { findTestCard } from "../../modules/card/test-cards";
import type { TerminalParameters } from "../../modules/terminal/parameters";
import type { ReaderCareState, ReaderCareStore, ReaderKind } from "../../modules/terminal/reader-care";
import { Terminal } from "../../modules/terminal/terminal";
import { TxnRequestError } from "../../modules/txn/engine";
import type { Operation, TxnEvent } from "../../modules/txn/events";
import { XSPOS_POLICY, type ReversalPolicy } from "../../modules/txn/reversal-policy";
import type { FlashJournal } from "../../modules/txn/flash-journal";
import type { PresentedCard, TerminalState, WallClock } from "../../modules/txn/ports";
import type { Slip } from "../../modules/ui/slips";
import { renderNotice, type Key, type NoticeId, type Screen } from "../../modules/ui/terminal-ui";
import { FlashRegion } from "../../modules/txn/flash-region";
import { CardDesk, CardPresentError } from "../scenario/card-desk";
import { simulatedUpdate } from "../scenario/update-hardware";
import { SettlingJournal, type SettledRecord } from "../scenario/reconcile";
import type { PowerFlash } from "./power-flash";

export type { TerminalParameters };

export type TerminalEvent = { readonly ev: string } & Readonly<Record<string, unknown>>;

export interface SimTerminalOptions {
  readonly clock: Clock;
  readonly transport: Transport;
  readonly endpoint: TransportEndpoint;
  /**
   * The terminal's one flash chip: the journal's sectors, then the state record's two (`terminalSectors` in
   * all), then the firmware update's record and A/B slots (tools/scenario/update-hardware.ts).
   */
  readonly flash: PowerFlash;
  readonly terminalSectors: number;
  /** SM4 data-at-rest key: seals the PAN in the journal. */
  readonly dataKey: SecretKey;
  readonly keys: KeyStore;
  readonly random: Random;
  readonly identity: TerminalIdentity;
  readonly parameters: TerminalParameters;
  /** Whether the simulated network is up (the network check shows it). */
  readonly linkUp: () => boolean;
  /** Every event of docs/contracts.md, without `t` (the caller stamps it). */
  readonly onEvent: (event: TerminalEvent) => void;
  /** Something visible changed. */
  readonly onChange: () => void;
  /** Every engine event, the screen-only ones too (the reversal timeline hears attempts and backoffs). */
  readonly onEngineEvent?: (event: TxnEvent) => void;
  /** A connection of the terminal ended with a failure: `connected` false when it never came up (refused, handshake). */
  readonly onLinkFailure?: (failure: TransportFailure, detail: string, connected: boolean) => void;
  /** What the operator did, as a scenario step would say it (the page's recorder). */
  readonly onOperatorStep?: (step: OperatorStep) => void;
}

/** An operation the operator started from the keypad, in the terms of a scenario step. */
export type OperatorStep =
  | { readonly op: "signOn" | "signOff" | "echo" | "settle" | "networkCheck" }
  | {
      readonly op: "sale" | "refund" | "balance";
      readonly amount?: number;
      readonly card: string;
      readonly pin?: string;
      readonly stan?: string;
    }
  | { readonly op: "void"; readonly stan: string };

/** The settings the page changes while the simulator runs: the parameter table's values and the policy's backoff. */
export interface TerminalSettings {
  readonly parameters: TerminalParameters;
  /** Waits before reversal attempt 2, 3, … (the last repeats); the shipped policy's by default. */
  readonly backoffMs: readonly number[];
}

export const BACKOFF_ENTRIES_MAX = 10;
export const BACKOFF_MS_MAX = 600_000;

/** New settings while a message is on the wire: they apply once the terminal is idle. */
export class SettingsBusyError extends Error {
  override readonly name = "SettingsBusyError";
}

/** The menu's functions (the keypad's function keys). */
export type MenuFunction =
  "sale" | "void" | "refund" | "balance" | "settle" | "signOn" | "signOff" | "echo" | "reprint" | "pending" | "networkCheck" | "tmsCheck";

/**
 * What the page's server and desk drive, whichever terminal is behind the page: the firmware core in
 * this process (SimTerminal) or the Linux terminal binary (native-sim-terminal.ts).
 */
export interface PageTerminal {
  readonly powered: boolean;
  readonly parameters: TerminalParameters;
  readonly settings: TerminalSettings;
  /** New settings; refused (SettingsBusyError) while a message is on the wire or a reversal notice waits. */
  applySettings(settings: TerminalSettings): void;
  /** Called a few times a second by the page's server. */
  tick(): void;
  powerOn(): void;
  /** A clean shutdown (`clean`) or a cut now. */
  powerOff(clean: boolean): void;
  /** Arms a cut inside the n-th flash erase/program from now. */
  cutAtFlashOp(n: number): void;
  press(key: Key): void;
  menu(fn: MenuFunction): void;
  /** A test card presented as its kind is meant to be. */
  present(cardName: string): void;
  /** The network came back: owed reversals may go out now. */
  linkRestored(): void;
}

export interface Receipt {
  readonly id: number;
  readonly kind: Slip["kind"];
  readonly text: string;
}

const RECEIPTS_MAX = 20;

export class SimTerminal implements PageTerminal {
  readonly #options: SimTerminalOptions;
  #generation = 0;
  #terminal: Terminal | undefined;
  /** A notice of the simulator itself (no slip to reprint), over the terminal's own. */
  #notice: NoticeId | undefined;
  readonly #receipts: Receipt[] = [];
  #receiptId = 1;
  readonly #wall = new SystemWallClock();
  readonly #cards: CardDesk;
  /** The last powered period's journal (settled copies) and flash journal: still shown while the power is off. */
  #journal: SettlingJournal | undefined;
  #flashJournal: FlashJournal | undefined;
  /** What settlement closed during this run (a headless run's reconcile), across power cycles. */
  readonly #settled: SettledRecord[] = [];
  #state: TerminalState | undefined;
  readonly #connections = new Set<{ close(): void }>();
  readonly #timers = new Set<TimerHandle>();
  /** The readers' counters, kept across power cycles as the device keeps them in NVS. */
  readonly #readerCare: ReaderCareStore = memoryReaderCare();
  #parameters: TerminalParameters;
  #policy: ReversalPolicy = XSPOS_POLICY;
  /** The card presented for the operation waiting for its PIN, and the PIN digits typed so far (the recorder's). */
  #presented: { readonly name: string; readonly originalStan?: string } | undefined;
  #pinDigits = "";
  /** The terminal asked for a restart (an update activated or rolled back): on again at the clock's next turn. */
  #restart: TimerHandle | undefined;

  constructor(options: SimTerminalOptions) {
    this.#options = options;
    this.#parameters = options.parameters;
    this.#cards = new CardDesk({ ifdSerial: options.identity.ifdSerial, random: options.random, nowMs: () => this.#wall.nowMs() });
  }

  /** The journal as last seen, with what settlement closed (undefined before the first power-on). */
  get journal(): SettlingJournal | undefined {
    return this.#journal;
  }

  /** The flash journal as last seen: its records for the journal panel. */
  get flashJournal(): FlashJournal | undefined {
    return this.#flashJournal;
  }

  get terminalState(): TerminalState | undefined {
    return this.#terminal?.state ?? this.#state;
  }

  get powered(): boolean {
    return this.#terminal !== undefined;
  }

  get idle(): boolean {
    return this.#terminal === undefined || this.#terminal.idle;
  }

  get screen(): Screen | undefined {
    return this.#terminal?.screen;
  }

  /** The notice over the screen, in both languages. */
  get notice(): { readonly zh: string; readonly en: string } | undefined {
    const notice = this.#notice ?? this.#terminal?.ui.notice;
    return notice === undefined ? undefined : { zh: renderNotice(notice, "zh"), en: renderNotice(notice, "en") };
  }

  get receipts(): readonly Receipt[] {
    return this.#receipts;
  }

  /** Response time left on the message in flight, if one is. */
  get remainingMs(): number | undefined {
    return this.#terminal?.remainingMs;
  }

  get parameters(): TerminalParameters {
    return this.#parameters;
  }

  get settings(): TerminalSettings {
    return { parameters: this.#parameters, backoffMs: this.#policy.backoffMs };
  }

  /**
   * New settings without a restart of the simulator. Powered, the terminal's assembly is rebuilt over
   * the same flash and keys as after a parameter download: it boots (recovery, owed reversals go out
   * first) and shows the idle screen. Refused while a message is on the wire.
   */
  applySettings(settings: TerminalSettings): void {
    const backoffMs = settings.backoffMs;
    if (backoffMs.length > BACKOFF_ENTRIES_MAX || backoffMs.some((ms) => !Number.isInteger(ms) || ms < 0 || ms > BACKOFF_MS_MAX))
      throw new RangeError(`backoff: at most ${BACKOFF_ENTRIES_MAX} waits, each an integer from 0 to ${BACKOFF_MS_MAX} ms`);
    if (!this.idle) throw new SettingsBusyError("settings: the terminal is busy; apply them once it is idle");
    const kind = this.screen?.kind;
    // A 冲正失败 or reversed notice stays until the operator acknowledges it: new settings never wipe it.
    if (kind === "reversalFailed" || kind === "reversedNotice")
      throw new SettingsBusyError("settings: the screen waits for ENTER (a reversal notice); acknowledge it first");
    this.#parameters = settings.parameters;
    this.#policy = Object.freeze({ ...XSPOS_POLICY, backoffMs: Object.freeze(backoffMs.slice()) });
    if (!this.powered) return this.#options.onChange();
    this.#dropPeriod();
    this.#assemble();
    this.#options.onChange();
  }

  /** Called a few times a second by the page's server: moves the countdown on the processing and reversing screens. */
  tick(): void {
    if (this.#terminal?.remainingMs === undefined) return;
    this.#terminal.tick();
  }

  // ---------------------------------------------------------------- power

  powerOn(): void {
    this.#cancelRestart();
    if (this.powered) return;
    this.#options.flash.powerOn();
    this.#emit({ ev: "power", state: "on" });
    this.#assemble();
  }

  /** Builds the terminal for a new period (power-on, new settings) and boots it. */
  #assemble(): void {
    const generation = ++this.#generation;
    this.#presented = undefined;
    this.#guard(() => {
      const { flash, terminalSectors } = this.#options;
      // The bootloader's choice of slot comes first (it may write its control record: an armed cut may fire here).
      const update = simulatedUpdate(flash, terminalSectors, () => this.#restartSoon());
      const terminal = new Terminal({
        clock: this.#gatedClock(generation),
        transport: this.#gatedTransport(generation),
        endpoint: this.#options.endpoint,
        flash: new FlashRegion(flash, 0, terminalSectors),
        random: this.#options.random,
        keys: this.#options.keys,
        dataKey: this.#options.dataKey,
        identity: this.#options.identity,
        parameters: this.#parameters,
        reversalPolicy: this.#policy,
        wallClock: this.#wall,
        readerCare: this.#readerCare,
        linkStatus: () => ({ up: this.#options.linkUp() }),
        wrapJournal: (inner) => {
          this.#flashJournal = inner;
          this.#journal = new SettlingJournal(inner, this.#settled);
          return this.#journal;
        },
        onEvent: (event) => this.#emit({ ...event }),
        wrapEvents: (handle) => (event) => {
          this.#options.onEngineEvent?.(event);
          handle(event);
        },
        onScreen: () => this.#options.onChange(),
        onSlip: (slip, lines) => this.#addReceipt(slip.kind, lines.join("\n")),
        update,
      });
      this.#terminal = terminal;
      terminal.boot();
    });
  }

  /** A cut now (`clean` false) or a clean shutdown between operations. */
  powerOff(clean: boolean): void {
    this.#cancelRestart();
    this.#options.flash.cutNow();
    this.#shutdown(clean ? "off" : "cut");
  }

  /** Arms a cut inside the n-th flash erase/program from now. */
  cutAtFlashOp(n: number): void {
    this.#options.flash.cutAtOperation(n);
    this.#options.onChange();
  }

  /** The terminal's own restart (from inside the core): off now, on again once the core has returned. */
  #restartSoon(): void {
    // The flash goes off too: nothing the old period still does on its way out reaches it.
    this.#options.flash.cutNow();
    this.#shutdown("off");
    this.#restart = this.#options.clock.schedule(0, () => {
      this.#restart = undefined;
      this.powerOn();
    });
  }

  #cancelRestart(): void {
    if (this.#restart === undefined) return;
    this.#options.clock.cancel(this.#restart);
    this.#restart = undefined;
  }

  #shutdown(state: "off" | "cut"): void {
    if (!this.powered) return;
    this.#dropPeriod();
    this.#terminal = undefined;
    this.#emit({ ev: "power", state });
    this.#options.onChange();
  }

  /** Ends the powered period's life: its connections and timers never act again. */
  #dropPeriod(): void {
    this.#state = this.#terminal?.state;
    this.#generation++;
    for (const connection of [...this.#connections]) connection.close();
    this.#connections.clear();
    // A dead period's timers would never run anything; dropping them lets the process exit.
    for (const handle of this.#timers) this.#options.clock.cancel(handle);
    this.#timers.clear();
  }

  /** Runs `action` in the core; a power cut inside a flash operation ends the powered period here. */
  #guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (error instanceof PowerCut) return this.#shutdown("cut");
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
        let connected = false;
        const connection = this.#options.transport.connect(endpoint, {
          onConnected: () => {
            connected = true;
            if (live()) this.#guard(() => events.onConnected());
          },
          onData: (bytes) => live() && this.#guard(() => events.onData(bytes)),
          onClosed: (failure, detail) => {
            this.#connections.delete(connection);
            if (!live()) return;
            this.#options.onLinkFailure?.(failure, detail, connected);
            this.#guard(() => events.onClosed(failure, detail));
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
    const terminal = this.#terminal;
    if (terminal === undefined) return;
    this.#notice = undefined;
    const before = terminal.screen;
    this.#guard(() => terminal.press(key));
    this.#noteKey(before, key);
    this.#options.onChange();
  }

  /** The recorder's view of a key: the PIN typed for the presented card, the operation it starts, a void confirmed. */
  #noteKey(before: Screen, key: Key): void {
    if (before.kind === "voidConfirm" && key === "enter") return this.#options.onOperatorStep?.({ op: "void", stan: before.stan });
    if (before.kind !== "pin") return;
    if (key === "clear") this.#pinDigits = "";
    else if (key === "cancel") this.#presented = undefined;
    else if (key !== "enter") this.#pinDigits += key;
    // ENTER on the PIN screen always hands the PIN over (the screen may change only once the engine's queue runs it).
    else if (this.#presented !== undefined) {
      const { name, originalStan } = this.#presented;
      const pin = this.#pinDigits === "" ? undefined : this.#pinDigits;
      const op = before.op;
      this.#presented = undefined;
      this.#pinDigits = "";
      if (op === "sale" || op === "refund" || op === "balance")
        this.#options.onOperatorStep?.({
          op,
          card: name,
          ...(op === "balance" ? {} : { amount: before.amount }),
          ...(pin === undefined ? {} : { pin }),
          ...(originalStan === undefined ? {} : { stan: originalStan }),
        });
    }
  }

  /** A function key: every prompt it opens is a screen of modules/ui, as on the device. */
  menu(fn: MenuFunction): void {
    const terminal = this.#terminal;
    if (terminal === undefined) return;
    this.#notice = undefined;
    if (fn === "reprint") {
      const last = this.#receipts.at(-1);
      if (last === undefined) return this.#say("noticeNoSlip");
      return this.#addReceipt(last.kind, `*** REPRINT 重打印 ***\n${last.text}`);
    }
    let accepted = false;
    this.#guard(() => (accepted = terminal.menu(fn)));
    if (accepted && (fn === "signOn" || fn === "signOff" || fn === "echo" || fn === "settle" || fn === "networkCheck"))
      this.#options.onOperatorStep?.({ op: fn });
    this.#options.onChange();
  }

  /** Checks the TMS now (a headless script's tmsCheck), as the menu's function does. */
  tmsCheck(): void {
    const terminal = this.#terminal;
    if (terminal === undefined) throw new TxnRequestError("power", "the terminal is off: powerOn first");
    this.#guard(() => terminal.tmsCheck());
  }

  /** The network came back: owed reversals go out now, as on the device when Wi-Fi comes up. */
  linkRestored(): void {
    const terminal = this.#terminal;
    if (terminal !== undefined) this.#guard(() => terminal.linkRestored());
  }

  // ---------------------------------------------------------------- cards

  /** A card swiped, inserted or tapped (as its kind is meant to be); read at once through the emulated reader. */
  present(cardName: string): void {
    const terminal = this.#terminal;
    if (terminal === undefined) return;
    this.#notice = undefined;
    const asked = terminal.cardAsked;
    if (asked === undefined) return this.#say("noticeNoCardNeeded");
    const reader = readerOf(cardName);
    let card: PresentedCard;
    try {
      card = this.#cards.present(cardName, asked.op, asked.amount);
    } catch (error) {
      if (!(error instanceof CardPresentError)) throw error;
      if (reader !== undefined) this.#guard(() => terminal.readerResult(reader, error.reason));
      return this.#say("noticeCardUnreadable");
    }
    if (reader !== undefined) this.#guard(() => terminal.readerResult(reader));
    const originalStan = (asked as { readonly originalStan?: string }).originalStan;
    this.#presented = { name: cardName, ...(originalStan === undefined ? {} : { originalStan }) };
    this.#pinDigits = "";
    this.#guard(() => terminal.presentCard(card));
    this.#options.onChange();
  }

  // ---------------------------------------------------------------- scripted operations (headless runs)

  /** Runs one operation as a script step: cards are presented the way they are meant to be. */
  script(op: Operation, args: { amount?: number; card?: string; pin?: string; stan?: string }): void {
    const terminal = this.#terminal;
    if (terminal === undefined) throw new TxnRequestError("power", "the terminal is off: powerOn first");
    const cardOp = op === "sale" || op === "refund" || op === "balance" ? op : undefined;
    let card: PresentedCard | undefined;
    if (cardOp !== undefined) {
      try {
        card = this.#cards.present(args.card ?? "", cardOp, args.amount ?? 0);
      } catch (error) {
        if (error instanceof CardPresentError) throw new TxnRequestError("card", error.message);
        throw error;
      }
    }
    this.#guard(() => terminal.run(op, { amount: args.amount, card, pin: args.pin, stan: args.stan }));
  }

  #addReceipt(kind: Receipt["kind"], text: string): void {
    this.#receipts.push({ id: this.#receiptId++, kind, text });
    if (this.#receipts.length > RECEIPTS_MAX) this.#receipts.shift();
    this.#options.onChange();
  }

  #say(notice: NoticeId): void {
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

/** The reader a test card goes through. */
function readerOf(cardName: string): ReaderKind | undefined {
  const entry = findTestCard(cardName)?.entry;
  return entry === "swipe" ? "magstripe" : entry === "contactless" ? "contactless" : entry === undefined ? undefined : "contact";
}

function memoryReaderCare(): ReaderCareStore {
  let kept: ReaderCareState | undefined;
  return { load: () => kept, save: (state) => (kept = state) };
}
