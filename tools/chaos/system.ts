/**
 * One whole system on one virtual clock, for a chaos run: the terminal core
 * (TxnEngine + UI) in a power domain, the in-process host core over an
 * in-memory ledger (restartable), and the emulated network between them. The
 * same building blocks as the scenario runner (tools/scenario/runner.ts), with
 * the knobs chaos needs: drops at any byte, host restarts, cuts at any NV
 * operation, and observation points for the oracle.
 */
import { SIMULATION_EPOCH_MS } from "../../modules/emulators/virtual-wall-clock";
import { fromHex } from "../../modules/base/hex";
import { typedSoftwareCiphers } from "../../modules/crypto/ciphers";
import { desTables } from "../../modules/crypto/des";
import type { WorkingKeys } from "../../modules/crypto/keys";
import { EmulatedNetwork, type ServerConnection, type ServerConnectionEvents } from "../../modules/emulators/network";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import { SeededRandom } from "../../modules/platform/random";
import type { Transport } from "../../modules/platform/transport";
import { VirtualClock } from "../../modules/platform/virtual-clock";
import { resolveParameters, type TerminalParameters as CoreParameters } from "../../modules/terminal/parameters";
import { Terminal } from "../../modules/terminal/terminal";
import type { TxnEngine, TxnEvent } from "../../modules/txn/engine";
import { XSPOS_POLICY, type ReversalPolicy } from "../../modules/txn/reversal-policy";
import type { ApprovedRecord, TxnJournal } from "../../modules/txn/ports";
import { HostCore } from "../host/core";
import { frame, FrameReader } from "../host/decision";
import { FaultSchedule, type Fault } from "../host/faults";
import { DEFAULT_TERMINALS, registry } from "../host/terminals";
import { TmsPublications } from "../host/tms";
import { nodeP256Check } from "../host/tms-signing";
import { CardDesk } from "../scenario/card-desk";
import { simulatedUpdate } from "../scenario/update-hardware";
import type { Ledger } from "../host/ledger";
import { MemoryLedger } from "../scenario/memory-ledger";
import { type JournalOperation, TERMINAL_SECTORS, TerminalStorage } from "./storage";
import type { TerminalUpdateOptions } from "../../modules/terminal/terminal";
import type { NetworkConditions } from "./network-model";
import { RecordingLedger } from "./recording-ledger";

export const TERMINAL = DEFAULT_TERMINALS[0];
/** Typed copies of the DES tables, once per process: V8 reads a frozen table several times slower (modules/crypto/des.ts). */
const DES_TABLES = desTables();
const CIPHERS = typedSoftwareCiphers(DES_TABLES);
/** The terminal's release-signature check on OpenSSL: the core's BigInt one is most of a seed's CPU on V8 (modules/crypto/p256.ts). */
const P256_CHECK = nodeP256Check();
const IFD_SERIAL = "XSPOS001";
/** Virtual time starts at a fixed wall-clock instant so host timestamps replay. */

/** A chaos world's knobs: the terminal's parameters (the one table) and the network's latency. */
export type TerminalParameters = CoreParameters & { readonly latencyMs: number };

/** The knobs of one seed, through the terminal's parameter table. */
export function chaosParameters(values: Readonly<Record<string, unknown>>, latencyMs: number): TerminalParameters {
  return { ...resolveParameters(values), latencyMs };
}

export type SystemEvent = { readonly t: number; readonly ev: string } & Readonly<Record<string, unknown>>;

/** Planted bugs and other wrappers around the terminal's ports (tools/chaos/planted-bugs.ts). */
export interface PortHooks {
  journal?(journal: TxnJournal, system: ChaosSystem): TxnJournal;
  clock?(clock: Clock, system: ChaosSystem): Clock;
  /** Wraps the handler of the engine's domain events (what the screens and the trace hear). */
  events?(handler: (event: TxnEvent) => void, system: ChaosSystem): (event: TxnEvent) => void;
  /** Wraps the transport the terminal is given (a capture, `chaos --pcap`). */
  transport?(transport: Transport, system: ChaosSystem): Transport;
  /** Wraps the firmware-update hardware the terminal is given at each power-on. */
  update?(update: TerminalUpdateOptions, system: ChaosSystem): TerminalUpdateOptions;
  /** Wraps the ledger the host is given (a planted bug on the acquirer's side of a rule both keep). */
  ledger?(ledger: Ledger): Ledger;
}

/** What else a world may vary beyond the terminal's parameters. */
export interface WorldOptions {
  /** The terminal's reversal policy (modules/txn/reversal-policy.ts); default the shipped one. */
  readonly reversalPolicy?: ReversalPolicy;
}

export interface SystemObserver {
  onEvent(event: SystemEvent): void;
  /** Every domain event of the engine (reversal attempts and 冲正失败 included), as the terminal's UI hears it. */
  onEngineEvent(event: TxnEvent, t: number): void;
  onFault(kind: string): void;
  onJournal(operation: JournalOperation, stan: string, record: ApprovedRecord | undefined, t: number): void;
  /** Each sign-on's working keys (PIN blocks under the new PIK become secrets to look for). */
  onWorkingKeys(keys: WorkingKeys): void;
}

/** Host faults counted when they fire (a scheduled fault the run never reaches does not count). */
class CountingFaultSchedule extends FaultSchedule {
  constructor(readonly onFired: (fault: Fault) => void) {
    super();
  }
  override takeForMessage(mti: string): Fault | undefined {
    const fault = super.takeForMessage(mti);
    if (fault !== undefined) this.onFired(fault);
    return fault;
  }
  override takeForConnection(): Fault | undefined {
    const fault = super.takeForConnection();
    if (fault !== undefined) this.onFired(fault);
    return fault;
  }
}

export class ChaosSystem {
  readonly clock = new VirtualClock({ timersMax: 1024 });
  readonly ledger = new RecordingLedger(new MemoryLedger());
  /** What the TMS publishes: kept across host restarts, as the ledger is. */
  readonly tms = new TmsPublications();
  readonly network: EmulatedNetwork;
  /** Flash (journal + state record), key store and calendar clock: what survives a power cut. */
  readonly storage: TerminalStorage;
  /** The test cards, read by the real card drivers on emulated readers. */
  readonly cards: CardDesk;
  /** The journal port the running engine sees (a planted bug may wrap it). */
  journal: TxnJournal | undefined;
  host: HostCore;
  /** The running terminal: the device's assembly (modules/terminal). */
  terminal: Terminal | undefined;
  /** The running terminal's clock: its timers die with a power cut. */
  engineClock: Clock | undefined;
  powered = false;
  /** The terminal asked for a restart (an update activated or rolled back): it comes back on at the clock's next turn. */
  #restarting = false;
  #generation = 0;
  #hostGeneration = 0;
  readonly #hostRandom: SeededRandom;

  /** Who watches the run (the oracle); set before `powerOn`. */
  observer: SystemObserver | undefined;
  /** Network conditions beyond the faults chaos injects (tools/chaos/network-model.ts); none in plain chaos. */
  conditions: NetworkConditions | undefined;
  readonly reversalPolicy: ReversalPolicy;

  constructor(
    readonly parameters: TerminalParameters,
    seed: number,
    readonly hooks: PortHooks = {},
    world: WorldOptions = {},
  ) {
    this.reversalPolicy = world.reversalPolicy ?? XSPOS_POLICY;
    this.#hostRandom = new SeededRandom(seed ^ 0x5eed);
    this.cards = new CardDesk({
      ifdSerial: "XSPOS001",
      random: new SeededRandom(seed ^ 0xca4d),
      nowMs: () => SIMULATION_EPOCH_MS + this.clock.nowMs(),
    });
    this.storage = new TerminalStorage({
      seed,
      identity: { terminalId: TERMINAL.tid, merchantId: TERMINAL.mid, ifdSerial: IFD_SERIAL },
      random: new SeededRandom(seed ^ 0xf1a5),
      tmk: TERMINAL.tmk,
      nowMs: () => SIMULATION_EPOCH_MS + this.clock.nowMs(),
      watch: (operation, stan, record) => this.observer?.onJournal(operation, stan, record, this.clock.nowMs()),
      onWorkingKeys: (keys) => this.observer?.onWorkingKeys(keys),
    });
    this.host = this.#newHost();
    this.network = new EmulatedNetwork({
      clock: this.clock,
      latencyMs: parameters.latencyMs,
      accept: (connection) => this.#serve(connection),
    });
  }

  emit(event: Record<string, unknown> & { ev: string }): void {
    this.observer?.onEvent({ t: this.clock.nowMs(), ...event });
  }

  get engine(): TxnEngine | undefined {
    return this.terminal?.engine;
  }

  powerOn(): void {
    if (this.powered) return;
    this.powered = true;
    this.#restarting = false;
    this.storage.powerOn();
    this.emit({ ev: "power", state: "on" });
    let update: TerminalUpdateOptions | undefined;
    this.guard(() => (update = simulatedUpdate(this.storage.flash, TERMINAL_SECTORS, () => this.#restart(), P256_CHECK)));
    if (update === undefined) return; // cut while the bootloader wrote its control record
    const generation = this.#generation;
    const live = () => this.#generation === generation;
    const baseClock: Clock = {
      nowMs: () => this.clock.nowMs(),
      schedule: (delayMs, callback): TimerHandle => this.clock.schedule(delayMs, () => live() && callback()),
      cancel: (handle) => this.clock.cancel(handle),
    };
    this.engineClock = baseClock;
    const transport: Transport = {
      connect: (endpoint, events) => {
        const verdict = this.host.admitConnection();
        if (verdict !== "accept") this.network.failNextConnect(verdict === "refuse" ? "refused" : "handshake");
        else this.conditions?.beforeConnect(this.network);
        return this.network.connect(endpoint, {
          onConnected: () => live() && events.onConnected(),
          onData: (bytes) => live() && events.onData(bytes),
          onClosed: (failure, detail) => live() && events.onClosed(failure, detail),
        });
      },
    };
    const observed = (handler: (event: TxnEvent) => void) => (event: TxnEvent) => {
      this.observer?.onEngineEvent(event, this.clock.nowMs());
      handler(event);
    };
    const p = this.parameters;
    this.terminal = new Terminal({
      clock: this.hooks.clock?.(baseClock, this) ?? baseClock,
      transport: this.hooks.transport?.(transport, this) ?? transport,
      endpoint: { host: "acquirer.test", port: 5000, tls: { ca: [fromHex("00")], serverName: "acquirer.test" } },
      flash: this.storage.terminalFlash,
      random: this.storage.options.random,
      keys: this.storage.keys,
      dataKey: this.storage.dataKey,
      identity: this.storage.options.identity,
      parameters: p,
      reversalPolicy: this.reversalPolicy,
      ciphers: CIPHERS,
      wallClock: this.storage.wall,
      wrapJournal: (inner) => {
        const watched = this.storage.watch(inner);
        this.journal = this.hooks.journal?.(watched, this) ?? watched;
        return this.journal;
      },
      wrapEvents: (handler) => this.hooks.events?.(observed(handler), this) ?? observed(handler),
      // Trace events are plain records (an interface like UpdateTraceEvent has no index signature).
      onEvent: (event) => this.emit(event as Record<string, unknown> & { ev: string }),
      update: this.hooks.update?.(update, this) ?? update,
    });
    this.guard(() => this.terminal!.boot());
  }

  /** Power goes now (a cut, or a clean switch-off: the terminal cannot tell them apart). */
  powerOff(state: "off" | "cut"): void {
    this.#restarting = false;
    if (!this.powered) return;
    this.powered = false;
    this.terminal = undefined;
    this.engineClock = undefined;
    this.journal = undefined;
    this.storage.cutPower();
    this.#generation++;
    this.network.terminalPowerLost();
    this.emit({ ev: "power", state });
  }

  /** The terminal's own restart: power off, then on again at once. */
  #restart(): void {
    this.powerOff("off");
    this.#restarting = true;
    this.clock.schedule(0, () => {
      if (this.#restarting) this.powerOn();
    });
  }

  /** The host process restarts: connections drop, pending faults are forgotten, the ledger stays. */
  restartHost(): void {
    this.#hostGeneration++;
    this.host = this.#newHost();
    this.network.resetAll();
    this.emit({ ev: "host", state: "restart" });
  }

  /** Runs `action`; a power cut inside it (fired by the flash) turns the terminal off. */
  guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (!TerminalStorage.isPowerCut(error)) throw error;
      this.observer?.onFault(`flash:${this.storage.flash.fired?.kind ?? "cut"}`);
      this.powerOff("cut");
    }
  }

  /** Moves virtual time forward by `ms`, through any power cut on the way. */
  advance(ms: number): void {
    const targetMs = this.clock.nowMs() + ms;
    while (this.clock.nowMs() < targetMs || (this.clock.nextDueMs !== undefined && this.clock.nextDueMs <= targetMs))
      this.guard(() => this.clock.advance(targetMs - this.clock.nowMs()));
  }

  /** Runs timers until none is left or `horizonMs` passes; false when work is left. */
  runUntilIdle(horizonMs: number): boolean {
    const limitMs = this.clock.nowMs() + horizonMs;
    for (;;) {
      let idle: boolean | undefined;
      this.guard(() => (idle = this.clock.runUntilIdle(limitMs - this.clock.nowMs())));
      if (idle !== undefined) return idle;
    }
  }

  #newHost(): HostCore {
    const generation = this.#hostGeneration;
    const faults = new CountingFaultSchedule((fault) => {
      if (generation === this.#hostGeneration) this.observer?.onFault(faultClass(fault, this.parameters));
    });
    return new HostCore({
      ledger: this.hooks.ledger?.(this.ledger) ?? this.ledger,
      terminals: registry(DEFAULT_TERMINALS),
      random: this.#hostRandom,
      faults,
      desTables: DES_TABLES,
      tms: this.tms,
    });
  }

  /** The host side of one connection: frames in, the host core's decision out (as tools/scenario/runner.ts). */
  #serve(connection: ServerConnection): ServerConnectionEvents {
    const reader = new FrameReader();
    const host = this.host;
    let open = true;
    const onMessage = (request: Uint8Array) => {
      if (!open || host !== this.host) return;
      const decision = host.handle(request, { nowMs: SIMULATION_EPOCH_MS + this.clock.nowMs() });
      const delivery = decision.delivery;
      if (decision.malformed !== undefined || delivery.kind === "close") {
        open = false;
        return connection.close();
      }
      if (delivery.kind === "silent" || decision.response === undefined) return;
      const framed = frame(decision.response);
      if (delivery.kind === "closeMidResponse") {
        connection.write(framed.subarray(0, delivery.bytes));
        open = false;
        return connection.close();
      }
      const delayMs = delivery.delayMs + (this.conditions?.answerDelayMs() ?? 0);
      if (delayMs === 0) for (let i = 0; i < delivery.copies; i++) connection.write(framed);
      else
        this.clock.schedule(delayMs, () => {
          if (open) for (let i = 0; i < delivery.copies; i++) connection.write(framed);
        });
    };
    return {
      onData: (bytes) => {
        if (reader.push(bytes, onMessage) !== undefined) connection.close();
      },
      onClosed: () => {
        open = false;
      },
    };
  }
}

/** Fault classes for the report; delays are classed by where they land against the response deadline. */
export function faultClass(fault: Fault, parameters: TerminalParameters): string {
  if (fault.kind !== "delay") return fault.kind;
  const arrivalMs = fault.ms! + 2 * parameters.latencyMs;
  const deadlineMs = parameters.responseTimeoutMs;
  if (arrivalMs === deadlineMs - 1) return "delay:deadline-1ms";
  if (arrivalMs === deadlineMs) return "delay:atDeadline";
  if (arrivalMs === deadlineMs + 1) return "delay:deadline+1ms";
  return arrivalMs < deadlineMs ? "delay:beforeDeadline" : "delay:late";
}
