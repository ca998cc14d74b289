/**
 * The Linux terminal binary (hosts/lin) behind the simulator page: the same
 * PageTerminal the Node terminal (terminal.ts) gives the page's server and
 * desk, over the binary's JSON lines (docs/device.md "The Linux terminal").
 *
 * Power is the process: on starts it on the same flash file and NVS
 * directory, off asks it to quit, a cut kills it with SIGKILL, a cut at the
 * next flash operation is the binary's own (it kills itself inside the
 * operation); exit 75 (an update activated or rolled back) is a restart:
 * off, then on again; any other end of the process is a cut. It runs with
 * A/B slots (`--slots`, slots.bin) and the TEST release key, so images the
 * host publishes install as on the Node terminal. Its parameters are
 * provisioned into NVS at every power-on, so new settings restart it. It
 * runs on real time: the time scale divides the provisioned timeouts.
 *
 * What the binary does not have, the page says: no chip or contactless
 * reader emulators (swipe cards only), the screen in its build's language
 * only, no response countdown, the shipped reversal backoff, no network
 * check or sign-off on its menu.
 */
import fs from "node:fs";
import path from "node:path";
import { findTestCard } from "../../modules/card/test-cards";
import type { TerminalParameters } from "../../modules/terminal/parameters";
import type { TerminalState } from "../../modules/txn/ports";
import { XSPOS_POLICY } from "../../modules/txn/reversal-policy";
import { renderNotice, type Key, type NoticeId, type PendingReversalLine } from "../../modules/ui/terminal-ui";
import { PARAMETERS_DOMAIN } from "../../hosts/esp32/nvs-keys";
import { fromHex } from "../../modules/base/hex";
import type { HostApp } from "../host/app";
import { TMS_TEST_PUBLIC_KEY_HEX } from "../host/tms";
import { NativeTerminal, provisionForHost, swipeBits, type JournalListing, type Line } from "../lin/native-terminal";
import { EXIT_RESTART, MENU } from "../../hosts/lin/protocol";
import {
  SettingsBusyError,
  type MenuFunction,
  type PageTerminal,
  type Receipt,
  type TerminalEvent,
  type TerminalSettings,
} from "./terminal";

export interface NativeSimTerminalOptions {
  /** Holds flash.bin and the NVS directory nvs/. */
  readonly dir: string;
  readonly host: HostApp;
  /** Where the terminal is provisioned to connect: the page's network switch in front of the host (link-proxy.ts). */
  readonly link: { readonly port: number };
  readonly settings: TerminalSettings;
  /** The page's time scale: the provisioned timeouts are this many times shorter. */
  readonly timeScale: () => number;
  /** The binary's trace events (without `t`: the caller stamps them) and the power events. */
  readonly onEvent: (event: TerminalEvent) => void;
  readonly onChange: () => void;
  /** Each journal the binary told (`{"journal":true}`), asked after every journal, result, boot and settlement event. */
  readonly onJournal?: (journal: NativeJournal) => void;
  readonly binary?: string;
}

/** What `{"journal":true}` answers (hosts/lin/main.ts), as NativeTerminal.journal() reads it, with its fields' full types. */
export type NativeJournal = Omit<JournalListing, "pending" | "state"> & {
  readonly pending: readonly PendingReversalLine[];
  readonly state: TerminalState | null;
};

export type Rendered = { readonly title: string; readonly lines: readonly string[] };
/** A screen as the binary prints it: the modules/ui kind and its rendering in the build's language. */
export type NativeScreen = { readonly kind: string; readonly rendered: Rendered };
type Notice = { readonly zh: string; readonly en: string };

/** The binary's menu (hosts/lin/protocol.ts); reprint is the page's printer. */
const NATIVE_MENU: readonly MenuFunction[] = MENU;
/** Events after which the journal is asked again (its rows, the terminal state, the flash operations). */
const JOURNAL_EVENTS: readonly string[] = Object.freeze(["boot", "journal", "result", "settlement"]);
const RECEIPTS_MAX = 20;
/** How long a clean power-off may take before the process is killed. */
const QUIT_WAIT_MS = 5_000;
/** How long a journal listing may take (a full batch is a line per approval, read from flash). */
const JOURNAL_WAIT_MS = 10_000;
/** The end of the binary's stderr a notice shows when the process ended on its own. */
const STDERR_SHOWN_MAX = 300;

export const NATIVE_CARDS_NOTE = "the Linux terminal has no chip or contactless reader emulators: swipe cards only";

export class NativeSimTerminal implements PageTerminal {
  readonly #options: NativeSimTerminalOptions;
  #settings: TerminalSettings;
  #process: NativeTerminal | undefined;
  /** How the process is being ended, if it is. */
  #stopping: "off" | "cut" | undefined;
  #screen: NativeScreen | undefined;
  #notice: Notice | undefined;
  readonly #receipts: Receipt[] = [];
  #receiptId = 1;
  /** The last journal the binary told: still shown while the power is off. */
  #journal: NativeJournal | undefined;
  #journalAsked = false;
  #journalAgain = false;
  #cutArmed = false;

  constructor(options: NativeSimTerminalOptions) {
    if (options.settings.backoffMs.join() !== XSPOS_POLICY.backoffMs.join())
      throw new RangeError("backoff: the Linux terminal runs the shipped reversal backoff only");
    this.#options = options;
    this.#settings = options.settings;
  }

  get powered(): boolean {
    return this.#process !== undefined && this.#stopping === undefined;
  }

  get parameters(): TerminalParameters {
    return this.#settings.parameters;
  }

  get settings(): TerminalSettings {
    return this.#settings;
  }

  get screen(): NativeScreen | undefined {
    return this.powered ? this.#screen : undefined;
  }

  get notice(): Notice | undefined {
    return this.#notice;
  }

  get receipts(): readonly Receipt[] {
    return this.#receipts;
  }

  get journal(): NativeJournal | undefined {
    return this.#journal;
  }

  get cutArmed(): boolean {
    return this.#cutArmed;
  }

  /**
   * New parameters: provisioned into NVS, so a powered terminal is restarted (quit, then started on the
   * same flash) and boots with them. Refused while the terminal is busy.
   */
  applySettings(settings: TerminalSettings): void {
    if (settings.backoffMs.join() !== XSPOS_POLICY.backoffMs.join())
      throw new RangeError("backoff: the Linux terminal runs the shipped reversal backoff only");
    if (this.powered && this.#journal?.idle === false)
      throw new SettingsBusyError("settings: the terminal is busy; apply them once it is idle");
    // The restart would take a 冲正失败 or reversed notice off the screen before the merchant saw it.
    const kind = this.screen?.kind;
    if (kind === "reversalFailed" || kind === "reversedNotice")
      throw new SettingsBusyError("settings: the screen waits for ENTER (a reversal notice); acknowledge it first");
    this.#settings = settings;
    if (!this.powered) return this.#options.onChange();
    const process = this.#process!;
    this.powerOff(true);
    void process.exited.then(() => {
      this.powerOn();
      this.#say({ zh: "参数已写入 NVS，终端已重启", en: "settings provisioned into NVS: the terminal restarted" });
    });
  }

  /** Resolves once the process has ended (at once when none runs). */
  async stopped(): Promise<void> {
    const process = this.#process;
    if (process !== undefined) await process.exited;
  }

  /** The binary moves its own countdown. */
  tick(): void {}

  powerOn(): void {
    if (this.#process !== undefined) {
      // Still ending (a cut or off just now): on again once it has.
      if (this.#stopping !== undefined) void this.#process.exited.then(() => this.powerOn());
      return;
    }
    this.#provision();
    const process = new NativeTerminal({
      flash: path.join(this.#options.dir, "flash.bin"),
      nvs: path.join(this.#options.dir, "nvs"),
      slots: path.join(this.#options.dir, "slots.bin"),
      binary: this.#options.binary,
      onLine: (line) => this.#onLine(line),
    });
    this.#process = process;
    this.#screen = undefined;
    this.#journalAsked = false;
    this.#options.onEvent({ ev: "power", state: "on" });
    void process.exited.then((exit) => this.#ended(process, exit));
    this.#options.onChange();
  }

  powerOff(clean: boolean): void {
    const process = this.#process;
    if (process === undefined || this.#stopping !== undefined) return;
    this.#stopping = clean ? "off" : "cut";
    if (!clean) return void process.kill();
    process.send({ quit: true });
    const timer = setTimeout(() => void process.kill(), QUIT_WAIT_MS);
    void process.exited.then(() => clearTimeout(timer));
  }

  cutAtFlashOp(n: number): void {
    if (!this.powered) return;
    this.#process!.send({ cutAtFlashOp: n });
    this.#cutArmed = true;
    this.#options.onChange();
  }

  press(key: Key): void {
    if (!this.powered) return;
    this.#notice = undefined;
    this.#process!.send({ key });
  }

  menu(fn: MenuFunction): void {
    if (!this.powered) return;
    this.#notice = undefined;
    if (fn === "reprint") {
      const last = this.#receipts.at(-1);
      if (last === undefined) return this.#say(noticeOf("noticeNoSlip"));
      return this.#addReceipt(last.kind, `*** REPRINT 重打印 ***\n${last.text}`);
    }
    if (!NATIVE_MENU.includes(fn)) return this.#say({ zh: `本终端菜单无此功能 (${fn})`, en: `not on the Linux terminal's menu: ${fn}` });
    this.#process!.send({ menu: fn });
  }

  /** The binary dials again on its own when an operation or an owed reversal needs the host. */
  linkRestored(): void {}

  present(cardName: string): void {
    if (!this.powered) return;
    this.#notice = undefined;
    const card = findTestCard(cardName);
    if (card === undefined) throw new RangeError(`no test card ${cardName}`);
    if (card.entry !== "swipe") return this.#say({ zh: "本终端仅支持刷卡", en: NATIVE_CARDS_NOTE });
    this.#process!.send({ swipe: swipeBits(cardName) });
  }

  /** The NVS the terminal boots with: the host's address is the network switch's, the page's parameters with timeouts scaled. */
  #provision(): void {
    const nvs = path.join(this.#options.dir, "nvs");
    // Parameters left from earlier settings go: provisioning writes only what differs from the defaults.
    fs.rmSync(path.join(nvs, PARAMETERS_DOMAIN), { recursive: true, force: true });
    const scale = this.#options.timeScale();
    const parameters = this.#settings.parameters;
    const scaled = {
      ...parameters,
      responseTimeoutMs: Math.max(1, Math.ceil(parameters.responseTimeoutMs / scale)),
      connectTimeoutMs: Math.max(1, Math.ceil(parameters.connectTimeoutMs / scale)),
    };
    provisionForHost(nvs, this.#options.host, scaled, { port: this.#options.link.port, releaseKey: fromHex(TMS_TEST_PUBLIC_KEY_HEX) });
  }

  #ended(process: NativeTerminal, exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (this.#process !== process) return;
    if (this.#stopping === undefined && exit.code === EXIT_RESTART) {
      // The terminal's own restart into the slot that boots next.
      this.#process = undefined;
      this.#screen = undefined;
      this.#cutArmed = false;
      this.#options.onEvent({ ev: "power", state: "off" });
      return this.powerOn();
    }
    // Neither off nor a cut asked from here: the binary cut itself inside a flash operation (or died): a cut.
    const state = this.#stopping ?? "cut";
    if (this.#stopping === undefined && !this.#cutArmed) {
      // Not a cut anyone asked for: the page says how the process ended (an XS abort prints its reason on stderr).
      const detail = `the terminal process ended (${exit.signal ?? `exit ${exit.code}`}): ${process.stderr.join("").trim().slice(-STDERR_SHOWN_MAX)}`;
      this.#notice = { zh: detail, en: detail };
    }
    this.#process = undefined;
    this.#stopping = undefined;
    this.#cutArmed = false;
    this.#screen = undefined;
    this.#options.onEvent({ ev: "power", state });
    this.#options.onChange();
  }

  #onLine(line: Line): void {
    if (typeof line.ev === "string") {
      const { t: _t, ...event } = line;
      this.#options.onEvent(event as TerminalEvent);
      if (JOURNAL_EVENTS.includes(line.ev)) this.#askJournal();
      return;
    }
    if (typeof line.screen === "string") {
      const rendered = { title: line.screen, lines: Array.isArray(line.lines) ? line.lines.map(String) : [] };
      this.#screen = { kind: typeof line.kind === "string" ? line.kind : "native", rendered };
    } else if (typeof line.slip === "string") {
      this.#addReceipt(line.slip as Receipt["kind"], Array.isArray(line.lines) ? line.lines.join("\n") : "");
    } else if (line.error !== undefined) {
      const detail = String(line.detail ?? line.error);
      this.#notice = { zh: detail, en: detail };
    } else return;
    this.#options.onChange();
  }

  /** One journal question on the way at a time; events in between ask once more after its answer. */
  #askJournal(): void {
    const process = this.#process;
    if (!this.powered || process === undefined) return;
    if (this.#journalAsked) return void (this.#journalAgain = true);
    this.#journalAsked = true;
    this.#journalAgain = false;
    process.journal(JOURNAL_WAIT_MS).then(
      (listing) => {
        if (this.#process !== process) return;
        this.#journal = listing as unknown as NativeJournal;
        this.#options.onJournal?.(this.#journal);
        this.#journalAsked = false;
        if (this.#journalAgain) this.#askJournal();
        this.#options.onChange();
      },
      // The process ended before it answered (a cut): the next power-on asks again.
      () => (this.#journalAsked = false),
    );
  }

  #addReceipt(kind: Receipt["kind"], text: string): void {
    this.#receipts.push({ id: this.#receiptId++, kind, text });
    if (this.#receipts.length > RECEIPTS_MAX) this.#receipts.shift();
    this.#options.onChange();
  }

  #say(notice: Notice): void {
    this.#notice = notice;
    this.#options.onChange();
  }
}

function noticeOf(id: NoticeId): Notice {
  return { zh: renderNotice(id, "zh"), en: renderNotice(id, "en") };
}
