/**
 * A chaos worker thread: runs a contiguous range of seeds and posts its totals.
 * Started by tools/chaos/parallel.ts; no planted bugs here.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runRange, type RangeRequest } from "./parallel";

parentPort!.postMessage(runRange(workerData as RangeRequest));
