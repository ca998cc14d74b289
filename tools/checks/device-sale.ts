/**
 * XS meter figures of one full sale on the ESP32's module set: every core
 * room the device preloads plus hosts/esp32/terminal.ts (the wiring main.ts
 * starts), run in xsnap by tools/checks/device-sale-entry.ts against a tiny
 * scripted host, on emulated NOR flash and an emulated network. Used by
 * `xspos bench device` and by tests/node/checks/device-sale.test.ts, which
 * holds the figures to the budget of docs/device.md.
 *
 * Heap slots are counted by xsnap's meter (`currentHeapCount`). The meter's
 * `allocate` is the arena xsnap reserved up front (about 40 MB), unchanged by
 * a sale, so chunk bytes (strings, buffers) are not observable here.
 */
import { bundleForXs } from "../xs/bundle";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./manifest-check";
import { XsWorker } from "../xs/worker";

/** The rooms manifest.json preloads on the device (modules/emulators is simulation-only and not among them). */
export const DEVICE_ROOMS = Object.freeze(["base", "platform", "iso8583", "crypto", "card", "journal", "link", "txn", "ui"]);

export interface DeviceSaleFigures {
  /** Slots held after the preloaded rooms' bodies ran: in flash on the device, not in the heap. */
  readonly preloadedSlots: number;
  /** Live slots of the booted, signed-on terminal (engine, journal view, UI, readers, keys) plus the emulators. */
  readonly idleTerminalSlots: number;
  /** Most live slots above the idle terminal between the sale's steps (a GC after each timer). */
  readonly salePeakSlots: number;
  /**
   * Upper bound of the live slots above the idle terminal at any instant: the
   * most that one step found live before it plus allocated during it (no GC
   * inside a step). The heap budget is held to this figure.
   */
  readonly salePeakBoundSlots: number;
  /** Live slots the sale leaves behind (approved log entry, journal index). */
  readonly saleRetainedSlots: number;
  /** Slots the sale allocates when nothing collects: live plus garbage, what the GC has to sweep. */
  readonly saleAllocatedSlots: number;
  /** XS compute of the sale: keys, swipe decode, PIN block, build, MAC, journal, link, parse, result. */
  readonly saleCompute: number;
  /** The scripted host's share of saleCompute (decode, answer, MAC), measured on its own. */
  readonly hostCompute: number;
  /** saleCompute − hostCompute: the terminal side (emulated flash and network included). */
  readonly engineCompute: number;
  /** Timer steps the stepped run took. */
  readonly steps: number;
  /** xsnap's `allocate` change over the sale: 0, its arena is reserved up front. */
  readonly allocateBytes: number;
}

const STEPS_MAX = 1000;

export async function bundleDeviceSale(): Promise<string> {
  const imports: string[] = [];
  for (const room of DEVICE_ROOMS) {
    const dir = path.join(REPO_ROOT, "modules", room);
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .sort();
    // Every file of every room, kept alive: the device preloads whole rooms, not what one sale uses.
    for (const f of files)
      imports.push(`import * as m${imports.length} from ${JSON.stringify(path.join(dir, f))}; keep(m${imports.length});`);
  }
  const result = await bundleForXs({
    contents: [
      `const rooms = []; const keep = (m) => rooms.push(m); globalThis.deviceRooms = rooms;`,
      ...imports,
      `import ${JSON.stringify(path.join(REPO_ROOT, "tools/checks/device-sale-entry.ts"))};`,
    ].join("\n"),
    resolveDir: REPO_ROOT,
    sourcefile: "device-sale.ts",
  });
  return result;
}

/** A worker with the rooms loaded and the terminal booted and signed on; returns the slot counts on the way. */
async function booted(code: string, worker: XsWorker): Promise<{ empty: number; loaded: number; idle: number }> {
  const empty = (await worker.evaluate("gc(); 0")).meter.currentHeapCount;
  await worker.evaluate(code);
  const loaded = (await worker.evaluate("gc(); 0")).meter.currentHeapCount;
  await worker.evaluate("deviceSetup()");
  const idle = (await worker.evaluate("gc(); 0")).meter.currentHeapCount;
  return { empty, loaded, idle };
}

export async function measureDeviceSale(): Promise<DeviceSaleFigures> {
  const code = await bundleDeviceSale();
  const whole = new XsWorker();
  let slots: { empty: number; loaded: number; idle: number };
  let sale;
  let retained: number;
  let hostCompute: number;
  let allocateBefore: number;
  try {
    slots = await booted(code, whole);
    allocateBefore = (await whole.evaluate("0")).meter.allocate;
    sale = (await whole.evaluate("deviceSale()")).meter;
    retained = (await whole.evaluate("gc(); 0")).meter.currentHeapCount - slots.idle;
    hostCompute = (await whole.evaluate("deviceHostWork()")).meter.compute;
  } finally {
    whole.close();
  }

  let done = false;
  const stepped = new XsWorker(() => {
    done = true;
    return new Uint8Array(0);
  });
  let peak = 0;
  let bound = 0;
  let steps = 0;
  try {
    const base = await booted(code, stepped);
    // Each step runs without a collection (its allocations bound what can be live inside it), then one GC.
    const measureStep = async (script: string) => {
      bound = Math.max(bound, (await stepped.evaluate(script)).meter.currentHeapCount - base.idle);
      peak = Math.max(peak, (await stepped.evaluate("gc(); 0")).meter.currentHeapCount - base.idle);
    };
    // One operator input per crank (each key, the swipe), then one timer per crank.
    while (!done) {
      if (++steps > STEPS_MAX) throw new Error(`device sale: inputs never ended after ${STEPS_MAX} steps`);
      await measureStep("if (!deviceSaleInput()) issueCommand(new ArrayBuffer(1))");
    }
    done = false;
    while (!done) {
      if (++steps > STEPS_MAX) throw new Error(`device sale: no result after ${STEPS_MAX} steps`);
      await measureStep("if (deviceSaleStep()) issueCommand(new ArrayBuffer(1))");
    }
  } finally {
    stepped.close();
  }

  return {
    preloadedSlots: slots.loaded - slots.empty,
    idleTerminalSlots: slots.idle - slots.loaded,
    salePeakSlots: peak,
    salePeakBoundSlots: bound,
    saleRetainedSlots: retained,
    saleAllocatedSlots: sale.currentHeapCount - slots.idle,
    saleCompute: sale.compute,
    hostCompute,
    engineCompute: sale.compute - hostCompute,
    steps,
    allocateBytes: sale.allocate - allocateBefore,
  };
}
