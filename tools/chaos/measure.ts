/**
 * The process `xspos bench chaos` measures (tools/bench/chaos.ts starts it from an esbuild bundle of this
 * file, as the chaos workers run): warm-up seeds, then the measured seeds in this one thread, timed by
 * the process's CPU time and by the wall clock. Its request comes on stdin, its figures go to stdout as
 * one JSON line. A process of its own so that the CPU time is the seeds' alone; with `profile`, V8's sampling
 * profiler (node:inspector) runs around the measured seeds only.
 */
import fs from "node:fs";
import { Session } from "node:inspector/promises";
import type { Profiler } from "node:inspector";
import { nodeImageSigner } from "../host/tms-signing";
import { runRange } from "./range";
import { addSeed, emptyTotals, runDigest } from "./report";
import { runSeed } from "./run";

export interface MeasureRequest {
  readonly from: number;
  readonly seeds: number;
  /** Seeds run first and not counted (the JIT settles), drawn far from the measured ones. */
  readonly warmupSeeds: number;
  /** The TMS signing key (the TEST key): this bundle cannot locate tools/host/test-keys. */
  readonly keyPem: string;
  /** Sample the measured seeds with V8's CPU profiler and say where their time went. */
  readonly profile: boolean;
}

export interface MeasureResult {
  readonly seeds: number;
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly violations: number;
  readonly transactions: number;
  readonly reversals: number;
  readonly digest: string;
  /** With `profile`: share of the samples (0..1) by where the code comes from (see `sourceOf`). */
  readonly timeBySource?: Readonly<Record<string, number>>;
}

/** Sampling interval of the profile: fine enough for a few thousand samples in a second of seeds. */
const PROFILE_INTERVAL_MICROS = 250;

/** Warm-up seeds start here, past any range a bench run measures by default. */
const WARMUP_FROM = 1_000_000_000;

// As in the chaos workers (tools/chaos/worker.ts): errors are control flow here and nothing reads their stacks.
Error.stackTraceLimit = 0;

async function main(): Promise<void> {
  const request = JSON.parse(fs.readFileSync(0, "utf8")) as MeasureRequest;
  const imageSigner = nodeImageSigner(request.keyPem);
  if (request.warmupSeeds > 0) runRange({ from: WARMUP_FROM, seeds: request.warmupSeeds }, { imageSigner });
  const session = request.profile ? new Session() : undefined;
  if (session !== undefined) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: PROFILE_INTERVAL_MICROS });
    await session.post("Profiler.start");
  }
  // Only the seeds are timed: each seed's digest (a hash over its events) is taken between the timings.
  const totals = emptyTotals(true);
  let cpuMicros = 0;
  let wallMs = 0;
  for (let seed = request.from; seed < request.from + request.seeds; seed++) {
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const outcome = runSeed(seed, { imageSigner });
    wallMs += performance.now() - wallBefore;
    const cpu = process.cpuUsage(cpuBefore);
    cpuMicros += cpu.user + cpu.system;
    addSeed(totals, outcome);
  }
  const profile = session === undefined ? undefined : (await session.post("Profiler.stop")).profile;
  const result: MeasureResult = {
    seeds: totals.seeds,
    cpuMs: cpuMicros / 1000,
    wallMs,
    violations: totals.violations,
    transactions: totals.transactions,
    reversals: totals.reversals,
    digest: runDigest(totals)!,
    ...(profile === undefined ? {} : { timeBySource: timeBySource(profile, fs.readFileSync(process.argv[1], "utf8")) }),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

/**
 * Where a sample's time goes, read off this bundle: esbuild heads each source file's part with a `// path`
 * comment. `core:<room>` is the terminal's firmware (modules/, its emulators apart), `emulators` the emulated
 * flash, readers, cards and network, `world:<room>` the rest of the simulation (tools/), `node` Node's own
 * code (crypto, buffers), `gc` the collector on this thread. The host and the oracle use the firmware's
 * modules too (the codec, the MACs, the journal's reading): a sample with the host's or the oracle's code
 * on its stack is theirs, so `core:` is what the terminal itself spends.
 */
function timeBySource(profile: Profiler.Profile, bundle: string): Record<string, number> {
  const starts: { line: number; path: string }[] = [];
  bundle.split("\n").forEach((text, index) => {
    const path = /^\/\/ ((?:modules|tools)\/[^ ]+\.ts)$/.exec(text)?.[1];
    if (path !== undefined) starts.push({ line: index, path });
  });
  const pathAt = (line: number): string | undefined => {
    if (starts.length === 0 || line < starts[0].line) return undefined;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle].line <= line) low = middle;
      else high = middle - 1;
    }
    return starts[low].path;
  };
  const ownSource = new Map<number, string>();
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
    const { url, functionName, lineNumber } = node.callFrame;
    const path = url === `file://${process.argv[1]}` || url === process.argv[1] ? pathAt(lineNumber) : undefined;
    const source =
      functionName === "(garbage collector)" ? "gc" : functionName === "(idle)" ? "idle" : path === undefined ? "node" : sourceOf(path);
    ownSource.set(node.id, CALLERS_WHO_OWN.has(path ?? "") ? `owner:${source}` : source);
  }
  const owner = (id: number): string | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const source = ownSource.get(at)!;
      if (source.startsWith("owner:")) return source.slice("owner:".length);
    }
    return undefined;
  };
  const counts: Record<string, number> = {};
  let counted = 0;
  for (const id of profile.samples ?? []) {
    const leaf = ownSource.get(id) ?? "node";
    if (leaf === "idle") continue;
    const source = leaf === "gc" ? leaf : (owner(id) ?? leaf);
    counts[source] = (counts[source] ?? 0) + 1;
    counted++;
  }
  for (const source of Object.keys(counts)) counts[source] /= counted;
  return counts;
}

/** Files whose calls into the firmware's modules are the simulation's work, not the terminal's. */
const CALLERS_WHO_OWN = new Set(["tools/host/core.ts", "tools/host/tms.ts", "tools/chaos/oracle.ts", "tools/chaos/secrets.ts"]);

function sourceOf(path: string): string {
  const [top, room] = path.split("/");
  if (top === "modules") return room === "emulators" ? "emulators" : `core:${room}`;
  return `world:${room.replace(/\.ts$/, "")}`;
}
