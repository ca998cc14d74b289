/**
 * The Linux terminal's entry (manifest.json, platform x-cli-lin): the
 * firmware core and the one terminal assembly (modules/terminal), bound to
 * Linux: the journal partition in a file with NOR semantics (file-flash.c),
 * NVS as a directory (moddable/preference.ts: the ESP32's preferences.ts and
 * NvsKeyStore run unchanged over it), the TLS transport in C shared with the
 * ESP32 (hosts/esp32/tls-transport.c over Debian's mbedtls), getrandom, the
 * Moddable timer for the clock, the block-cipher route as on the device. It
 * runs with the ESP32's creation sizes, so what would not fit the board
 * aborts here too.
 *
 *   xspos --flash FILE --nvs DIR [--cut-at-flash-op K] [--slots FILE]
 *
 * `--slots FILE`: firmware updates (docs/update.md) into file-backed A/B slots
 * with the ESP32 bootloader's rules, when NVS holds the release key
 * (`xspos-update/releaseKey`). An activation or a rollback ends the process
 * with EXIT_RESTART; whoever runs the terminal starts it again. A test image
 * whose header says `behaviour=crashesOnBoot` fails the self-test of its trial
 * boot (test-image.ts) and is rolled back.
 *
 * The keypad, card slot and operator are JSON lines on stdin, everything the
 * terminal shows, prints and logs is JSON lines on stdout (docs/device.md
 * "Linux terminal").
 */
import config from "mc/config";
import { CardReader } from "../../modules/card/reader";
import { bitsFromText, MsrError } from "../../modules/card/msr";
import type { Clock } from "../../modules/platform/clock";
import { Logger, type LogLevel, type LogSink } from "../../modules/platform/log";
import { swipedCard } from "../../modules/terminal/cards";
import { Terminal, type TerminalEvent } from "../../modules/terminal/terminal";
import { TxnRequestError } from "../../modules/txn/engine";
import type { Operation } from "../../modules/txn/events";
import type { WallClock } from "../../modules/txn/ports";
import { render, type Key } from "../../modules/ui/terminal-ui";
import type { Language } from "../../modules/ui/texts";
import { nativeCiphers, nativeDesAvailable } from "../esp32/block-cipher";
import { chooseCiphers } from "../esp32/cipher-route";
import { NvsKeyStore } from "../esp32/nvs-key-store";
import { HardwareRandom } from "../esp32/platform";
import { acquirerLink } from "../esp32/acquirer-link";
import { loadTerminalParameters } from "../esp32/preferences";
import { TimerClock } from "../esp32/timer-clock";
import { readLines } from "./console";
import { FileFlash } from "./file-flash";
import { openNvs } from "./nvs";
import { argv, exit, memory } from "./process";
import { EXIT_RESTART, MENU } from "./protocol";
import { FlashRegion } from "../../modules/txn/flash-region";
import type { TerminalUpdateOptions } from "../../modules/terminal/terminal";
import { FlashSlots } from "../../modules/update/flash-slots";
import { FIRMWARE_VERSION } from "../../modules/update/firmware-version";
import { nativeImageDigest } from "../esp32/image-digest";
import { NvsRecordStore, provisionedReleaseKey } from "../esp32/update-store";
import { runningImageSelfTest } from "./test-image";

/** Build-time facts (manifest.json `config`; journalBytes and sectorBytes from partitions.csv via the Makefile). */
interface LinConfig {
  readonly journalBytes: string | number;
  readonly sectorBytes: string | number;
  readonly ifdSerial: string;
  readonly language: Language;
  readonly ciphers: string;
}

const TICK_MS = 250;
const KEYS: readonly string[] = Object.freeze(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "enter", "cancel", "clear"]);
const OPERATIONS: readonly string[] = Object.freeze(["signOn", "signOff", "echo", "settle", "balance", "sale", "refund", "void"]);
const LEVELS: readonly LogLevel[] = Object.freeze(["debug", "info", "warn", "error"]);

/** One JSON object a line on stdout: what the screen, the printer and the log say. */
function emit(message: Readonly<Record<string, unknown>>): void {
  trace(JSON.stringify(message) + "\n");
}

function emitScreen(terminal: Terminal, language: Language): void {
  const rendered = render(terminal.screen, language);
  // The kind names the screen of modules/ui (the simulator page styles it and keeps a reversal notice from a restart).
  emit({ screen: rendered.title, kind: terminal.screen.kind, lines: rendered.lines });
}

class JsonLogSink implements LogSink {
  write(level: LogLevel, line: string): void {
    if (LEVELS.indexOf(level) >= LEVELS.indexOf("info")) emit({ log: level, line });
  }
}

class SystemWallClock implements WallClock {
  #offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.#offsetMs;
  }
  set(ms: number): void {
    this.#offsetMs = ms - Date.now();
  }
}

interface Arguments {
  readonly flash: string;
  readonly nvs: string;
  readonly cutAtFlashOperation: number;
  readonly slots: string | undefined;
}

/** The slots file: control record (2 sectors), then two slots of 64 sectors (256 KiB; the simulated images are small). */
const SLOT_SECTORS = 64;
const CONTROL_SECTORS = 2;

function fileUpdate(path: string | undefined, sectorBytes: number, log: Logger): TerminalUpdateOptions | undefined {
  if (path === undefined) return undefined;
  const publicKey = provisionedReleaseKey();
  if (publicKey === undefined) {
    log.warn("update: no release key provisioned (xspos-update/releaseKey), updates are off");
    return undefined;
  }
  const flash = new FileFlash({ path, byteLength: (CONTROL_SECTORS + 2 * SLOT_SECTORS) * sectorBytes, blockSize: sectorBytes });
  const slots = new FlashSlots({ flash: new FlashRegion(flash, 0, CONTROL_SECTORS + 2 * SLOT_SECTORS), factoryVersion: FIRMWARE_VERSION });
  slots.powerOn();
  const imageDigest = nativeImageDigest();
  log.info("update: image digest route", { route: imageDigest === undefined ? "software" : "native" });
  return {
    slots,
    store: new NvsRecordStore(),
    publicKey,
    restart: () => exit(EXIT_RESTART),
    selfTest: () => runningImageSelfTest(slots),
    ...(imageDigest !== undefined ? { imageDigest } : {}),
  };
}

function parseArguments(args: readonly string[]): Arguments {
  let flash: string | undefined;
  let nvs: string | undefined;
  let cut = 0;
  let slots: string | undefined;
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${args[i]} needs a value`);
    if (args[i] === "--flash") flash = value;
    else if (args[i] === "--nvs") nvs = value;
    else if (args[i] === "--cut-at-flash-op") cut = Number(value);
    else if (args[i] === "--slots") slots = value;
    else throw new Error(`unknown argument ${args[i]}`);
  }
  if (flash === undefined || nvs === undefined) throw new Error("usage: xspos --flash FILE --nvs DIR [--cut-at-flash-op K] [--slots FILE]");
  if (!Number.isInteger(cut) || cut < 0) throw new Error("--cut-at-flash-op must be a whole number");
  return { flash, nvs, cutAtFlashOperation: cut, slots };
}

interface Command {
  readonly key?: string;
  readonly menu?: string;
  /** A swipe as the strobe capture hands it over: one 0/1 character per bit. */
  readonly swipe?: string;
  /** A scripted operation (Terminal.run): op, amount, a swipe for the card, PIN, original STAN. */
  readonly run?: string;
  readonly amount?: number;
  readonly pin?: string;
  readonly stan?: string;
  readonly journal?: boolean;
  readonly memory?: boolean;
  /** Cut the power inside the k-th flash erase or program from now. */
  readonly cutAtFlashOp?: number;
  readonly quit?: boolean;
}

class LinTerminal {
  readonly #terminal: Terminal;
  readonly #clock: Clock;
  readonly #flash: FileFlash;
  readonly #swipeReader = new CardReader({});

  constructor(terminal: Terminal, clock: Clock, flash: FileFlash) {
    this.#terminal = terminal;
    this.#clock = clock;
    this.#flash = flash;
  }

  start(): void {
    this.#terminal.boot();
    const tick = () => {
      this.#terminal.tick();
      this.#clock.schedule(TICK_MS, tick);
    };
    this.#clock.schedule(TICK_MS, tick);
    readLines((line) => this.#onLine(line));
  }

  #onLine(line: string | undefined): void {
    if (line === undefined) return this.#quit();
    if (line.trim() === "") return;
    let command: Command;
    try {
      command = JSON.parse(line) as Command;
    } catch {
      return emit({ error: "input", detail: "not a JSON object" });
    }
    try {
      this.#run(command);
    } catch (error) {
      if (error instanceof TxnRequestError || error instanceof MsrError || error instanceof RangeError)
        return emit({ error: "refused", detail: (error as Error).message });
      throw error;
    }
  }

  #run(command: Command): void {
    if (command.quit === true) return this.#quit();
    if (command.key !== undefined) {
      if (!KEYS.includes(command.key)) return emit({ error: "input", detail: `no key ${command.key}` });
      return this.#terminal.press(command.key as Key);
    }
    if (command.menu !== undefined) {
      if (!(MENU as readonly string[]).includes(command.menu)) return emit({ error: "input", detail: `no menu ${command.menu}` });
      this.#terminal.menu(command.menu as Parameters<Terminal["menu"]>[0]);
      return;
    }
    if (command.run !== undefined) {
      if (!OPERATIONS.includes(command.run)) return emit({ error: "input", detail: `no operation ${command.run}` });
      // When the terminal took the command (its clock): where a sale's terminal-side time starts.
      emit({ t: this.#clock.nowMs(), accepted: command.run });
      const card = command.swipe === undefined ? undefined : this.#read(command.swipe);
      return this.#terminal.run(command.run as Operation, {
        ...(command.amount !== undefined ? { amount: command.amount } : {}),
        ...(card !== undefined ? { card } : {}),
        ...(command.pin !== undefined ? { pin: command.pin } : {}),
        ...(command.stan !== undefined ? { stan: command.stan } : {}),
      });
    }
    if (command.swipe !== undefined) {
      if (this.#terminal.cardAsked === undefined) return emit({ error: "refused", detail: "no card asked for" });
      this.#terminal.presentCard(this.#read(command.swipe));
      return;
    }
    if (command.journal === true) return this.#journal();
    if (command.memory === true) return emit({ memory: memory() });
    if (command.cutAtFlashOp !== undefined) return this.#flash.cutAfter(command.cutAtFlashOp);
    emit({ error: "input", detail: "no command in the line" });
  }

  #read(swipe: string) {
    const bits = bitsFromText(swipe);
    try {
      return swipedCard(this.#swipeReader.readSwipe(bits, bits.length));
    } finally {
      bits.fill(0);
    }
  }

  /**
   * What the terminal holds: its open batch's approvals one line each (read from flash as they are
   * printed: a full batch does not fit the heap as one answer), then the reversals owed (masked PAN
   * only), its state and the flash operations so far.
   */
  #journal(): void {
    const journal = this.#terminal.journal;
    journal.forEachApproved((r) => {
      emit({ approved: { stan: r.stan, batch: r.batch, op: r.op, amount: r.amount, originalStan: r.originalStan } });
    });
    emit({
      journal: {
        approvedCount: journal.approvedCount(),
        pending: this.#terminal.pendingLines(),
        idle: this.#terminal.idle,
        state: this.#terminal.state,
        flashOperations: this.#flash.operations,
      },
    });
  }

  #quit(): void {
    // The flash stays open: exit() ends the main loop after its current iteration, and a timer due in that same
    // iteration (a state save after a sign-on answer) still writes; a closed flash aborted XS there. Deleting the
    // machine closes the file (file-flash.c's destructor); every operation was synced when it returned.
    exit(0);
  }
}

export default function main(): void {
  const args = parseArguments(argv());
  const board = config as unknown as LinConfig;
  openNvs(args.nvs);
  const clock = new TimerClock();
  const log = new Logger(new JsonLogSink());
  const ciphers = chooseCiphers(board.ciphers, nativeDesAvailable(), nativeCiphers);
  log.info("crypto: block cipher route", { route: ciphers.route });
  const parameters = loadTerminalParameters();
  const random = new HardwareRandom();
  const flash = new FileFlash({
    path: args.flash,
    byteLength: Number(board.journalBytes),
    blockSize: Number(board.sectorBytes),
    cutAtOperation: args.cutAtFlashOperation,
  });
  const keys = new NvsKeyStore();
  const language = board.language;
  const terminal: Terminal = new Terminal({
    clock,
    ...acquirerLink(clock, parameters, log),
    flash,
    random,
    keys,
    dataKey: keys.loadDataKey(random),
    ciphers: ciphers.provider,
    identity: { terminalId: parameters.tid, merchantId: parameters.mid, ifdSerial: board.ifdSerial },
    parameters,
    wallClock: new SystemWallClock(),
    log,
    onEvent: (event: TerminalEvent) => emit({ t: clock.nowMs(), ...event }),
    onScreen: () => emitScreen(terminal, language),
    onSlip: (slip, lines) => emit({ slip: slip.kind, stan: slip.stan, lines }),
    update: fileUpdate(args.slots, Number(board.sectorBytes), log),
  });
  const lin = new LinTerminal(terminal, clock, flash);
  log.info("xspos: platform up", { tid: parameters.tid, host: parameters.host, port: parameters.port, journalBytes: flash.byteLength });
  lin.start();
}
