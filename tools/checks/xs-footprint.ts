/**
 * `npx tsx tools/checks/xs-footprint.ts`: what loading each core room costs in
 * XS (xsnap): heap slots and chunk bytes after its module bodies ran, over an
 * empty machine. On the device preloaded rooms live in flash instead, so these
 * are upper bounds of their RAM (docs/device.md "Memory budget").
 */
import { bundleForXs } from "../xs/bundle";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
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

export interface RoomLoad {
  readonly room: string;
  /** Heap slots after the room's module bodies (and its imports') ran, over an empty machine. */
  readonly heapSlots: number;
  readonly compute: number;
}

/** Load cost of each device room, with what it imports (deterministic XS meter figures). */
export async function measureRoomLoads(): Promise<RoomLoad[]> {
  const empty = await loadMeter("0");
  const loads: RoomLoad[] = [];
  for (const room of DEVICE_ROOMS) {
    const meter = await loadMeter(await bundleRoom(room));
    loads.push({ room, heapSlots: meter.currentHeapCount - empty.currentHeapCount, compute: meter.compute });
  }
  return loads;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  console.log("room (with what it imports)  heapSlots  compute");
  for (const { room, heapSlots, compute } of await measureRoomLoads())
    console.log(`${room.padEnd(28)} ${String(heapSlots).padStart(9)} ${String(compute).padStart(8)}`);
}
