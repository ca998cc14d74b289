/**
 * `npx tsx tools/checks/xs-footprint.ts`: what loading each core room costs in
 * XS (xsnap): heap slots and chunk bytes after its module bodies ran, over an
 * empty machine. On the device preloaded rooms live in flash instead, so these
 * are upper bounds of their RAM (docs/device.md "Memory budget").
 */
import { bundleForXs } from "../xs/bundle";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./manifest-check";
import { XsWorker, type XsMeter } from "../xs/worker";

const DEVICE_ROOMS = Object.freeze(["base", "platform", "iso8583", "crypto", "card", "journal", "link", "txn", "ui"]);

async function loadMeter(code: string): Promise<XsMeter> {
  const worker = new XsWorker();
  try {
    return (await worker.evaluate(code)).meter;
  } finally {
    worker.close();
  }
}

async function bundleRoom(room: string): Promise<string> {
  const dir = path.join(REPO_ROOT, "modules", room);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort();
  return bundleForXs({
    contents: files.map((f, i) => `import * as m${i} from ${JSON.stringify(path.join(dir, f))}; globalThis.m${i} = m${i};`).join("\n"),
    resolveDir: dir,
    sourcefile: `footprint-${path.basename(dir)}.ts`,
  });
}

const empty = await loadMeter("0");
console.log("room (with what it imports)  heapSlots  compute");
for (const room of DEVICE_ROOMS) {
  const meter = await loadMeter(await bundleRoom(room));
  const slots = meter.currentHeapCount - empty.currentHeapCount;
  console.log(`${room.padEnd(28)} ${String(slots).padStart(9)} ${String(meter.compute).padStart(8)}`);
}
