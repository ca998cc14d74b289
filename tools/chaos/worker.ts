/**
 * A chaos worker thread: runs a contiguous range of seeds and posts its totals.
 * Started by tools/chaos/parallel.ts from an esbuild bundle of this file.
 */
import { parentPort, workerData } from "node:worker_threads";
import { nodeImageSigner } from "../host/tms-signing";
import { runRange, type RangeRequest } from "./range";

// The TMS signing key comes from the parent: this bundle cannot locate tools/host/test-keys.
const { keyPem, ...request } = workerData as RangeRequest & { readonly keyPem: string };
parentPort!.postMessage(runRange(request, { imageSigner: nodeImageSigner(keyPem) }));
