/**
 * Many seeds on both cores: the range is cut into contiguous parts, one per
 * worker thread, and the parts' totals are merged in seed order, so the
 * result does not depend on how many workers ran or which finished first.
 */
import { Worker } from "node:worker_threads";
import { addSeed, emptyTotals, mergeTotals, type ChaosTotals } from "./report";
import { runSeed, type SeedOptions } from "./run";

export interface RangeRequest {
  readonly from: number;
  readonly seeds: number;
}

export const WORKERS_DEFAULT = 2;
/** Below this many seeds a worker costs more to start than it saves. */
const SEEDS_PER_WORKER_MIN = 50;

export function runRange(request: RangeRequest, options: SeedOptions = {}): ChaosTotals {
  const totals = emptyTotals();
  for (let seed = request.from; seed < request.from + request.seeds; seed++) addSeed(totals, runSeed(seed, options));
  return totals;
}

export async function runParallel(request: RangeRequest, workers = WORKERS_DEFAULT): Promise<ChaosTotals> {
  const count = Math.max(1, Math.min(workers, Math.floor(request.seeds / SEEDS_PER_WORKER_MIN)));
  if (count === 1) return runRange(request);
  const parts: RangeRequest[] = [];
  for (let i = 0; i < count; i++) {
    const from = request.from + Math.floor((request.seeds * i) / count);
    const to = request.from + Math.floor((request.seeds * (i + 1)) / count);
    parts.push({ from, seeds: to - from });
  }
  const results = await Promise.all(parts.map((part) => runWorker(part)));
  return mergeTotals(results);
}

function runWorker(part: RangeRequest): Promise<ChaosTotals> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { workerData: part, execArgv: ["--import", "tsx"] });
    let result: ChaosTotals | undefined;
    worker.once("message", (message: ChaosTotals) => (result = message));
    worker.once("error", reject);
    worker.once("exit", (code) => (result !== undefined ? resolve(result) : reject(new Error(`chaos worker exited with code ${code}`))));
  });
}
