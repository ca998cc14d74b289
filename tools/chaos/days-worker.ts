/**
 * A resilience worker thread: runs a contiguous range of trading days under
 * each policy and posts the totals. Started by tools/chaos/parallel.ts from an
 * esbuild bundle of this file.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runDays, type PolicyName } from "./days";
import type { RangeRequest } from "./range";

// Errors are the simulation's control flow (a power cut unwinds through the journal, a card error
// through the kernel), each capturing a deep stack that nothing reads: a crash report carries the
// error's name and message only. Without stacks: about 2 % of the CPU (PowerCut, CardError).
Error.stackTraceLimit = 0;

const { request, policies } = workerData as { request: RangeRequest; policies: PolicyName[] };
parentPort!.postMessage(runDays(request, policies));
