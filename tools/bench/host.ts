/**
 * `xspos bench host [--terminals N] [--seconds S] [--fault-rate R] [--rate TPS]`:
 * N concurrent TLS terminals sign on and sell for S seconds against the host
 * simulator with a fault mix (1% by default, injected through the control
 * API). The host runs in a child process so that client and server each get
 * a core. Afterwards every terminal's belief (approved and not reversed) must
 * equal the host ledger exactly. Traffic goes to 127.0.0.1 only.
 *
 * Without --rate every terminal sells back to back (closed loop: the figure is
 * the host's capacity, and latency is queueing by Little's law). With --rate
 * the terminals together offer TPS sales a second, each on its own schedule,
 * as real terminals do: the latency figure is then the host's answer time
 * at that load.
 */
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "../../modules/platform/random";
import { integerOption, parseOptions, UsageError } from "../cli/command";
import type { Benchmark } from "../cli/commands/bench";
import { startHost } from "../host/app";
import type { ReconcileView } from "../host/ledger";
import { benchTerminal, DEFAULT_TERMINALS } from "../host/terminals";
import { connectLink, TestTerminal, type Link } from "../host/test-terminal";
import type { IsoMessage } from "../../modules/iso8583/codec";

const TERMINALS_MAX = 2000;
const SECONDS_MAX = 600;
const RESPONSE_TIMEOUT_MS = 2000;
/** Hundreds of handshakes and sign-ons at once on a busy machine take a while; sign-ons are not measured. */
const SIGN_ON_TIMEOUT_MS = 30_000;
const REVERSAL_ATTEMPTS_MAX = 10;
const CONNECT_ATTEMPTS_MAX = 5;
/** The mix: faults that lose or spoil a processed sale, one that drops it unread, a late answer, a decline. */
const FAULT_MIX: readonly Record<string, unknown>[] = Object.freeze([
  { kind: "noResponse" },
  { kind: "closeAfterRead" },
  { kind: "closeMidResponse" },
  { kind: "badMac" },
  { kind: "duplicateResponse" },
  { kind: "wrongStan" },
  { kind: "closeBeforeRead" },
  { kind: "delay", ms: 1500 },
  { kind: "decline", code: "05" },
]);
const CARD = Object.freeze({ pan: "6228480000000015", expiry: "3012", pin: "1234" });
const CHILD_FLAG = "XSPOS_BENCH_HOST_CHILD";

interface HostReady {
  port: number;
  controlUrl: string;
  ca: string;
}

interface TerminalTally {
  tid: string;
  approvedCount: number;
  approvedAmount: number;
  sales: number;
  faultsSeen: number;
  reversals: number;
  unresolved: number;
  latenciesMs: number[];
}

/** The host side, in the child process: serve; answer "cpu" with its CPU seconds; exit on "stop". */
async function runChild(): Promise<void> {
  const varDir = process.env.XSPOS_BENCH_HOST_VAR!;
  const count = Number(process.env.XSPOS_BENCH_HOST_TERMINALS);
  const terminals = [...DEFAULT_TERMINALS, ...Array.from({ length: count }, (_, i) => benchTerminal(i))];
  const app = await startHost({
    varDir,
    db: path.join(varDir, "ledger.db"),
    port: 0,
    controlPort: 0,
    terminals,
    clientCertificateTids: [],
  });
  process.on("message", (message) => {
    if (message === "cpu") {
      const cpu = process.cpuUsage();
      process.send!({ cpuS: (cpu.user + cpu.system) / 1e6 });
    } else void app.close().then(() => process.exit(0));
  });
  process.send!({ port: app.address.port, controlUrl: app.controlUrl, ca: app.pki!.ca.cert } satisfies HostReady);
}

function startChild(varDir: string, terminals: number): Promise<{ child: ChildProcess; ready: HostReady }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ["--import", import.meta.resolve("tsx"), "--no-warnings=ExperimentalWarning"],
      env: { ...process.env, [CHILD_FLAG]: "1", XSPOS_BENCH_HOST_VAR: varDir, XSPOS_BENCH_HOST_TERMINALS: String(terminals) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (ready) => resolve({ child, ready: ready as HostReady }));
    child.once("exit", (code) => reject(new Error(`bench host process exited with ${code} before it was ready`)));
  });
}

function hostCpuSeconds(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once("message", (message) => resolve((message as { cpuS: number }).cpuS));
    child.send("cpu");
  });
}

async function connect(ready: HostReady, ca: Buffer): Promise<Link> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectLink({ port: ready.port, ca, servername: "localhost" });
    } catch (error) {
      if (attempt >= CONNECT_ATTEMPTS_MAX) throw error;
    }
  }
}

/** Waits for the answer with this STAN; answers to other messages (duplicates, late ones, wrong STAN) are discarded. */
async function awaitAnswer(terminal: TestTerminal, link: Link, stan: string, timeoutMs: number): Promise<Answer | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    const bytes = await link.next(left);
    if (bytes === undefined) return undefined;
    const message = terminal.decode(bytes);
    if (message.fields[11] === stan) return { bytes, message };
  }
}

interface Answer {
  readonly bytes: Uint8Array;
  readonly message: IsoMessage;
}

interface RunWindow {
  readonly terminals: number;
  /** Resolves when every terminal has signed on: sales start together, so the window holds sales only. */
  readonly start: Promise<void>;
  signedOn(): void;
  endAt: number;
}

/** One terminal: sign on, then sales until the window ends; any doubt about a sale ends in a reversal. */
async function runTerminal(
  index: number,
  ready: HostReady,
  ca: Buffer,
  window: RunWindow,
  faultRate: number,
  tally: TerminalTally,
  intervalMs: number | undefined,
): Promise<void> {
  const terminal = new TestTerminal(benchTerminal(index));
  const random = new SeededRandom(index + 1);
  let link = await connect(ready, ca);
  let stan = 0;
  const nextStan = (): string => String((stan = (stan % 999_999) + 1)).padStart(6, "0");
  const exchange = async (request: Uint8Array, requestStan: string, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<Answer | undefined> => {
    if (link.isClosed) link = await connect(ready, ca);
    link.send(request);
    return awaitAnswer(terminal, link, requestStan, timeoutMs);
  };
  const signOnStan = nextStan();
  const signOn = await exchange(terminal.signOn(signOnStan), signOnStan, SIGN_ON_TIMEOUT_MS);
  if (signOn === undefined) throw new Error(`terminal ${terminal.terminal.tid} got no answer to its sign-on`);
  terminal.acceptSignOn(signOn.bytes);
  window.signedOn();
  await window.start;

  // Paced terminals start staggered over one interval so that the offered load is even.
  let nextSaleAt = intervalMs === undefined ? 0 : performance.now() + (intervalMs * index) / window.terminals;
  while (performance.now() < window.endAt) {
    if (intervalMs !== undefined) {
      const waitMs = nextSaleAt - performance.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      nextSaleAt += intervalMs;
      if (performance.now() >= window.endAt) break;
    }
    if (random.chance(faultRate)) {
      await postFault(ready.controlUrl, JSON.stringify({ ...random.pick(FAULT_MIX), mti: "0200" }));
    }
    const saleStan = nextStan();
    const amount = 1 + random.below(99_999);
    const sale = terminal.saleMessage({ ...CARD, stan: saleStan, amount });
    const started = performance.now();
    const answer = await exchange(terminal.encode(sale), saleStan);
    tally.sales += 1;
    const f39 = answer?.message.fields[39];
    if (answer !== undefined && (f39 !== "00" || terminal.macValid(answer.bytes))) {
      tally.latenciesMs.push(performance.now() - started);
      if (f39 === "00") {
        tally.approvedCount += 1;
        tally.approvedAmount += amount;
      } else tally.faultsSeen += 1;
      continue;
    }
    // No answer (98) or an answer that fails its MAC (A0): reverse until the host answers definitively.
    tally.faultsSeen += 1;
    const reversal = terminal.reversal(sale, answer === undefined ? "98" : "A0");
    let resolved = false;
    for (let attempt = 0; attempt < REVERSAL_ATTEMPTS_MAX && !resolved; attempt++) {
      tally.reversals += 1;
      const reply = await exchange(reversal, saleStan);
      const code = reply?.message.fields[39];
      resolved = code === "00" || code === "25";
    }
    if (!resolved) tally.unresolved += 1;
  }
  link.close();
}

/**
 * Posts a fault over one kept-alive connection. fetch() here cost the client enough CPU and garbage to
 * show up in the sales' p99: the bench must measure the host, not its own fault injection.
 */
const controlAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function postFault(controlUrl: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${controlUrl}/faults`,
      { method: "POST", agent: controlAgent, headers: { "content-type": "application/json" } },
      (response) => {
        response.resume();
        response.on("end", () => resolve());
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function runWindow(terminals: number): RunWindow {
  let release: () => void = () => undefined;
  let waiting = terminals;
  const start = new Promise<void>((resolve) => (release = resolve));
  return {
    terminals,
    start,
    signedOn() {
      waiting -= 1;
      if (waiting === 0) release();
    },
    endAt: Infinity,
  };
}

async function run(args: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseOptions(
    args,
    { terminals: { type: "string" }, seconds: { type: "string" }, "fault-rate": { type: "string" }, rate: { type: "string" } },
    false,
  );
  const terminals = integerOption(values.terminals, "terminals", 200, 1, TERMINALS_MAX);
  const seconds = integerOption(values.seconds, "seconds", 10, 1, SECONDS_MAX);
  const faultRate = values["fault-rate"] === undefined ? 0.01 : Number(values["fault-rate"]);
  if (!(faultRate >= 0 && faultRate <= 1)) throw new UsageError("--fault-rate must be a number from 0 to 1");
  const rate = values.rate === undefined ? undefined : integerOption(values.rate, "rate", 0, 1, 100_000);
  const intervalMs = rate === undefined ? undefined : (terminals * 1000) / rate;

  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-bench-host-"));
  const { child, ready } = await startChild(varDir, terminals);
  try {
    const ca = fs.readFileSync(ready.ca);
    const tallies: TerminalTally[] = Array.from({ length: terminals }, (_, i) => ({
      tid: benchTerminal(i).tid,
      approvedCount: 0,
      approvedAmount: 0,
      sales: 0,
      faultsSeen: 0,
      reversals: 0,
      unresolved: 0,
      latenciesMs: [],
    }));
    const window = runWindow(terminals);
    const running = Promise.all(tallies.map((tally, i) => runTerminal(i, ready, ca, window, faultRate, tally, intervalMs)));
    await Promise.race([window.start, running]);
    const hostCpuBefore = await hostCpuSeconds(child);
    const clientCpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    window.endAt = startedAt + seconds * 1000;
    await running;
    const elapsedS = (performance.now() - startedAt) / 1000;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const hostCpuS = (await hostCpuSeconds(child)) - hostCpuBefore;

    let mismatches = 0;
    for (const tally of tallies) {
      const view = (await (await fetch(`${ready.controlUrl}/ledger?tid=${tally.tid}`)).json()) as ReconcileView;
      if (view.approved.count !== tally.approvedCount || view.net !== tally.approvedAmount) mismatches += 1;
    }
    const latencies = tallies.flatMap((t) => t.latenciesMs).sort((a, b) => a - b);
    const sum = (pick: (t: TerminalTally) => number): number => tallies.reduce((s, t) => s + pick(t), 0);
    const sales = sum((t) => t.sales);
    const figures = {
      terminals,
      offeredTps: rate ?? "closed loop",
      seconds: Number(elapsedS.toFixed(2)),
      sales,
      // Sales start only inside the window and every one completes (answer or reversal), so the rate is
      // sales over the window; `seconds` also holds the tail in which the last reversals finished.
      tps: Math.round(sales / seconds),
      p50Ms: Number(percentile(latencies, 50).toFixed(2)),
      p99Ms: Number(percentile(latencies, 99).toFixed(2)),
      faultsSeen: sum((t) => t.faultsSeen),
      reversals: sum((t) => t.reversals),
      unresolved: sum((t) => t.unresolved),
      /** CPU per sale: what the figures would be on idle cores (TPS on one core = 1e6 / hostCpuUsPerSale). */
      hostCpuUsPerSale: Math.round((hostCpuS * 1e6) / Math.max(1, sales)),
      clientCpuUsPerSale: Math.round(((clientCpu.user + clientCpu.system) / Math.max(1, sales)) | 0),
      reconciled: mismatches === 0,
      mismatchedTerminals: mismatches,
    };
    console.log(
      `${figures.terminals} TLS terminals (${rate === undefined ? "closed loop" : `offered ${rate} TPS`}), ${figures.seconds} s: ${figures.sales} sales, ${figures.tps} TPS, ` +
        `p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms; ${figures.faultsSeen} faults seen, ${figures.reversals} reversals sent; ` +
        `CPU per sale: host ${figures.hostCpuUsPerSale} us, client ${figures.clientCpuUsPerSale} us; ` +
        `ledger ${figures.reconciled ? "reconciles exactly" : `DOES NOT reconcile (${mismatches} terminals)`}`,
    );
    return figures;
  } finally {
    if (child.exitCode === null) {
      child.send("stop");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    fs.rmSync(varDir, { recursive: true, force: true });
  }
}

export const benchmark: Benchmark = {
  summary: "host simulator: concurrent TLS terminals, sales with a fault mix, TPS and latency, exact reconciliation",
  run,
};

if (process.env[CHILD_FLAG] === "1") await runChild();
