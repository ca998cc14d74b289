/**
 * Runs a scenario (shared/contracts.md "Scenarios") on one virtual clock: the
 * terminal core (engine + UI), the in-process host core with an in-memory
 * SQLite ledger, and the emulated network between them. Reusable by the
 * chaos runner and the simulator: `runScenario` takes a parsed scenario and
 * returns the events; nothing here prints.
 *
 * Power: the terminal lives in a power domain. A cut drops every timer and
 * network callback of the running terminal (they check the domain's
 * generation); what survives is what the terminal keeps in non-volatile
 * memory: the journal, the state record and the key store.
 */
import { fromHex } from "../../modules/base/hex";
import { MemoryKeyStore } from "../../modules/crypto/key-store";
import { SecretKey } from "../../modules/crypto/keys";
import { EmulatedNetwork, type ServerConnection, type ServerConnectionEvents } from "../../modules/emulators/network";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import { SeededRandom } from "../../modules/platform/random";
import type { Transport } from "../../modules/platform/transport";
import { VirtualClock } from "../../modules/platform/virtual-clock";
import { TxnEngine, TxnRequestError, type TxnEvent } from "../../modules/txn/engine";
import { MemoryJournal, MemoryStateStore } from "../../modules/txn/memory-journal";
import type { ApprovedRecord } from "../../modules/txn/ports";
import { render, TerminalUi } from "../../modules/ui/terminal-ui";
import { HostCore } from "../host/core";
import { frame, FRAME_HEADER_BYTES } from "../host/decision";
import { MemoryLedger } from "./memory-ledger";
import { DEFAULT_TERMINALS, registry } from "../host/terminals";
import { TEST_CARDS } from "./cards";
import type { Expectation, Scenario, Step } from "./scenario-file";

export type ScenarioEvent = { readonly t: number; readonly ev: string } & Readonly<Record<string, unknown>>;

export interface ScenarioRun {
  readonly events: readonly ScenarioEvent[];
  /** Expectations that did not hold, described. */
  readonly failures: readonly string[];
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
/** Virtual time starts at a fixed wall-clock instant so host timestamps replay. */
const EPOCH_MS = Date.UTC(2026, 0, 15, 9, 0, 0);
const DRAIN_HORIZON_MS = 6 * 60 * 60 * 1000;

/** The journal as flash keeps it, plus what settlement closed (for the reconcile). */
class ScenarioJournal extends MemoryJournal {
  readonly settled: ApprovedRecord[] = [];
  override closeBatch(batch: string): void {
    this.settled.push(...this.approvedLog().filter((r) => r.batch === batch));
    super.closeBatch(batch);
  }
}

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
    this.network.resetAll();
  }
}

export function runScenario(scenario: Scenario): ScenarioRun {
  const clock = new VirtualClock();
  const events: ScenarioEvent[] = [];
  const emit = (event: Record<string, unknown> & { ev: string }) => events.push({ t: clock.nowMs(), ...event });
  const ledger = new MemoryLedger();
  const host = new HostCore({ ledger, terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(7) });
  const network = new EmulatedNetwork({ clock, latencyMs: 5, accept: (connection) => serveHost(host, clock, connection) });
  const power = new PowerDomain(clock, network, () => {
    const verdict = host.admitConnection();
    if (verdict !== "accept") network.failNextConnect(verdict === "refuse" ? "refused" : "handshake");
  });
  // Non-volatile memory of the terminal.
  const journal = new ScenarioJournal();
  const state = new MemoryStateStore();
  const keys = new MemoryKeyStore();
  keys.saveMasterKey(new SecretKey("tdes", TERMINAL.tmk));
  let engine: TxnEngine | undefined;
  let lastScreen = "";

  const powerOn = () => {
    power.on = true;
    const ui = new TerminalUi({
      onScreen: (screen) => {
        const text = render(screen, "en").title;
        if (text !== lastScreen) emit({ ev: "screen", text });
        lastScreen = text;
      },
    });
    engine = new TxnEngine({
      clock: power.gatedClock(),
      transport: power.gatedTransport(),
      endpoint: { host: "acquirer.test", port: 5000, tls: { ca: [fromHex("00")], serverName: "acquirer.test" } },
      journal,
      state,
      keys,
      terminalId: TERMINAL.tid,
      merchantId: TERMINAL.mid,
      responseTimeoutMs: scenario.terminal.responseTimeoutMs,
      connectTimeoutMs: scenario.terminal.connectTimeoutMs,
      reversalRetries: scenario.terminal.reversalRetries,
      blockSalesWhileReversalFailed: scenario.terminal.blockSalesWhileReversalFailed,
      onEvent: (event: TxnEvent) => emit({ ...event }),
      onUi: (input) => ui.show(input),
    });
    emit({ ev: "power", state: "on" });
    engine.boot();
  };

  const powered = (index: number): TxnEngine => {
    if (!power.on || engine === undefined) throw new ScenarioStepError(index, "the terminal is off: powerOn first");
    return engine;
  };

  scenario.steps.forEach((step, index) => runStep(step, index));
  if (power.on) drain(-1);
  emit(reconcile(ledger, journal));
  ledger.close();
  return { events, failures: scenario.expect.map((e) => check(e, events)).filter((f): f is string => f !== undefined) };

  function drain(index: number): void {
    if (!clock.runUntilIdle(DRAIN_HORIZON_MS))
      throw new ScenarioStepError(index, `drain: still busy after ${DRAIN_HORIZON_MS} ms of virtual time`);
  }

  function runStep(step: Step, index: number): void {
    const card = (name: string) => {
      const found = TEST_CARDS[name];
      if (found === undefined)
        throw new ScenarioStepError(index, `unknown card ${JSON.stringify(name)}; cards: ${Object.keys(TEST_CARDS).join(", ")}`);
      return found;
    };
    try {
      switch (step.op) {
        case "powerOn":
          if (!power.on) powerOn();
          return;
        case "powerOff":
        case "powerCut":
          if (step.op === "powerCut" && step.atFlashOp !== undefined)
            throw new ScenarioStepError(index, "powerCut atFlashOp needs the flash journal, which this runner does not use yet");
          power.cut();
          emit({ ev: "power", state: step.op === "powerOff" ? "off" : "cut" });
          return;
        case "signOn":
          return powered(index).signOn();
        case "signOff":
          return powered(index).signOff();
        case "echo":
          return powered(index).echo();
        case "balance":
          return powered(index).balance(card(step.card), step.pin);
        case "sale":
          return powered(index).sale({ amount: step.amount, card: card(step.card), pin: step.pin });
        case "refund":
          return powered(index).refund({ amount: step.amount, card: card(step.card), pin: step.pin, originalStan: step.stan });
        case "void":
          return powered(index).voidSale(step.stan);
        case "settle":
          return powered(index).settle();
        case "advance":
          clock.advance(step.ms);
          return;
        case "drain":
          return drain(index);
        case "hostFault":
          host.faults.add(step.fault);
          return;
        case "network":
          network.setDown(step.state === "down");
          if (step.latencyMs !== undefined) network.setLatency(step.latencyMs);
          return;
      }
    } catch (error) {
      if (error instanceof TxnRequestError) throw new ScenarioStepError(index, error.message);
      throw error;
    }
  }
}

/** The host side of one connection: reassemble frames, ask the host core, deliver its decision. */
function serveHost(host: HostCore, clock: VirtualClock, connection: ServerConnection): ServerConnectionEvents {
  let buffered = new Uint8Array(0);
  let open = true;
  return {
    onData(bytes) {
      const joined = new Uint8Array(buffered.length + bytes.length);
      joined.set(buffered);
      joined.set(bytes, buffered.length);
      buffered = joined;
      while (buffered.length >= FRAME_HEADER_BYTES) {
        const length = (buffered[0] << 8) | buffered[1];
        if (buffered.length < FRAME_HEADER_BYTES + length) return;
        const request = buffered.slice(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
        buffered = buffered.slice(FRAME_HEADER_BYTES + length);
        const decision = host.handle(request, { nowMs: EPOCH_MS + clock.nowMs() });
        const delivery = decision.delivery;
        if (decision.malformed !== undefined || delivery.kind === "close") return connection.close();
        if (delivery.kind === "silent" || decision.response === undefined) continue;
        const framed = frame(decision.response);
        if (delivery.kind === "closeMidResponse") {
          connection.write(framed.subarray(0, delivery.bytes));
          return connection.close();
        }
        clock.schedule(delivery.delayMs, () => {
          if (!open) return;
          for (let i = 0; i < delivery.copies; i++) connection.write(framed);
        });
      }
    },
    onClosed() {
      open = false;
    },
  };
}

interface Line {
  readonly batch: string;
  readonly stan: string;
  readonly kind: string;
  readonly amount: number;
}

function reconcile(ledger: MemoryLedger, journal: ScenarioJournal): Record<string, unknown> & { ev: string } {
  const hostLines: Line[] = ledger
    .view(TERMINAL.tid)
    .approved.transactions.map((l) => ({ batch: l.batch, stan: l.stan, kind: l.kind, amount: l.amount }));
  const log = [...journal.settled, ...journal.approvedLog()];
  const voided = new Set(log.filter((r) => r.op === "void").map((r) => `${r.batch}/${r.originalStan}`));
  const terminalLines: Line[] = log
    .filter((r) => r.op !== "void" && !voided.has(`${r.batch}/${r.stan}`))
    .map((r) => ({ batch: r.batch, stan: r.stan, kind: r.op, amount: r.amount }));
  const key = (l: Line) => `${l.batch}/${l.stan}/${l.kind}/${l.amount}`;
  const hostKeys = hostLines.map(key).sort();
  const terminalKeys = terminalLines.map(key).sort();
  const agree = hostKeys.length === terminalKeys.length && hostKeys.every((k, i) => k === terminalKeys[i]);
  const summary = (keys: string[], lines: Line[]) => ({
    count: lines.length,
    amount: lines.reduce((s, l) => s + l.amount, 0),
    transactions: keys,
  });
  return {
    ev: "reconcile",
    agree,
    host: summary(hostKeys, hostLines),
    terminal: { ...summary(terminalKeys, terminalLines), reversalsPending: journal.pending().length },
  };
}

function matches(event: ScenarioEvent, partial: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(partial).every((k) => JSON.stringify(event[k]) === JSON.stringify(partial[k]));
}

function check(expectation: Expectation, events: readonly ScenarioEvent[]): string | undefined {
  if ("has" in expectation)
    return events.some((e) => matches(e, expectation.has))
      ? undefined
      : `expected an event with ${JSON.stringify(expectation.has)}, none found`;
  if ("lacks" in expectation) {
    const found = events.find((e) => matches(e, expectation.lacks));
    return found === undefined ? undefined : `expected no event with ${JSON.stringify(expectation.lacks)}, found ${JSON.stringify(found)}`;
  }
  const count = events.filter((e) => matches(e, expectation.count)).length;
  return count === expectation.eq
    ? undefined
    : `expected ${expectation.eq} events with ${JSON.stringify(expectation.count)}, found ${count}`;
}
