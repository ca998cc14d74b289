/**
 * `xspos bench crypto [--ms N] [--xs-blocks N]`: block cipher throughput in
 * Node (pure TypeScript route, and the simulator's node:crypto route for
 * 3DES/SM4), and the XS engine's compute per block (meter operations, the
 * project's device-independent cost figure) for DES, 3DES, SM4 and the MACs.
 */
import { bundleForXs } from "../xs/bundle";
import { integerOption, parseOptions } from "../cli/command";
import type { Benchmark } from "../cli/commands/bench";
import type { BlockCipher, CipherAlgorithm, CipherProvider } from "../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../modules/crypto/ciphers";
import { nodeCiphers } from "../../hosts/sim/node-block-cipher";
import { REPO_ROOT } from "../xs/suites";
import { XsWorker } from "../xs/worker";

const KEYS: Record<CipherAlgorithm, Uint8Array> = {
  des: new Uint8Array(8).fill(0x13),
  tdes: new Uint8Array(16).map((_, i) => i * 17),
  sm4: new Uint8Array(16).map((_, i) => i * 29),
};

/** Blocks per second encrypting one block in place for about `durationMs`. */
function blocksPerSecond(cipher: BlockCipher, durationMs: number): number {
  const block = new Uint8Array(cipher.blockBytes);
  const batch = 1000;
  let blocks = 0;
  const start = process.hrtime.bigint();
  let elapsedNs = 0n;
  while (elapsedNs < BigInt(durationMs) * 1_000_000n) {
    for (let i = 0; i < batch; i++) cipher.encryptBlock(block, 0, block, 0);
    blocks += batch;
    elapsedNs = process.hrtime.bigint() - start;
  }
  return Math.round(blocks / (Number(elapsedNs) / 1e9));
}

/** The XS-side script: ciphers and MAC inputs on globalThis, built once before the measured evaluations. */
const XS_SETUP = `
import { Des, TripleDes } from "./modules/crypto/des";
import { Sm4 } from "./modules/crypto/sm4";
import { cupEcbMac, retailMac } from "./modules/crypto/mac";
import { pinBlockFormat0 } from "./modules/crypto/pin-block";
const des = new Des(new Uint8Array(8).fill(0x13));
const tdes = new TripleDes(new Uint8Array(16).map((_, i) => i * 17));
const sm4 = new Sm4(new Uint8Array(16).map((_, i) => i * 29));
const block = new Uint8Array(16);
const message = new Uint8Array(256).map((_, i) => i);
const mac = new Uint8Array(8);
globalThis.benchRun = {
  des: (n) => { for (let i = 0; i < n; i++) des.encryptBlock(block, 0, block, 0); },
  tdes: (n) => { for (let i = 0; i < n; i++) tdes.encryptBlock(block, 0, block, 0); },
  sm4: (n) => { for (let i = 0; i < n; i++) sm4.encryptBlock(block, 0, block, 0); },
  empty: (n) => { for (let i = 0; i < n; i++); },
  cupEcbMac256: (n) => { for (let i = 0; i < n; i++) cupEcbMac(des, message, mac); },
  x919Mac256: (n) => { for (let i = 0; i < n; i++) retailMac(des, tdes, message, 1, mac); },
  pinBlock0: (n) => { for (let i = 0; i < n; i++) pinBlockFormat0("123456", "6225880012345678", mac); },
};
`;

/** XS compute per operation (loop overhead subtracted): deterministic, the figures docs/crypto.md carries. */
export async function xsFigures(iterations: number): Promise<Record<string, number>> {
  const bundle = await bundleForXs({ contents: XS_SETUP, resolveDir: REPO_ROOT, sourcefile: "xs-bench-crypto.ts" });
  const worker = new XsWorker();
  try {
    await worker.evaluate(bundle);
    // Each evaluation is its own crank, so its meter is the compute of that call alone.
    const measure = async (name: string, n: number): Promise<number> => (await worker.evaluate(`benchRun.${name}(${n})`)).meter.compute;
    const loop = await measure("empty", iterations);
    const figures: Record<string, number> = {};
    for (const [name, n] of [
      ["des", iterations],
      ["tdes", iterations],
      ["sm4", iterations],
      ["cupEcbMac256", Math.max(1, iterations / 50)],
      ["x919Mac256", Math.max(1, iterations / 50)],
      ["pinBlock0", Math.max(1, iterations / 10)],
    ] as const) {
      const compute = await measure(name, n);
      figures[name] = Math.round((compute - (loop * n) / iterations) / n);
    }
    return figures;
  } finally {
    worker.close();
  }
}

export const benchmark: Benchmark = {
  summary: "DES, 3DES, SM4 blocks/s in Node (TypeScript and node:crypto routes); XS compute per block and per MAC",
  async run(args) {
    const { values } = parseOptions(args, { ms: { type: "string" }, "xs-blocks": { type: "string" } }, false);
    const durationMs = integerOption(values.ms, "ms", 300, 10, 10_000);
    const xsBlocks = integerOption(values["xs-blocks"], "xs-blocks", 2000, 50, 100_000);
    const node: Record<string, number> = {};
    const routes: readonly (readonly [string, CipherProvider, readonly CipherAlgorithm[]])[] = [
      ["ts", softwareCiphers, ["des", "tdes", "sm4"]],
      ["nodeCrypto", nodeCiphers, ["tdes", "sm4"]],
    ];
    for (const [route, provider, algorithms] of routes) {
      for (const algorithm of algorithms) {
        const rate = blocksPerSecond(provider.create(algorithm, KEYS[algorithm]), durationMs);
        node[`${route}.${algorithm}`] = rate;
        console.log(`node ${route.padEnd(10)} ${algorithm.padEnd(4)} ${rate.toLocaleString("en-US").padStart(12)} blocks/s`);
      }
    }
    const xs = await xsFigures(xsBlocks);
    for (const [name, compute] of Object.entries(xs)) console.log(`xs   ${name.padEnd(14)} ${String(compute).padStart(8)} compute/op`);
    return { nodeBlocksPerSecond: node, xsComputePerOp: xs, xsIterations: xsBlocks };
  },
};
