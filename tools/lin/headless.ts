/**
 * `xspos sim --terminal native --headless --script FILE.json`: a scenario
 * file (the format of `xspos scenario`) run by the Linux terminal
 * (hosts/lin) against the host simulator over real TLS on loopback,
 * printing the same events, then the reconcile event and the scenario's
 * expectations. Power steps act on the process: powerOn starts it on the
 * same flash file and NVS, powerOff ends it (quit), powerCut kills it with
 * SIGKILL, or cuts the power inside the k-th flash erase or program from
 * now (`atFlashOp`).
 *
 * The native terminal runs on real time: `timeScale` divides the terminal's
 * timeouts, the host's delay faults and `advance`, and multiplies `t`, so
 * events stay in scenario milliseconds. Cards are swiped (the native
 * terminal has no chip or contactless reader emulators); network steps have
 * no native counterpart. Either is a step error.
 */
import path from "node:path";
import { TEST_CARDS } from "../../modules/card/test-cards";
import { startHost } from "../host/app";
import { parseFault } from "../host/faults";
import { checkExpectations } from "../scenario/expectations";
import { reconcileEvent, type SettledRecord } from "../scenario/reconcile";
import { ScenarioStepError } from "../scenario/runner";
import type { Scenario, Step } from "../scenario/scenario-file";
import { NATIVE_TID, NativeTerminal, provisionForHost, swipeBits, type Line } from "./native-terminal";

export interface NativeHeadlessOptions {
  readonly varDir: string;
  readonly timeScale: number;
  readonly onEvent: (event: Line) => void;
}

const POLL_MS = 50;
const DRAIN_QUIET_MS_MIN = 300;
const DRAIN_LIMIT_MS = 120_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Journal {
  readonly approved: SettledRecord[];
  readonly pending: unknown[];
  readonly idle: boolean;
}

export async function runNativeHeadless(
  scenario: Scenario,
  options: NativeHeadlessOptions,
): Promise<{ events: Line[]; failures: string[] }> {
  const scale = options.timeScale;
  const events: Line[] = [];
  const host = await startHost({ varDir: path.join(options.varDir, "host"), db: ":memory:", port: 0, controlPort: 0 });
  const flash = path.join(options.varDir, "flash.bin");
  const nvs = path.join(options.varDir, "nvs");
  let terminal: NativeTerminal | undefined;
  let seen = 0;
  let lastT = 0;
  /** Each process's clock starts at 0: its events continue the scenario's time from its power-on. */
  let bootT = 0;
  const settled: SettledRecord[] = [];
  const emit = (event: Line) => {
    events.push(event);
    options.onEvent(event);
  };
  // Terminal events in scenario milliseconds; screens, slips, logs and replies stay off the trace.
  const forward = () => {
    if (terminal === undefined) return;
    for (; seen < terminal.lines.length; seen++) {
      const line = terminal.lines[seen]!;
      if (typeof line.ev !== "string" || typeof line.t !== "number") continue;
      lastT = bootT + line.t * scale;
      emit({ ...line, t: lastT });
    }
  };
  const journalOf = (): Promise<Journal> => terminal!.journal(10_000);
  const drain = async (index: number) => {
    const quietNeeded = Math.max(DRAIN_QUIET_MS_MIN, scenario.terminal.responseTimeoutMs / scale);
    let quiet = 0;
    for (let waited = 0; waited < DRAIN_LIMIT_MS; waited += POLL_MS) {
      if (terminal === undefined || !terminal.running) return;
      quiet = (await journalOf()).idle ? quiet + POLL_MS : 0;
      forward();
      if (quiet >= quietNeeded) return;
      await sleep(POLL_MS);
    }
    throw new ScenarioStepError(index, `drain: still busy after ${DRAIN_LIMIT_MS} ms`);
  };
  const powerOff = async (state: "off" | "cut") => {
    if (terminal === undefined) return;
    // What settlement closed leaves the journal: keep the approvals for the reconcile before the power goes.
    if (state === "off") await terminal.quit();
    else await terminal.kill();
    forward();
    emit({ t: lastT, ev: "power", state });
    terminal = undefined;
  };
  const step = async (s: Step, index: number): Promise<void> => {
    if (s.op === "powerOn") {
      if (terminal !== undefined) return;
      terminal = new NativeTerminal({ flash, nvs });
      seen = 0;
      bootT = lastT;
      emit({ t: lastT, ev: "power", state: "on" });
      await terminal.waitFor((l) => l.ev === "boot", 10_000, 0);
      return forward();
    }
    if (s.op === "powerOff") return powerOff("off");
    if (s.op === "powerCut") {
      if (s.atFlashOp === undefined) return powerOff("cut");
      terminal?.send({ cutAtFlashOp: s.atFlashOp });
      return;
    }
    if (s.op === "advance") {
      await sleep(s.ms / scale);
      return forward();
    }
    if (s.op === "drain") return drain(index);
    if (s.op === "hostFault") {
      const fault = s.fault.kind === "delay" && s.fault.ms !== undefined ? { ...s.fault, ms: Math.ceil(s.fault.ms / scale) } : s.fault;
      return host.core.faults.add(parseFault(fault));
    }
    if (s.op === "network")
      throw new ScenarioStepError(index, "network steps have no native counterpart (the native terminal uses the machine's network)");
    if (terminal === undefined || !terminal.running) throw new ScenarioStepError(index, "the terminal is off: powerOn first");
    const command: Record<string, unknown> = { run: s.op };
    if ("card" in s) {
      const card = TEST_CARDS.find((c) => c.name === s.card);
      if (card === undefined || card.entry !== "swipe")
        throw new ScenarioStepError(index, `card ${s.card}: the native terminal takes swipe cards only`);
      Object.assign(command, { swipe: swipeBits(card.name), pin: s.pin ?? card.pin });
    }
    if ("amount" in s) command.amount = s.amount;
    if ("stan" in s && s.stan !== undefined) command.stan = s.stan;
    // A settlement clears the open batch from the journal: what it closed is read first, for the reconcile.
    if (s.op === "settle") settled.push(...(await journalOf()).approved);
    const from = terminal.lines.length;
    terminal.send(command);
    const reply = await terminal.waitFor((l) => l.accepted === s.op || l.error !== undefined, 10_000, from);
    if (reply.error !== undefined) throw new ScenarioStepError(index, String(reply.detail));
    forward();
  };
  try {
    provisionForHost(nvs, host, {
      ...scenario.terminal,
      responseTimeoutMs: Math.max(1, Math.ceil(scenario.terminal.responseTimeoutMs / scale)),
      connectTimeoutMs: Math.max(1, Math.ceil(scenario.terminal.connectTimeoutMs / scale)),
    });
    for (const [index, s] of scenario.steps.entries()) await step(s, index);
    if (terminal !== undefined) await drain(-1);
    let journal: Journal = { approved: [], pending: [], idle: true };
    if (terminal !== undefined) journal = await journalOf();
    forward();
    const stillSettled = settled.filter((r) => !journal.approved.some((a) => a.batch === r.batch && a.stan === r.stan));
    emit({
      t: lastT,
      ...reconcileEvent(host.ledger, NATIVE_TID, {
        settled: stillSettled,
        approved: journal.approved,
        reversalsPending: journal.pending.length,
      }),
    });
    return { events, failures: checkExpectations(scenario.expect, events as Parameters<typeof checkExpectations>[1]) };
  } finally {
    await terminal?.kill();
    await host.close();
  }
}
