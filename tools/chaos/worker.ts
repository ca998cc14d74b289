/**
 * A chaos worker thread: runs the chunks of contiguous seeds it is handed and
 * posts each chunk's totals; `undefined` ends it. Started by
 * tools/chaos/parallel.ts from an esbuild bundle of this file.
 */
import { parentPort } from "node:worker_threads";
import { runRange, type RangeRequest } from "./range";

parentPort!.on("message", (message: { index: number; chunk: RangeRequest } | undefined) => {
  if (message === undefined) return parentPort!.close();
  parentPort!.postMessage({ index: message.index, result: runRange(message.chunk) });
});
