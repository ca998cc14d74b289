/**
 * Runs a scenario (docs/contracts.md "Scenarios") on one virtual clock: the
 * terminal core (engine + UI) with its journal and state record on an
 * emulated NOR flash, test cards read by the real card drivers on emulated
 * readers, the in-process host core with an in-memory ledger, and the
 * emulated network between them. Reusable by the chaos runner and the
 * simulator: `runScenario` takes a parsed scenario and returns the events;
 * nothing here prints or touches files.
 *
 * Power: the terminal lives in a power domain. A cut drops every timer and
 * network callback of the running terminal (they check the domain's
 * generation); bytes it already wrote still reach the host (the worst case:
 * a network interface does not recall them). What survives is the flash
 * (journal + state record), the key store and the calendar clock. `powerCut` with `atFlashOp: N` arms a torn
 * operation in the middle of the N-th flash erase/program from then on; when
 * it fires, the call that hit it unwinds and nothing runs until `powerOn`.
 *
 * Firmware updates (docs/update.md): the same chip holds, after the journal and
 * the state record, the update record and modules/update's file-backed A/B
 * slots, so `atFlashOp` counts (and tears) image writes too. Each power-on
 * runs the bootloader's choice of slot first; the terminal's `restart` is a
 * power off and on; the self-test fails for a test image whose header says
 * `behaviour=crashesOnBoot`.
 */
import { fromHex } from "../../modules/base/hex";
import type { CipherProvider } from "../../modules/crypto/block-cipher";
import { MemoryKeyStore } from "../../modules/crypto/key-store";
import { SecretKey } from "../../modules/crypto/keys";
import { EmulatedNetwork, type ServerConnection, type ServerConnectionEvents } from "../../modules/emulators/network";
import { NorFlash, PowerCut } from "../../modules/emulators/nor-flash";
import { SIMULATION_EPOCH_MS, VirtualWallClock } from "../../modules/emulators/virtual-wall-clock";
import type { TerminalIdentity } from "../../modules/journal/format";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import { SeededRandom } from "../../modules/platform/random";
import type { Transport } from "../../modules/platform/transport";
import { VirtualClock } from "../../modules/platform/virtual-clock";
import { Terminal, STATE_SECTORS, type TerminalUpdateOptions } from "../../modules/terminal/terminal";
import type { Slip } from "../../modules/ui/slips";
import type { Screen } from "../../modules/ui/terminal-ui";
import type { TmsExchange } from "../../modules/tms/wire";
import { TxnRequestError } from "../../modules/txn/engine";
import { FlashJournal, type FlashJournalOptions } from "../../modules/txn/flash-journal";
import { FlashRegion } from "../../modules/txn/flash-region";
import type { ReversalPolicy } from "../../modules/txn/reversal-policy";
import { HostCore } from "../host/core";
import { buildImage, TmsPublishError, type ImageSigner } from "../host/tms";
import { capturingTransport } from "../pcap/capture-transport";
import type { TcpCapture } from "../pcap/pcap";
import { frame, FrameReader } from "../host/decision";
import type { Ledger } from "../host/ledger";
import { DEFAULT_TERMINALS, registry } from "../host/terminals";
import { CardDesk, CardPresentError } from "./card-desk";
import { approvedList } from "./forwarding-journal";
import { checkExpectations } from "./expectations";
import { MemoryLedger } from "./memory-ledger";
import { reconcileEvent, SettlingJournal, type SettledRecord } from "./reconcile";
import { simulatedUpdate, updateSectors } from "./update-hardware";
import type { Scenario, Step } from "./scenario-file";

export type ScenarioEvent = { readonly t: number; readonly ev: string } & Readonly<Record<string, unknown>>;

export interface ScenarioRun {
  readonly events: readonly ScenarioEvent[];
  /** Expectations that did not hold, described. */
  readonly failures: readonly string[];
  /** Flash erase/program operations issued during the run (recovery and the final reconcile included). */
  readonly flashOps: number;
}

export interface RunOptions {
  /** Seeds the flash's fault draws, the journal epoch and the cards' unpredictable numbers; default 1. */
  readonly seed?: number;
  /** Sector size of the emulated flash; default the file's `flash.sectorBytes`, else 4096 (the ESP32's). */
  readonly blockSize?: number;
  /** Sectors of the journal partition (3..64); default the file's `flash.journalSectors`, else 8. Two more hold the state record. */
  readonly journalSectors?: number;
  /** The host's ledger; default a fresh MemoryLedger (fast). The run closes it. */
  readonly ledger?: Ledger;
  /** The engine's MAC and PIN cipher provider; default modules/crypto's TypeScript ciphers. */
  readonly ciphers?: CipherProvider;
  /** How reversal episodes spend their attempts; default the shipped policy. */
  readonly reversalPolicy?: ReversalPolicy;
  /**
   * The terminal's calendar clock (RTC) at virtual time 0; default the simulation epoch, where the host's clock is.
   * A test starts it wrong (a flat battery, a year off) to see the sign-on answer's F12/F13 set it.
   */
  readonly rtcStartMs?: number;
  /** At every power-on the calendar clock reads `rtcStartMs` again, as the ESP32's RTC does after a power loss. */
  readonly rtcLostAtPowerOff?: boolean;
  /** Records the terminal's connections as TCP streams, timestamped with the virtual clock (`--pcap`). */
  readonly capture?: TcpCapture;
  /** Signs published images (tools/host/tms-signing.ts, Node's crypto); without one a `tmsPublish` of an image is a step error. */
  readonly imageSigner?: ImageSigner;
  /**
   * Tests of the TMS channel itself: at each `tmsCheck` step the probe, not the terminal, uses the
   * terminal's TMS exchange (its engine).
   */
  readonly tmsProbe?: (exchange: TmsExchange) => void;
  /** Hears every slip the terminal prints, with its rendered lines (the run's `slip` events name it only). */
  readonly onSlip?: (slip: Slip, lines: readonly string[]) => void;
  /** Hears every screen the terminal shows (the run's `screen` events carry only a title when it changes). */
  readonly onScreen?: (screen: Screen) => void;
}

/** A step that cannot run as written (bad card name, void of an unknown STAN): exit 2 territory. */
export class ScenarioStepError extends Error {
  override readonly name = "ScenarioStepError";
  constructor(
    readonly stepIndex: number,
    detail: string,
  ) {
    super(`step ${stepIndex}: ${detail}`);
  }
}

const TERMINAL = DEFAULT_TERMINALS[0];
const IDENTITY: TerminalIdentity = Object.freeze({ terminalId: TERMINAL.tid, merchantId: TERMINAL.mid, ifdSerial: "XSPOS001" });
const DRAIN_HORIZON_MS = 6 * 60 * 60 * 1000;

/** Timers and connections of one powered period; a cut makes them all inert. */
class PowerDomain {
  generation = 0;
  on = false;
  constructor(
    readonly clock: VirtualClock,
    readonly network: EmulatedNetwork,
    readonly beforeConnect: () => void,
  ) {}

  gatedClock(): Clock {
    const generation = this.generation;
    return {
      nowMs: () => this.clock.nowMs(),
      schedule: (delayMs, callback): TimerHandle => this.clock.schedule(delayMs, () => this.generation === generation && callback()),
      cancel: (handle) => this.clock.cancel(handle),
    };
  }

  gatedTransport(): Transport {
    const generation = this.generation;
    const live = () => this.generation === generation;
    return {
      connect: (endpoint, events) => {
        this.beforeConnect();
        return this.network.connect(endpoint, {
          onConnected: () => live() && events.onConnected(),
          onData: (bytes) => live() && events.onData(bytes),
          onClosed: (failure, detail) => live() && events.onClosed(failure, detail),
        });
      },
    };
  }

  cut(): void {
    this.generation++;
    this.on = false;
    this.network.terminalPowerLost();
  }
}

export function runScenario(scenario: Scenario, options: RunOptions = {}): ScenarioRun {
  const seed = options.seed ?? 1;
  const journalSectors = options.journalSectors ?? scenario.flash?.journalSectors ?? 8;
  const blockSize = options.blockSize ?? scenario.flash?.sectorBytes ?? 4096;
  const clock = new VirtualClock();
  const events: ScenarioEvent[] = [];
  const emit = (event: Record<string, unknown> & { ev: string }) => events.push({ t: clock.nowMs(), ...event });
  const ledger = options.ledger ?? new MemoryLedger();
  const host = new HostCore({ ledger, terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(7) });
  const network = new EmulatedNetwork({ clock, latencyMs: 5, accept: (connection) => serveHost(host, clock, connection) });
  const power = new PowerDomain(clock, network, () => {
    const verdict = host.admitConnection();
    if (verdict !== "accept") network.failNextConnect(verdict === "refuse" ? "refused" : "handshake");
  });
  // What survives a power cut: the flash, the key store, the calendar clock.
  const terminalSectors = journalSectors + STATE_SECTORS;
  const flash = new NorFlash({ sectorCount: terminalSectors + updateSectors(blockSize), blockSize, seed });
  const terminalFlash = new FlashRegion(flash, 0, terminalSectors);
  const journalFlash = new FlashRegion(flash, 0, journalSectors);
  const keys = new MemoryKeyStore();
  keys.saveMasterKey(new SecretKey("tdes", TERMINAL.tmk));
  const rtcStartMs = options.rtcStartMs ?? SIMULATION_EPOCH_MS;
  const wall = new VirtualWallClock(() => rtcStartMs + clock.nowMs());
  const random = new SeededRandom(seed);
  // The PAN seal: drawn by the key store at first use and kept across power, as on the device.
  const dataKey = keys.loadDataKey(random);
  const cards = new CardDesk({ ifdSerial: IDENTITY.ifdSerial, random, nowMs: () => wall.nowMs() });
  const settled: SettledRecord[] = [];
  const journalOptions: FlashJournalOptions = {
    flash: journalFlash,
    dataKey,
    random,
    identity: IDENTITY,
    nowSeconds: () => wall.nowMs() / 1000,
  };
  let journal: SettlingJournal | undefined;
  let terminal: Terminal | undefined;
  /** An armed flash-op cut fired: operations scripted before the next powerOn do not run. */
  let cutByFlash = false;
  /** The terminal asked for a restart: it is off and comes back on at the clock's next turn. */
  let restarting = false;

  const cut = () => {
    cutByFlash = true;
    power.cut();
    terminal = undefined;
    journal = undefined;
    // Which operation tore (erase or program): the reports of the power-cut loops need it.
    emit({ ev: "power", state: "cut", flashOp: flash.fired?.operation === "erase" ? "erase" : "program" });
  };

  /** Runs terminal code; a power cut fired by the flash ends it where it stands. */
  const powered = (action: () => void): void => {
    try {
      action();
    } catch (error) {
      if (!(error instanceof PowerCut)) throw error;
      cut();
    }
  };

  /** The terminal's restart (after an activation or a rollback): power off, then on again. */
  const restart = () => {
    power.cut();
    terminal = undefined;
    journal = undefined;
    restarting = true;
    emit({ ev: "power", state: "off" });
    clock.schedule(0, () => {
      if (restarting) powerOn();
    });
  };

  const powerOn = () => {
    if (!flash.powered) flash.powerCycle();
    power.on = true;
    if (options.rtcLostAtPowerOff === true) wall.set(rtcStartMs);
    cutByFlash = false;
    restarting = false;
    emit({ ev: "power", state: "on" });
    let update: TerminalUpdateOptions | undefined;
    powered(() => (update = simulatedUpdate(flash, terminalSectors, restart)));
    if (update === undefined) return; // cut while the bootloader wrote its control record
    const transport = power.gatedTransport();
    const booting = new Terminal({
      clock: power.gatedClock(),
      transport: options.capture ? capturingTransport(transport, options.capture, () => SIMULATION_EPOCH_MS + clock.nowMs()) : transport,
      endpoint: { host: "acquirer.test", port: 5000, tls: { ca: [fromHex("00")], serverName: "acquirer.test" } },
      flash: terminalFlash,
      random,
      keys,
      dataKey,
      ciphers: options.ciphers,
      reversalPolicy: options.reversalPolicy,
      identity: IDENTITY,
      parameters: scenario.terminal,
      wallClock: wall,
      wrapJournal: (inner) => (journal = new SettlingJournal(inner, settled)),
      onEvent: (event) => emit({ ...event }),
      onSlip: options.onSlip,
      onScreen: options.onScreen,
      update,
    });
    terminal = booting;
    powered(() => booting.boot());
  };

  /**
   * The running engine; undefined after a flash-op cut (the step does not run); an error when the
   * script never powered on. A scripted operation stands for an operator who started it, so one who
   * acknowledged any 冲正失败 on the display first.
   */
  const on = (index: number): Terminal | undefined => {
    if (power.on && terminal !== undefined) return terminal;
    if (cutByFlash) return undefined;
    throw new ScenarioStepError(index, "the terminal is off: powerOn first");
  };

  scenario.steps.forEach((step, index) => runStep(step, index));
  if (power.on) drain(-1);
  emit(reconcileEvent(ledger, TERMINAL.tid, terminalView()));
  ledger.close();
  return { events, failures: checkExpectations(scenario.expect, events), flashOps: flash.operations };

  /** The terminal's log for the reconcile: the running journal, or what a boot would recover. */
  function terminalView(): { settled: readonly SettledRecord[]; approved: readonly SettledRecord[]; reversalsPending: number } {
    let view = journal;
    if (!power.on || view === undefined) {
      flash.schedule(undefined);
      if (!flash.powered) flash.powerCycle();
      view = new SettlingJournal(new FlashJournal(journalOptions), settled);
      view.recover();
    }
    return { settled, approved: approvedList(view), reversalsPending: view.pending().length };
  }

  function drain(index: number): void {
    let idle = false;
    powered(() => (idle = clock.runUntilIdle(DRAIN_HORIZON_MS)));
    // After a cut the rest of the powered period's timers are inert: let them run out.
    if (!idle && !power.on) idle = clock.runUntilIdle(DRAIN_HORIZON_MS);
    if (!idle) throw new ScenarioStepError(index, `drain: still busy after ${DRAIN_HORIZON_MS} ms of virtual time`);
  }

  function advance(ms: number): void {
    const targetMs = clock.nowMs() + ms;
    powered(() => clock.advance(ms));
    if (clock.nowMs() < targetMs) clock.advance(targetMs - clock.nowMs()); // cut on the way: the rest is inert
  }

  function present(index: number, name: string, op: "sale" | "balance" | "refund", amount: number) {
    try {
      return cards.present(name, op, amount);
    } catch (error) {
      if (!(error instanceof CardPresentError)) throw error;
      if (error.reason === "unknown")
        throw new ScenarioStepError(index, `unknown card ${JSON.stringify(name)}; cards: ${CardDesk.names().join(", ")}`);
      emit({ ev: "result", op, outcome: "failed", card: error.reason });
      return undefined;
    }
  }

  /** The host's TMS publishes (the terminal hears of it at its next sign-on or check). */
  function tmsPublish(step: Extract<Step, { op: "tmsPublish" }>, index: number): void {
    try {
      if ("parameters" in step) {
        host.tms.publishParameters(step.parameters);
        emit({ ev: "tms", published: "parameters" });
        return;
      }
      if (options.imageSigner === undefined) throw new ScenarioStepError(index, "publishing an image needs a signer (the Node runner's)");
      host.tms.publishImage(buildImage(step.image, options.imageSigner));
      emit({ ev: "tms", published: "image", version: step.image.version, kind: step.image.kind });
    } catch (error) {
      if (error instanceof TmsPublishError) throw new ScenarioStepError(index, error.message);
      throw error;
    }
  }

  function runStep(step: Step, index: number): void {
    try {
      switch (step.op) {
        case "powerOn":
          if (!power.on) powerOn();
          return;
        case "powerOff":
          restarting = false;
          if (power.on) power.cut();
          terminal = undefined;
          journal = undefined;
          emit({ ev: "power", state: "off" });
          return;
        case "powerCut":
          if (step.atFlashOp !== undefined) {
            flash.schedule({ atOperation: flash.operations + step.atFlashOp - 1, kind: "cutInside" });
            return;
          }
          restarting = false;
          if (power.on) power.cut();
          flash.cutPower();
          terminal = undefined;
          journal = undefined;
          emit({ ev: "power", state: "cut" });
          return;
        case "signOn":
        case "signOff":
        case "echo":
        case "settle":
        case "networkCheck": {
          const op = step.op;
          return powered(() => on(index)?.run(op));
        }
        case "void":
          return powered(() => on(index)?.run("void", { stan: step.stan }));
        case "balance":
        case "sale":
        case "refund": {
          const running = on(index);
          const amount = step.op === "balance" ? 0 : step.amount;
          const card = running && present(index, step.card, step.op, amount);
          const stan = step.op === "refund" ? step.stan : undefined;
          if (card !== undefined) powered(() => running!.run(step.op, { amount, card, pin: step.pin, stan }));
          return;
        }
        case "advance":
          return advance(step.ms);
        case "drain":
          return drain(index);
        case "hostFault":
          host.faults.add(step.fault);
          return;
        case "tmsPublish":
          return tmsPublish(step, index);
        case "tmsCheck":
          return powered(() => {
            const running = on(index);
            if (running === undefined) return;
            if (options.tmsProbe !== undefined) options.tmsProbe(running.engine);
            else running.tmsCheck();
          });
        case "network":
          network.setDown(step.state === "down");
          if (step.latencyMs !== undefined) network.setLatency(step.latencyMs);
          // The link is back: the terminal hears it (as the device hears Wi-Fi come up) and sends what it owes.
          if (step.state === "up" && power.on) powered(() => terminal?.linkRestored());
          return;
      }
    } catch (error) {
      if (error instanceof TxnRequestError) throw new ScenarioStepError(index, error.message);
      throw error;
    }
  }
}

/** The host side of one connection: reassemble frames, ask the host core, deliver its decision. */
export function serveHost(host: HostCore, clock: VirtualClock, connection: ServerConnection): ServerConnectionEvents {
  const reader = new FrameReader();
  let open = true;
  const close = (): void => {
    open = false;
    connection.close();
  };
  const onMessage = (request: Uint8Array): void => {
    if (!open) return; // frames after a close in the same chunk are never read
    const decision = host.handle(request, { nowMs: SIMULATION_EPOCH_MS + clock.nowMs() });
    const delivery = decision.delivery;
    if (decision.malformed !== undefined || delivery.kind === "close") return close();
    if (delivery.kind === "silent" || decision.response === undefined) return;
    const framed = frame(decision.response);
    if (delivery.kind === "closeMidResponse") {
      connection.write(framed.subarray(0, delivery.bytes));
      return close();
    }
    clock.schedule(delivery.delayMs, () => {
      if (!open) return;
      for (let i = 0; i < delivery.copies; i++) connection.write(framed);
    });
  };
  return {
    onData(bytes) {
      if (open && reader.push(bytes, onMessage) !== undefined) close();
    },
    onClosed() {
      open = false;
    },
  };
}
