/**
 * A chaos worker thread: runs a contiguous range of seeds and posts its totals.
 * Started by tools/chaos/parallel.ts from an esbuild bundle of this file.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runRange, type RangeRequest } from "./range";

parentPort!.postMessage(runRange(workerData as RangeRequest));
