/**
 * The test engineer's desk around one running simulator (the page's server):
 * settings and the time scale applied while it runs, a reset to a blank
 * terminal and host, a recorder that writes the session as a scenario file,
 * and a runner that plays a scenario file on the page with pass or fail.
 * A reset replaces the Sim (terminal, host, logs) in-process; the clock, the
 * settings and the capture stay.
 */
import fs from "node:fs";
import path from "node:path";
import { ParameterError, resolveParameters } from "../../modules/terminal/parameters";
import { parseFault } from "../host/faults";
import { buildImage, checkImageSpec, TmsPublishError } from "../host/tms";
import { nodeImageSigner } from "../host/tms-signing";
import { checkFaultSchema } from "../scenario/schema-check";
import type { TcpCapture } from "../pcap/pcap";
import { checkExpectations } from "../scenario/expectations";
import type { Expectation, Scenario, Step } from "../scenario/scenario-file";
import { startSim, type Sim, type SimOptions, type SimView, type StampedEvent } from "./app";
import { startNativeSim, type NativeSim, type NativeSimView } from "./native-app";
import { runSteps } from "./headless";
import { ScaledClock } from "./scaled-clock";
import { SettingsBusyError, type OperatorStep, type TerminalSettings } from "./terminal";

export interface DeskOptions {
  readonly varDir: string;
  /** False: flash, keys and ledger in RAM. */
  readonly persistent: boolean;
  readonly settings: TerminalSettings;
  readonly timeScale?: number;
  /** Host port; 0 = any free one (a reset may then get another). */
  readonly hostPort?: number;
  /** The terminal's connections since start, for `/capture.pcap` and `--pcap`. */
  readonly capture: TcpCapture;
  readonly keyLogPath?: string;
  /** The terminal behind the page: the firmware core in this process (default) or the Linux binary (native-app.ts). */
  readonly terminal?: "node" | "native";
  /** The Linux terminal binary (tests); default var/build/bin/lin/release/xspos. */
  readonly binary?: string;
}

/** The simulator behind the page, with either terminal. */
export type PageSim = Sim | NativeSim;
export type PageView = SimView | NativeSimView;

/** An action the desk refuses as asked (bad settings, busy): the page shows the message. */
export class DeskError extends Error {
  override readonly name = "DeskError";
}

export type PowerAction = "on" | "off" | "cut" | "cutAtNextFlashOp";

export interface ScenarioRun {
  readonly name: string;
  state: "running" | "passed" | "failed" | "aborted" | "error";
  /** The step running (0-based) and how many there are. */
  step: number;
  readonly steps: number;
  failures: string[];
}

/** Steps a recording keeps (the scenario file's own limit). */
const RECORDED_STEPS_MAX = 10_000;
const ADVANCE_MS_MAX = 24 * 60 * 60 * 1000;
/** Files a reset removes from the var dir: the terminal's flash and keys, the host's ledger. */
const RESET_FILES = Object.freeze(["flash.bin", "keys.json", "native", "host/ledger.db", "host/ledger.db-wal", "host/ledger.db-shm"]);
const NATIVE_REFUSED = "with --terminal native the page neither records nor plays scenarios: run them with --headless --script";

export class SimDesk {
  readonly #options: DeskOptions;
  readonly #clock: ScaledClock;
  /** The capture's time line: wall-clock ms at the clock's 0, the same for every Sim of this desk. */
  readonly #captureEpochMs: number;
  #settings: TerminalSettings;
  #sim: PageSim;
  #unsubscribe: () => void;
  readonly #listeners = new Set<() => void>();
  /** Recorded steps and the trace `t` of the last one, while recording. */
  #recording: { steps: Step[]; lastT: number } | undefined;
  #run: ScenarioRun | undefined;
  /** While a reset replaces the Sim, the old one is closed: the page sees the last view until the new one runs. */
  #replacing = false;
  #lastView: (PageView & { readonly desk: DeskView }) | undefined;
  /** Signs what the page publishes with the TEST release key (tools/host/test-keys), as the host's control API does. */
  readonly #signer = nodeImageSigner();

  private constructor(options: DeskOptions, clock: ScaledClock, captureEpochMs: number, sim: PageSim) {
    this.#options = options;
    this.#clock = clock;
    this.#captureEpochMs = captureEpochMs;
    this.#settings = options.settings;
    this.#sim = sim;
    this.#unsubscribe = sim.onChange(() => this.#changed());
  }

  static async start(options: DeskOptions): Promise<SimDesk> {
    const clock = new ScaledClock(options.timeScale ?? 1);
    // The terminal reports operator steps to the desk, which exists once the first Sim does.
    const holder: { desk?: SimDesk } = {};
    const captureEpochMs = Date.now() - clock.nowMs();
    const record = (step: OperatorStep) => holder.desk?.record(step as Step);
    const sim = await SimDesk.#startSim(SimDesk.#simOptions(options, clock, captureEpochMs, options.settings, record), options);
    holder.desk = new SimDesk(options, clock, captureEpochMs, sim);
    return holder.desk;
  }

  static #simOptions(
    options: DeskOptions,
    clock: ScaledClock,
    captureEpochMs: number,
    settings: TerminalSettings,
    onOperatorStep: (step: OperatorStep) => void,
  ) {
    return {
      varDir: options.varDir,
      persistent: options.persistent,
      clock,
      settings,
      hostPort: options.hostPort,
      capture: options.capture,
      captureEpochMs,
      keyLogPath: options.keyLogPath,
      onOperatorStep,
    };
  }

  static #startSim(simOptions: SimOptions, options: DeskOptions): Promise<PageSim> {
    return options.terminal === "native" ? startNativeSim({ ...simOptions, binary: options.binary }) : startSim(simOptions);
  }

  get sim(): PageSim {
    return this.#sim;
  }

  view(): PageView & { readonly desk: DeskView } {
    if (this.#replacing && this.#lastView !== undefined) return this.#lastView;
    return (this.#lastView = {
      ...this.#sim.view(),
      desk: {
        timeScale: this.#clock.scale,
        recording: this.#recording === undefined ? null : { steps: this.#recording.steps.length },
        run: this.#run ?? null,
      },
    });
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---------------------------------------------------------------- settings and time

  /**
   * New terminal settings from the page: the parameter table's values (checked by resolveParameters,
   * the one place) over the current ones, and the reversal backoff. Applied at once (terminal.ts).
   */
  applySettings(input: Readonly<Record<string, unknown>>): void {
    const { backoffMs, ...values } = input;
    let parameters;
    try {
      parameters = resolveParameters({ ...this.#settings.parameters, ...values });
    } catch (error) {
      if (error instanceof ParameterError) throw new DeskError(error.message);
      throw error;
    }
    if (backoffMs !== undefined && (!Array.isArray(backoffMs) || backoffMs.some((ms) => typeof ms !== "number")))
      throw new DeskError("backoffMs: must be a list of waits in ms");
    const settings = { parameters, backoffMs: (backoffMs as number[] | undefined) ?? this.#settings.backoffMs };
    try {
      this.#sim.terminal.applySettings(settings);
    } catch (error) {
      if (error instanceof RangeError || error instanceof SettingsBusyError) throw new DeskError(error.message);
      throw error;
    }
    this.#settings = settings;
    this.#changed();
  }

  /** The time scale, applied to timers already running too (scaled-clock.ts). */
  setTimeScale(scale: unknown): void {
    const before = this.#clock.scale;
    try {
      this.#clock.scale = scale as number;
      // The Linux terminal runs on real time with its timeouts provisioned divided by the scale: it restarts with them.
      if (this.#sim.kind === "native") this.#sim.terminal.applySettings(this.#settings);
    } catch (error) {
      this.#clock.scale = before;
      if (error instanceof RangeError || error instanceof SettingsBusyError) throw new DeskError(error.message);
      throw error;
    }
    this.#changed();
  }

  // ---------------------------------------------------------------- the operator's switches (recorded)

  power(action: PowerAction): void {
    const terminal = this.#sim.terminal;
    this.#refuseWhileRunning();
    switch (action) {
      case "on":
        this.record({ op: "powerOn" });
        return terminal.powerOn();
      case "off":
        this.record({ op: "powerOff" });
        return terminal.powerOff(true);
      case "cut":
        this.record({ op: "powerCut" });
        return terminal.powerOff(false);
      default:
        this.record({ op: "powerCut", atFlashOp: 1 });
        return terminal.cutAtFlashOp(1);
    }
  }

  network(change: { readonly down?: boolean; readonly latencyMs?: number }): void {
    this.#refuseWhileRunning();
    const sim = this.#sim;
    if (change.latencyMs !== undefined) sim.network.setLatency(change.latencyMs);
    if (change.down !== undefined) sim.network.setDown(change.down);
    this.record({
      op: "network",
      state: sim.network.down ? "down" : "up",
      ...(change.latencyMs !== undefined ? { latencyMs: change.latencyMs } : {}),
    });
    if (change.down === false) sim.terminal.linkRestored();
    sim.notify();
  }

  addFault(spec: unknown): void {
    this.#refuseWhileRunning();
    checkFaultSchema(spec);
    const fault = parseFault(spec);
    this.#sim.addFault(fault);
    this.record({ op: "hostFault", fault });
  }

  /**
   * The host's TMS publishes a test image (docs/tms.md "Test images"), checked as the control API checks it; the
   * terminal fetches it at its next sign-on or TMS check (docs/update.md). A scenario step when recording.
   */
  tmsPublish(spec: unknown): void {
    this.#refuseWhileRunning();
    let image;
    try {
      image = checkImageSpec(spec);
    } catch (error) {
      if (error instanceof TmsPublishError) throw new DeskError(`tmsPublish: ${error.message}`);
      throw error;
    }
    this.#sim.host.core.tms.publishImage(buildImage(image, this.#signer));
    this.record({ op: "tmsPublish", image });
    this.#sim.notify();
  }

  /** Not a scenario step: a recording notes nothing (faults left pending simply stay unused in a replay's drain). */
  clearFaults(): void {
    this.#sim.host.core.faults.clear();
    this.#sim.notify();
  }

  /** Refuses keypad and card actions while a scenario plays: its steps are the operator. */
  refuseWhileRunning(): void {
    this.#refuseWhileRunning();
  }

  // ---------------------------------------------------------------- reset, record, replay

  /** A blank terminal and host (flash, keys, ledger, logs), powered on, with the settings and time scale kept. */
  async reset(powerOn = true): Promise<void> {
    if (this.#run?.state === "running") this.#run.state = "aborted";
    this.#recording = undefined;
    await this.#replaceSim(this.#settings, powerOn);
  }

  /** Recording starts from a reset terminal, so the file plays back the same from a blank one. */
  async startRecording(): Promise<void> {
    this.#refuseWhileRunning();
    if (this.#sim.kind === "native") throw new DeskError(NATIVE_REFUSED);
    await this.reset(false);
    this.#recording = { steps: [], lastT: this.#sim.nowT() };
    this.power("on");
    this.#changed();
  }

  /** The session as a scenario file: the settings' parameters, the steps, a drain, and what happened as expectations. */
  stopRecording(): Scenario {
    const recording = this.#recording;
    if (recording === undefined) throw new DeskError("not recording");
    this.#recording = undefined;
    this.#changed();
    return {
      name: `recorded on the simulator page ${new Date().toISOString()}`,
      terminal: this.#settings.parameters,
      steps: [...recording.steps, { op: "drain" }],
      expect: expectationsOf(this.#sim.events),
    };
  }

  /** Plays a validated scenario from a reset terminal with its parameters; the view shows its progress and verdict. */
  async runScenario(scenario: Scenario): Promise<void> {
    this.#refuseWhileRunning();
    if (this.#sim.kind === "native") throw new DeskError(NATIVE_REFUSED);
    this.#recording = undefined;
    this.#settings = { parameters: scenario.terminal, backoffMs: this.#settings.backoffMs };
    await this.#replaceSim(this.#settings, false);
    const sim = this.#sim as Sim;
    const run: ScenarioRun = { name: scenario.name, state: "running", step: 0, steps: scenario.steps.length, failures: [] };
    this.#run = run;
    this.#changed();
    runSteps(sim, scenario, (index) => {
      if (run.state === "aborted") throw new DeskError("aborted by a reset");
      run.step = index;
      this.#changed();
    }).then(
      (reconcile) => {
        if (run.state !== "running") return;
        run.failures = checkExpectations(scenario.expect, [...sim.events, reconcile]);
        run.state = run.failures.length === 0 ? "passed" : "failed";
        this.#changed();
      },
      (error: unknown) => {
        if (run.state === "running") {
          run.state = "error";
          run.failures = [(error as Error).message];
        }
        this.#changed();
      },
    );
  }

  /** The trace since the last reset, one JSON event a line (the format of `xspos scenario`). */
  traceJsonl(): string {
    return this.#sim.events.map((event) => `${JSON.stringify(event)}\n`).join("");
  }

  async close(): Promise<void> {
    if (this.#run?.state === "running") this.#run.state = "aborted";
    this.#unsubscribe();
    this.#listeners.clear();
    await this.#sim.close();
  }

  #refuseWhileRunning(): void {
    if (this.#run?.state === "running") throw new DeskError("a scenario is running: wait for its verdict or reset");
  }

  async #replaceSim(settings: TerminalSettings, powerOn: boolean): Promise<void> {
    if (this.#replacing) throw new DeskError("a reset is in progress");
    this.view();
    this.#replacing = true;
    try {
      this.#unsubscribe();
      await this.#sim.close();
      if (this.#options.persistent)
        for (const file of RESET_FILES) fs.rmSync(path.join(this.#options.varDir, file), { recursive: true, force: true });
      this.#sim = await SimDesk.#startSim(
        SimDesk.#simOptions(this.#options, this.#clock, this.#captureEpochMs, settings, (step) => this.record(step as Step)),
        this.#options,
      );
      this.#unsubscribe = this.#sim.onChange(() => this.#changed());
    } finally {
      this.#replacing = false;
    }
    if (powerOn) this.#sim.terminal.powerOn();
    this.#changed();
  }

  /** A step of the session being recorded (operator steps come from the terminal, switches from the desk). */
  record(step: Step): void {
    const recording = this.#recording;
    if (recording === undefined || recording.steps.length >= RECORDED_STEPS_MAX - 2) return;
    const t = this.#sim.nowT();
    const gapMs = Math.min(ADVANCE_MS_MAX, t - recording.lastT);
    if (gapMs > 0 && recording.steps.length > 0) recording.steps.push({ op: "advance", ms: gapMs });
    recording.steps.push(step);
    recording.lastT = t;
    this.#changed();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

export interface DeskView {
  readonly timeScale: number;
  readonly recording: { readonly steps: number } | null;
  readonly run: ScenarioRun | null;
}

/** What a recorded session is expected to do again: every result, and how each reversal ended. */
function expectationsOf(events: readonly StampedEvent[]): Expectation[] {
  const seen = new Set<string>();
  const out: Expectation[] = [];
  const add = (has: Record<string, unknown>) => {
    const key = JSON.stringify(has);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ has });
  };
  const lastState = new Map<string, string>();
  for (const e of events) {
    if (e.ev === "result") add({ ev: "result", op: e.op, outcome: e.outcome, ...(e.stan !== undefined ? { stan: e.stan } : {}) });
    if (e.ev === "journal") lastState.set(String(e.stan), String(e.state));
  }
  for (const [stan, state] of lastState) if (state === "reversed" || state === "failed") add({ ev: "journal", stan, state });
  return out;
}
