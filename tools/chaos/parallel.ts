/**
 * Many seeds on both cores. Chaos seeds go out in chunks of contiguous seeds
 * to whichever worker is free (a worker on a busier core takes fewer), and
 * the chunks' totals are merged in seed order, so the result does not depend
 * on how many workers ran or which finished first. Trading days are cut into
 * one contiguous part per worker, merged the same way.
 *
 * The workers run one esbuild bundle of tools/chaos/worker.ts (plain
 * JavaScript, built once per process): no TypeScript loader in the worker,
 * which starts faster and runs the simulation about a fifth faster than
 * through tsx; so one worker is used even for `--workers 1`.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { readTestKeyPem } from "../host/tms-signing";
import { Worker } from "node:worker_threads";
import { withEsbuild } from "../xs/bundle";
import { mergeDays, runDays, type DaysTotals, type PolicyName } from "./days";
import { runRange, type RangeRequest } from "./range";
import { mergeTotals, type ChaosTotals } from "./report";

export const WORKERS_DEFAULT = 2;
/** Below this many seeds a worker costs more to start than it saves. */
const SEEDS_PER_WORKER_MIN = 50;
/** A trading day costs about twenty chaos seeds. */
const DAYS_PER_WORKER_MIN = 4;

/** Seeds a worker is handed at a time: small enough to balance two busy cores, large enough that messages cost nothing. */
const SEEDS_PER_CHUNK = 50;

export async function runParallel(request: RangeRequest, workers = WORKERS_DEFAULT): Promise<ChaosTotals> {
  if (request.seeds < SEEDS_PER_WORKER_MIN) return runRange(request);
  const chunks: RangeRequest[] = [];
  for (let from = request.from; from < request.from + request.seeds; from += SEEDS_PER_CHUNK)
    chunks.push({ from, seeds: Math.min(SEEDS_PER_CHUNK, request.from + request.seeds - from), digest: request.digest });
  const count = Math.max(1, Math.min(workers, Math.floor(request.seeds / SEEDS_PER_WORKER_MIN)));
  // The TMS signing key goes with the workers: their bundle cannot locate tools/host/test-keys.
  const workerData = { keyPem: readTestKeyPem() };
  return mergeTotals(await runChunks<RangeRequest, ChaosTotals>(await chaosBundle("./worker.ts"), chunks, count, workerData));
}

/** Trading days (tools/chaos/days.ts) the same way: contiguous parts, merged in seed order. */
export async function runDaysParallel(
  request: RangeRequest,
  policies: readonly PolicyName[],
  workers = WORKERS_DEFAULT,
): Promise<DaysTotals> {
  const parts = split(request, workers, DAYS_PER_WORKER_MIN);
  if (parts.length === 1) return runDays(request, policies);
  const code = await chaosBundle("./days-worker.ts");
  return mergeDays(await Promise.all(parts.map((part) => runWorker<DaysTotals>(code, { request: part, policies }))));
}

function split(request: RangeRequest, workers: number, perWorkerMin: number): RangeRequest[] {
  const count = Math.max(1, Math.min(workers, Math.floor(request.seeds / perWorkerMin)));
  const parts: RangeRequest[] = [];
  for (let i = 0; i < count; i++) {
    const from = request.from + Math.floor((request.seeds * i) / count);
    const to = request.from + Math.floor((request.seeds * (i + 1)) / count);
    parts.push({ from, seeds: to - from });
  }
  return parts;
}

/**
 * One entry of tools/chaos as the plain-JavaScript bundle the workers run (also the process `xspos bench chaos`
 * measures: the same code, timed).
 */
export async function chaosBundle(entry: "./worker.ts" | "./days-worker.ts" | "./measure.ts"): Promise<string> {
  const result = await withEsbuild(() =>
    build({
      entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
      logLevel: "error",
    }),
  );
  return result.outputFiles[0].text;
}

/**
 * Runs `chunks` on `workers` threads of `code`, each handed the next chunk as it finishes one
 * (messages `{ index, chunk }` in, `{ index, result }` out, `undefined` in to stop); results in chunk order.
 */
async function runChunks<Chunk, Result>(code: string, chunks: readonly Chunk[], workers: number, workerData: unknown): Promise<Result[]> {
  const results: Result[] = new Array<Result>(chunks.length);
  let next = 0;
  const runOne = () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData });
      const handOut = () => {
        if (next >= chunks.length) return worker.postMessage(undefined);
        const index = next++;
        worker.postMessage({ index, chunk: chunks[index] });
      };
      worker.on("message", (message: { index: number; result: Result }) => {
        results[message.index] = message.result;
        handOut();
      });
      worker.once("error", reject);
      worker.once("exit", (exitCode) => (exitCode === 0 ? resolve() : reject(new Error(`chaos worker exited with code ${exitCode}`))));
      handOut();
    });
  await Promise.all(Array.from({ length: Math.min(workers, chunks.length) }, runOne));
  for (let i = 0; i < chunks.length; i++) if (results[i] === undefined) throw new Error(`chaos worker never answered chunk ${i}`);
  return results;
}

function runWorker<T>(code: string, data: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: data });
    let result: T | undefined;
    worker.once("message", (message: T) => (result = message));
    worker.once("error", reject);
    worker.once("exit", (code) => (result !== undefined ? resolve(result) : reject(new Error(`chaos worker exited with code ${code}`))));
  });
}
