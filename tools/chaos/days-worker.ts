/**
 * A resilience worker thread: runs a contiguous range of trading days under
 * each policy and posts the totals. Started by tools/chaos/parallel.ts from an
 * esbuild bundle of this file.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runDays, type PolicyName } from "./days";
import type { RangeRequest } from "./range";

const { request, policies } = workerData as { request: RangeRequest; policies: PolicyName[] };
parentPort!.postMessage(runDays(request, policies));
