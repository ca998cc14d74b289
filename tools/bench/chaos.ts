/**
 * `xspos bench chaos [--seeds N] [--seed S] [--warmup N] [--profile] [--json]`: what a chaos seed costs.
 * The seeds run in one process of their own (an esbuild bundle of tools/chaos/measure.ts, the code the
 * chaos workers run) after warm-up seeds: CPU time per seed (the process's, so the collector's and the
 * compiler's threads count) and wall time per seed, the seeds' digest (`xspos chaos --digest` gives the
 * same for the same seeds: a speed-up must leave it unchanged), and with `--profile` where the time went,
 * from V8's sampling profiler: the firmware core room by room, the emulators, the simulated world.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Benchmark } from "../cli/commands/bench";
import { integerOption, parseOptions, UsageError } from "../cli/command";
import type { MeasureRequest, MeasureResult } from "../chaos/measure";
import { chaosBundle } from "../chaos/parallel";
import { readTestKeyPem } from "../host/tms-signing";

const SEEDS_DEFAULT = 1000;
const SEEDS_MAX = 1_000_000;
const WARMUP_DEFAULT = 100;
const WARMUP_MAX = 100_000;
/** The measuring process's output is one JSON line; its error output is kept for a failure's message. */
const OUTPUT_BYTES_MAX = 1 << 20;

function measure(request: MeasureRequest, script: string): MeasureResult {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-bench-chaos-"));
  try {
    const file = path.join(directory, "measure.cjs");
    fs.writeFileSync(file, script);
    const child = spawnSync(process.execPath, [file], { input: JSON.stringify(request), encoding: "utf8", maxBuffer: OUTPUT_BYTES_MAX });
    if (child.status !== 0) throw new Error(`the measuring process failed (${child.status ?? child.signal}): ${child.stderr.trim()}`);
    return JSON.parse(child.stdout) as MeasureResult;
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)} %`;
}

export const benchmark: Benchmark = {
  summary: "chaos seeds in one thread: CPU and wall time per seed, their digest, and with --profile where the time goes",
  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      {
        seeds: { type: "string" },
        seed: { type: "string" },
        warmup: { type: "string" },
        profile: { type: "boolean" },
        json: { type: "boolean" },
      },
      false,
    );
    if (positionals.length > 0) throw new UsageError(`bench chaos takes no positional arguments, got ${JSON.stringify(positionals[0])}`);
    const seeds = integerOption(values.seeds, "seeds", SEEDS_DEFAULT, 1, SEEDS_MAX);
    const from = integerOption(values.seed, "seed", 0, 0, Number.MAX_SAFE_INTEGER - SEEDS_MAX);
    const warmupSeeds = integerOption(values.warmup, "warmup", WARMUP_DEFAULT, 0, WARMUP_MAX);
    const profile = values.profile === true;
    const result = measure({ from, seeds, warmupSeeds, keyPem: readTestKeyPem(), profile }, await chaosBundle("./measure.ts"));
    const cpuMsPerSeed = result.cpuMs / result.seeds;
    const wallMsPerSeed = result.wallMs / result.seeds;
    console.log(
      `seeds ${from}–${from + seeds - 1} in one thread after ${warmupSeeds} warm-up seeds: ${cpuMsPerSeed.toFixed(2)} CPU-ms per seed ` +
        `(${(1000 / cpuMsPerSeed).toFixed(0)} seeds/s per core), ${wallMsPerSeed.toFixed(2)} wall-ms; ${result.violations} with violations, ` +
        `${result.transactions} transactions, ${result.reversals} reversals; digest ${result.digest}`,
    );
    const figures: Record<string, unknown> = {
      seeds: result.seeds,
      from,
      warmupSeeds,
      cpuMsPerSeed: Math.round(cpuMsPerSeed * 1000) / 1000,
      wallMsPerSeed: Math.round(wallMsPerSeed * 1000) / 1000,
      seedsPerSecondPerCore: Math.round(10_000 / cpuMsPerSeed) / 10,
      violations: result.violations,
      transactions: result.transactions,
      reversals: result.reversals,
      digest: result.digest,
    };
    if (result.timeBySource !== undefined) {
      const sources = Object.entries(result.timeBySource).sort(([, a], [, b]) => b - a);
      const share = (prefix: string) => sources.filter(([name]) => name.startsWith(prefix)).reduce((sum, [, s]) => sum + s, 0);
      console.log(
        `where the time goes (samples of the measured seeds, this thread): firmware core ${percent(share("core:"))}, ` +
          `emulators ${percent(share("emulators"))}, simulated world ${percent(share("world:"))}, Node ${percent(share("node"))}, ` +
          `collector ${percent(share("gc"))}`,
      );
      for (const [name, s] of sources)
        console.log(`  ${name.padEnd(18)} ${percent(s).padStart(7)}  ${(s * wallMsPerSeed).toFixed(2)} ms per seed`);
      figures.timeBySource = Object.fromEntries(sources.map(([name, s]) => [name, Math.round(s * 10_000) / 10_000]));
    }
    return figures;
  },
};
