/**
 * `xspos sim --headless --script FILE.json`: a scenario file (the format of
 * `xspos scenario`) run in real time against the real TLS host, printing the
 * same events. Operations are started, not awaited, as in the virtual runner;
 * `advance` sleeps, `drain` waits until the terminal has been idle for a
 * moment. `timeScale` runs the terminal's clock (and host delay faults) that
 * many times faster, so a 60 s response timeout can take 0.6 s; `t` stays in
 * scenario milliseconds.
 */
import { TxnRequestError } from "../../modules/txn/engine";
import { XSPOS_POLICY } from "../../modules/txn/reversal-policy";
import { checkExpectations } from "../scenario/expectations";
import { reconcileEvent } from "../scenario/reconcile";
import { ScenarioStepError } from "../scenario/runner";
import type { Scenario, Step } from "../scenario/scenario-file";
import { startSim, type Sim, type StampedEvent } from "./app";
import type { TcpCapture } from "../pcap/pcap";
import { ScaledClock } from "./scaled-clock";
import { approvedList } from "../scenario/forwarding-journal";

export interface HeadlessOptions {
  readonly varDir: string;
  readonly timeScale: number;
  readonly onEvent: (event: StampedEvent) => void;
  /** Records the terminal's connections (`--pcap`). */
  readonly capture?: TcpCapture;
  /** SSLKEYLOGFILE: where the terminal's TLS secrets go. */
  readonly keyLogPath?: string;
}

export interface HeadlessRun {
  readonly events: readonly StampedEvent[];
  readonly failures: readonly string[];
}

/** A step that cannot run as written: exit 2 (the scenario runner's error, under the name `xspos sim` catches). */
export { ScenarioStepError as HeadlessStepError } from "../scenario/runner";

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
    settings: { parameters: scenario.terminal, backoffMs: XSPOS_POLICY.backoffMs },
    capture: options.capture,
    keyLogPath: options.keyLogPath,
    onEvent: (event) => {
      events.push(event);
      options.onEvent(event);
    },
  });
  try {
    const reconcile = await runSteps(sim, scenario);
    events.push(reconcile);
    options.onEvent(reconcile);
    return { events, failures: checkExpectations(scenario.expect, events) };
  } finally {
    await sim.close();
  }
}

/**
 * A scenario's steps on a running simulator at its clock's time scale (read at every step: the page
 * may change it), then a drain and the reconcile event (returned, not added to the trace).
 */
export async function runSteps(sim: Sim, scenario: Scenario, onStep?: (index: number) => void): Promise<StampedEvent> {
  const quietMs = () => Math.max(DRAIN_QUIET_MS_MIN, sim.terminal.parameters.responseTimeoutMs / sim.clock.scale);
  for (const [index, step] of scenario.steps.entries()) {
    onStep?.(index);
    await runStep(sim, step, index, quietMs());
  }
  if (sim.terminal.powered) await drain(sim, -1, quietMs());
  const journal = sim.terminal.journal;
  return {
    t: sim.nowT(),
    ...reconcileEvent(sim.host.ledger, sim.terminalId, {
      settled: journal?.settled ?? [],
      approved: journal === undefined ? [] : approvedList(journal),
      reversalsPending: journal?.pending().length ?? 0,
    }),
  };
}

async function runStep(sim: Sim, step: Step, index: number, quietMs: number): Promise<void> {
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
        return await sleep(step.ms / sim.clock.scale);
      case "drain":
        return await drain(sim, index, quietMs);
      case "hostFault":
        return sim.addFault(step.fault);
      case "network":
        if (step.latencyMs !== undefined) sim.network.setLatency(step.latencyMs);
        sim.network.setDown(step.state === "down");
        if (step.state === "up") terminal.linkRestored();
        return;
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
    if (error instanceof TxnRequestError) throw new ScenarioStepError(index, error.message);
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
  throw new ScenarioStepError(index, `drain: still busy after ${DRAIN_LIMIT_MS} ms`);
}
