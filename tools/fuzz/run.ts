/**
 * The fuzz loop and its watchdog. The loop runs in a child process that
 * reports progress; the parent kills it when one input takes longer than the
 * watchdog allows (synchronous code cannot be interrupted from inside), and
 * reports the inputs in flight. The watchdog counts the child's CPU time
 * (/proc on Linux; wall time elsewhere), so a child starved by a busy machine
 * is not mistaken for a slow input. Input i is made from its own seeded random
 * (seed, i), so `--from i --inputs 1` replays it (host: from its window start).
 */
import { fork } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { toHex } from "../../modules/base/hex";
import { SeededRandom } from "../../modules/platform/random";
import { FuzzFinding, makeTarget, TARGET_NAMES, type FuzzTarget, type TargetName } from "./targets";

export interface FuzzSummary {
  inputs: number;
  typedErrors: number;
  untyped: number;
  slowest_ms: number;
}

export interface Finding {
  readonly index: number;
  readonly message: string;
  /** The input, uppercase hex (at most the first 512 bytes). */
  readonly inputHex: string;
}

/** Input index range per seed (input random = seed · 2²⁴ + index). */
export const INPUTS_MAX = 2 ** 24;
export const SEED_MAX = 2 ** 28;
const PROGRESS_EVERY = 1024;
/** What PROGRESS_EVERY ordinary inputs may take on a busy machine, on top of the watchdog. */
const PROGRESS_SLACK_MS = 1000;
const FINDINGS_REPORTED_MAX = 100;
const HEX_BYTES_MAX = 512;

type ChildMessage =
  | { readonly kind: "progress"; readonly next: number }
  | { readonly kind: "finding"; readonly finding: Finding }
  | { readonly kind: "done"; readonly summary: FuzzSummary };

/** Runs inputs from..from+count-1 of `target` here; calls back per finding and every PROGRESS_EVERY inputs. */
export function fuzzHere(
  which: TargetName | FuzzTarget,
  seed: number,
  from: number,
  count: number,
  onFinding: (finding: Finding) => void,
  onProgress: (next: number) => void = () => undefined,
): FuzzSummary {
  const target = typeof which === "string" ? makeTarget(which) : which;
  const summary: FuzzSummary = { inputs: 0, typedErrors: 0, untyped: 0, slowest_ms: 0 };
  for (let index = from; index < from + count; index++) {
    if ((index - from) % PROGRESS_EVERY === 0) onProgress(index);
    const input = target.input(new SeededRandom(seed * INPUTS_MAX + index), index);
    const started = performance.now();
    let failure: string | undefined;
    try {
      if (target.run(input, index) === "typed") summary.typedErrors++;
    } catch (error) {
      failure =
        error instanceof FuzzFinding
          ? error.message
          : `untyped ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
    summary.slowest_ms = Math.max(summary.slowest_ms, performance.now() - started);
    summary.inputs++;
    if (failure !== undefined) {
      summary.untyped++;
      if (summary.untyped <= FINDINGS_REPORTED_MAX)
        onFinding({ index, message: failure, inputHex: toHex(input.subarray(0, HEX_BYTES_MAX)) });
    }
  }
  return summary;
}

/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU milliseconds `pid` has used (user + system), or wall time when /proc cannot tell. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return performance.now();
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command's closing parenthesis start at field 3; utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return performance.now();
  }
}

/** Runs the loop in a child; an input that holds it longer than `watchdogMs` kills it and counts as a finding. */
export function fuzz(
  name: TargetName,
  seed: number,
  from: number,
  count: number,
  watchdogMs: number,
  onFinding: (finding: Finding) => void,
): Promise<FuzzSummary> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child", name, String(seed), String(from), String(count)], {
      execArgv: ["--import", import.meta.resolve("tsx"), "--no-warnings=ExperimentalWarning"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let lastProgress = from;
    // Armed by the child's first report: loading it and building the seeds are not an input.
    let lastProgressCpuMs: number | undefined;
    let finished = false;
    const watchdog = setInterval(
      () => {
        if (lastProgressCpuMs === undefined || cpuMs(child.pid) - lastProgressCpuMs <= watchdogMs + PROGRESS_SLACK_MS) return;
        finished = true;
        clearInterval(watchdog);
        child.kill("SIGKILL");
        const last = Math.min(from + count, lastProgress + PROGRESS_EVERY) - 1;
        onFinding({
          index: lastProgress,
          message: `watchdog: an input in #${lastProgress}..#${last} ran over ${watchdogMs} ms`,
          inputHex: "",
        });
        resolve({ inputs: lastProgress - from, typedErrors: 0, untyped: 1, slowest_ms: watchdogMs });
      },
      Math.min(1000, watchdogMs),
    );
    child.on("message", (message: ChildMessage) => {
      if (message.kind === "progress") {
        lastProgress = message.next;
        lastProgressCpuMs = cpuMs(child.pid);
      } else if (message.kind === "finding") {
        onFinding(message.finding);
      } else {
        finished = true;
        clearInterval(watchdog);
        resolve(message.summary);
      }
    });
    child.on("exit", (code) => {
      clearInterval(watchdog);
      if (!finished) reject(new Error(`fuzz child exited with code ${code} before it finished`));
    });
  });
}

// The child: argv --child NAME SEED FROM COUNT.
if (process.argv[2] === "--child" && process.send !== undefined) {
  const [name, seed, from, count] = process.argv.slice(3);
  if (!(TARGET_NAMES as readonly string[]).includes(name)) throw new Error(`unknown target ${name}`);
  const send = (message: ChildMessage): void => void process.send!(message);
  const summary = fuzzHere(
    name as TargetName,
    Number(seed),
    Number(from),
    Number(count),
    (finding) => send({ kind: "finding", finding }),
    (next) => send({ kind: "progress", next }),
  );
  process.send({ kind: "done", summary } satisfies ChildMessage, () => process.disconnect());
}
