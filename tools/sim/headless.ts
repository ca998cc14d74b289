/**
 * `xspos sim --headless --script FILE.json`: a scenario file (the format of
 * `xspos scenario`) run in real time against the real TLS host, printing the
 * same events. Operations are started, not awaited, as in the virtual runner;
 * `advance` sleeps, `drain` waits until the terminal has been idle for a
 * moment. `timeScale` runs the terminal's clock (and host delay faults) that
 * many times faster, so a 60 s response timeout can take 0.6 s; `t` stays in
 * scenario milliseconds.
 */
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import { TxnRequestError } from "../../modules/txn/engine";
import { NodeClock } from "../../hosts/sim/node-clock";
import type { Expectation, Scenario, Step } from "../scenario/scenario-file";
import { startSim, type Sim, type StampedEvent } from "./app";
import type { SettledRecord } from "./sim-journal";

export interface HeadlessOptions {
  readonly varDir: string;
  readonly timeScale: number;
  readonly onEvent: (event: StampedEvent) => void;
}

export interface HeadlessRun {
  readonly events: readonly StampedEvent[];
  readonly failures: readonly string[];
}

/** A step that cannot run as written: exit 2. */
export class HeadlessStepError extends Error {
  override readonly name = "HeadlessStepError";
  constructor(
    readonly stepIndex: number,
    detail: string,
  ) {
    super(`step ${stepIndex}: ${detail}`);
  }
}

/** Real time that runs `scale` times faster. */
class ScaledClock implements Clock {
  readonly #base = new NodeClock();
  constructor(readonly scale: number) {}
  nowMs(): number {
    return Math.floor(this.#base.nowMs() * this.scale);
  }
  schedule(delayMs: number, callback: () => void): TimerHandle {
    return this.#base.schedule(delayMs / this.scale, callback);
  }
  cancel(handle: TimerHandle): void {
    this.#base.cancel(handle);
  }
}

/**
 * A drain ends once the terminal has been idle for a response timeout (at least this many real
 * ms): an answer the host delayed past the deadline still arrives, late, inside that window.
 */
const DRAIN_QUIET_MS_MIN = 300;
/** A drain longer than this (real ms) is a hang. */
const DRAIN_LIMIT_MS = 120_000;
const POLL_MS = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runHeadless(scenario: Scenario, options: HeadlessOptions): Promise<HeadlessRun> {
  const events: StampedEvent[] = [];
  const sim = await startSim({
    varDir: options.varDir,
    persistent: false,
    clock: new ScaledClock(options.timeScale),
    parameters: scenario.terminal,
    timeScale: options.timeScale,
    onEvent: (event) => {
      events.push(event);
      options.onEvent(event);
    },
  });
  try {
    const quietMs = Math.max(DRAIN_QUIET_MS_MIN, scenario.terminal.responseTimeoutMs / options.timeScale);
    for (const [index, step] of scenario.steps.entries()) await runStep(sim, step, index, options.timeScale, quietMs);
    if (sim.terminal.powered) await drain(sim, -1, quietMs);
    const last = events.at(-1);
    const reconcile = { t: last?.t ?? 0, ...reconcileEvent(sim) };
    events.push(reconcile);
    options.onEvent(reconcile);
    return { events, failures: scenario.expect.map((e) => check(e, events)).filter((f): f is string => f !== undefined) };
  } finally {
    await sim.close();
  }
}

async function runStep(sim: Sim, step: Step, index: number, timeScale: number, quietMs: number): Promise<void> {
  const terminal = sim.terminal;
  try {
    switch (step.op) {
      case "powerOn":
        return terminal.powerOn();
      case "powerOff":
        return terminal.powerOff(true);
      case "powerCut":
        return step.atFlashOp === undefined ? terminal.powerOff(false) : terminal.cutAtFlashOp(step.atFlashOp);
      case "advance":
        return await sleep(step.ms / timeScale);
      case "drain":
        return await drain(sim, index, quietMs);
      case "hostFault":
        return sim.addFault(step.fault);
      case "network":
        if (step.latencyMs !== undefined) sim.network.setLatency(Math.round(step.latencyMs / timeScale));
        return sim.network.setDown(step.state === "down");
      case "sale":
      case "refund":
      case "balance":
        return terminal.script(step.op, step);
      case "void":
        return terminal.script("void", step);
      default:
        return terminal.script(step.op, {});
    }
  } catch (error) {
    if (error instanceof TxnRequestError) throw new HeadlessStepError(index, error.message);
    throw error;
  }
}

async function drain(sim: Sim, index: number, quietMsNeeded: number): Promise<void> {
  let quietMs = 0;
  for (let waitedMs = 0; waitedMs < DRAIN_LIMIT_MS; waitedMs += POLL_MS) {
    quietMs = sim.terminal.idle ? quietMs + POLL_MS : 0;
    if (quietMs >= quietMsNeeded) return;
    await sleep(POLL_MS);
  }
  throw new HeadlessStepError(index, `drain: still busy after ${DRAIN_LIMIT_MS} ms`);
}

interface Line {
  readonly batch: string;
  readonly stan: string;
  readonly kind: string;
  readonly amount: number;
}

/** The host ledger against the terminal's log, as the virtual runner reports it. */
function reconcileEvent(sim: Sim): { ev: string } & Record<string, unknown> {
  const view = sim.host.ledger.view(sim.terminalId);
  const hostLines: Line[] = view.approved.transactions.map((l) => ({ batch: l.batch, stan: l.stan, kind: l.kind, amount: l.amount }));
  const journal = sim.terminal.journal;
  const log: SettledRecord[] = [...(journal?.settled ?? []), ...(journal?.approvedLog() ?? [])];
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
    terminal: { ...summary(terminalKeys, terminalLines), reversalsPending: journal?.pending().length ?? 0 },
  };
}

function matches(event: StampedEvent, partial: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(partial).every((k) => JSON.stringify(event[k]) === JSON.stringify(partial[k]));
}

function check(expectation: Expectation, events: readonly StampedEvent[]): string | undefined {
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
