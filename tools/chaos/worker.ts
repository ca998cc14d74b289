/**
 * A chaos worker thread: runs the chunks of contiguous seeds it is handed and
 * posts each chunk's totals; `undefined` ends it. Started by
 * tools/chaos/parallel.ts from an esbuild bundle of this file.
 */
import { parentPort } from "node:worker_threads";
import { runRange, type RangeRequest } from "./range";

// Errors are the simulation's control flow (a power cut unwinds through the journal, a card error
// through the kernel), each capturing a deep stack that nothing reads: a crash report carries the
// error's name and message only. Without stacks: about 2 % of the CPU (PowerCut, CardError).
Error.stackTraceLimit = 0;

parentPort!.on("message", (message: { index: number; chunk: RangeRequest } | undefined) => {
  if (message === undefined) return parentPort!.close();
  parentPort!.postMessage({ index: message.index, result: runRange(message.chunk) });
});
