/**
 * Runs torture seeds on worker threads (Node only). The pure torture module is
 * bundled once with esbuild so the workers run plain JavaScript, as XS would.
 */
import { build } from "esbuild";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { withEsbuild } from "../xs/bundle";
import type { SeedResult } from "./torture";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface TortureSummary {
  readonly seeds: number;
  readonly crashPoints: number;
  readonly violations: number;
  readonly faultClasses: Record<string, number>;
  readonly maxSectorErases: number;
  readonly failures: readonly SeedResult[];
}

const WORKER_SOURCE = `
import { parentPort, workerData } from "node:worker_threads";
const { tortureSeed } = await import(workerData.bundle);
parentPort.on("message", (seed) => {
  if (seed === null) { parentPort.close(); return; }
  parentPort.postMessage(tortureSeed(seed));
});
`;

async function bundle(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-torture-"));
  const out = path.join(dir, "torture.mjs");
  await withEsbuild(() =>
    build({
      entryPoints: [path.join(HERE, "torture.ts")],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      outfile: out,
      logLevel: "silent",
    }),
  );
  fs.writeFileSync(path.join(dir, "worker.mjs"), WORKER_SOURCE);
  return dir;
}

/** Runs seeds [from, from + seeds) on `threads` workers; `onResult` sees each seed as it finishes. */
export async function runTorture(
  from: number,
  seeds: number,
  threads: number,
  onResult: (result: SeedResult) => void = () => {},
): Promise<TortureSummary> {
  const dir = await bundle();
  const summary = {
    seeds: 0,
    crashPoints: 0,
    violations: 0,
    faultClasses: {} as Record<string, number>,
    maxSectorErases: 0,
    failures: [] as SeedResult[],
  };
  let next = from;
  const end = from + seeds;
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(threads, seeds)) }, () => {
        const worker = new Worker(path.join(dir, "worker.mjs"), { workerData: { bundle: path.join(dir, "torture.mjs") } });
        return new Promise<void>((resolve, reject) => {
          const feed = (): void => {
            worker.postMessage(next < end ? next++ : null);
          };
          worker.on("message", (result: SeedResult) => {
            summary.seeds++;
            summary.crashPoints += result.crashPoints;
            summary.maxSectorErases = Math.max(summary.maxSectorErases, result.maxSectorErases);
            for (const [name, count] of Object.entries(result.faultClasses))
              summary.faultClasses[name] = (summary.faultClasses[name] ?? 0) + count;
            if (result.violation !== undefined) {
              summary.violations++;
              summary.failures.push(result);
            }
            onResult(result);
            feed();
          });
          worker.on("error", reject);
          worker.on("exit", () => resolve());
          feed();
        });
      }),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return summary;
}
