/**
 * `tools/checks/esp32-link.ts LOG MC_XS_C` (the last part of `make esp32-link`):
 * reads what the Moddable linker (xsl) produced for the ESP32 image's
 * JavaScript half, prints it, records it in artifacts/esp32-link.json, and
 * fails on any xsl warning or error. xsl warns when a preloaded object stays
 * writable (`not frozen`) or a captured binding is not const (`no const`):
 * on the device each of those is cloned into RAM on first write, which is what
 * the freeze rules of the core exist to prevent.
 *
 * Figures (all from mc.xs.c, which xsl writes):
 * - preloaded heap slots (`mxHeapCount`): the objects preload built, XS
 *   built-ins included; they live in flash, 16 bytes each on the ESP32;
 * - preloaded chunk bytes: byte code and strings of those objects (C string
 *   literals in the heap table), also in flash;
 * - aliases (`mxAliasCount`): preloaded objects that may be modified, each a
 *   4-byte RAM slot at boot and a RAM copy once written;
 * - keys, modules, those not preloaded and their byte code, mc.xs.c size;
 * - creation: the sizes the machine is created with.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ARTIFACT = path.join(REPO_ROOT, "artifacts/esp32-link.json");
const SLOT_BYTES_ESP32 = 16;
const DIAGNOSTICS_SHOWN_MAX = 40;

export interface Esp32LinkFigures {
  readonly mcXsCBytes: number;
  readonly preloadedHeapSlots: number;
  readonly preloadedHeapBytesEsp32: number;
  readonly preloadedChunkBytes: number;
  readonly aliases: number;
  readonly keys: number;
  readonly modules: number;
  readonly modulesNotPreloaded: number;
  readonly modulesNotPreloadedCodeBytes: number;
  readonly linker: string;
  readonly creation: {
    readonly chunkBytes: number;
    readonly chunkIncrementBytes: number;
    readonly heapSlots: number;
    readonly heapIncrementSlots: number;
    readonly stackSlots: number;
    readonly main: string;
  };
  readonly warnings: readonly string[];
  readonly errors: readonly string[];
}

function define(source: string, name: string): number {
  const match = new RegExp(`^#define ${name} (\\d+)$`, "m").exec(source);
  if (match === null) throw new Error(`esp32-link: mc.xs.c has no ${name}`);
  return Number(match[1]);
}

/** Bytes of one C string literal's body: each `\xHH` or other escape is one byte, any other character one byte (ASCII). */
function literalBytes(body: string): number {
  return body.replace(/\\x[0-9a-fA-F]{2}|\\[0-7]{1,3}|\\./g, "_").length;
}

export function readLinkFigures(log: string, mcXsC: string): Esp32LinkFigures {
  const heapStart = mcXsC.indexOf("static const txSlot gxHeap[mxHeapCount] = {");
  const heapEnd = heapStart < 0 ? -1 : mcXsC.indexOf("\n};", heapStart);
  if (heapStart < 0 || heapEnd < 0) throw new Error("esp32-link: mc.xs.c has no gxHeap table");
  let preloadedChunkBytes = 0;
  for (const match of mcXsC.slice(heapStart, heapEnd).matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    preloadedChunkBytes += literalBytes(match[1]!);
  }
  // A module not preloaded keeps its byte code in a gxCode array, run at import on the device.
  let codeBytes = 0;
  let notPreloaded = 0;
  for (const match of mcXsC.matchAll(/^static const txU1 gxCode\d+\[(\d+)\] = \{/gm)) {
    codeBytes += Number(match[1]);
    notPreloaded++;
  }
  const creation = /\{ (\d+), (\d+), (\d+), (\d+), (\d+), [\d, ]+\},\n\t"([^"]*)",/.exec(mcXsC);
  if (creation === null) throw new Error("esp32-link: mc.xs.c has no creation record");
  const linker = /^### (\d+ instances, \d+ keys, \d+ colors, \d+ holes)$/m.exec(log);
  const preloadedHeapSlots = define(mcXsC, "mxHeapCount");
  return {
    mcXsCBytes: Buffer.byteLength(mcXsC),
    preloadedHeapSlots,
    preloadedHeapBytesEsp32: preloadedHeapSlots * SLOT_BYTES_ESP32,
    preloadedChunkBytes,
    aliases: define(mcXsC, "mxAliasCount"),
    keys: define(mcXsC, "mxKeysCount"),
    modules: define(mcXsC, "mxScriptsCount"),
    modulesNotPreloaded: notPreloaded,
    modulesNotPreloadedCodeBytes: codeBytes,
    linker: linker === null ? "" : linker[1]!,
    creation: {
      chunkBytes: Number(creation[1]),
      chunkIncrementBytes: Number(creation[2]),
      heapSlots: Number(creation[3]),
      heapIncrementSlots: Number(creation[4]),
      stackSlots: Number(creation[5]),
      main: creation[6]!,
    },
    warnings: log.split("\n").filter((line) => line.startsWith("### warning")),
    errors: log.split("\n").filter((line) => line.startsWith("### error") || /: error[: ]/.test(line)),
  };
}

function main(args: readonly string[]): number {
  if (args.length !== 2) {
    console.error("usage: esp32-link.ts LOG MC_XS_C");
    return 2;
  }
  const figures = readLinkFigures(fs.readFileSync(args[0]!, "utf8"), fs.readFileSync(args[1]!, "utf8"));
  fs.mkdirSync(path.dirname(ARTIFACT), { recursive: true });
  fs.writeFileSync(ARTIFACT, JSON.stringify(figures, null, 2) + "\n");
  const c = figures.creation;
  console.log(`esp32-link: xsl: ${figures.linker}; mc.xs.c ${figures.mcXsCBytes} bytes`);
  console.log(
    `esp32-link: preloaded ${figures.preloadedHeapSlots} heap slots (${figures.preloadedHeapBytesEsp32} bytes of flash)` +
      ` + ${figures.preloadedChunkBytes} chunk bytes; ${figures.aliases} aliases; ${figures.keys} keys;` +
      ` ${figures.modules} modules, ${figures.modulesNotPreloaded} not preloaded (${figures.modulesNotPreloadedCodeBytes} bytes of code)`,
  );
  console.log(
    `esp32-link: creation chunk ${c.chunkBytes} B (+${c.chunkIncrementBytes}), heap ${c.heapSlots} slots` +
      ` (+${c.heapIncrementSlots}), stack ${c.stackSlots} slots, main ${c.main}; figures in ${path.relative(REPO_ROOT, ARTIFACT)}`,
  );
  const diagnostics = [...figures.errors, ...figures.warnings];
  for (const line of diagnostics.slice(0, DIAGNOSTICS_SHOWN_MAX)) console.log(line);
  if (diagnostics.length === 0) return 0;
  console.log(
    `esp32-link: FAILED: ${figures.errors.length} errors, ${figures.warnings.length} warnings from the link` +
      " (a preloaded object not frozen or a captured binding not const is copied into RAM on the device)",
  );
  return 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
