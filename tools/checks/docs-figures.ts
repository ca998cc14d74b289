/**
 * `npx tsx tools/checks/docs-figures.ts [--write]` (`make docs-figures`): the
 * deterministic figures in docs/ — XS heap slots and compute of the device
 * sale, room load costs, XS compute per crypto operation, the crypto suites in
 * XS — come from the benches' measurements, never typed by hand. Each figure
 * block sits between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->`;
 * without --write the script prints what differs and exits 1.
 * tests/node/checks/docs-figures.test.ts runs the comparison in `make test`.
 * Wall-clock figures (Node blocks/s) are not here: they vary run to run and
 * carry their command and machine in the doc.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { xsFigures } from "../bench/crypto";
import { measureDeviceSale, type DeviceSaleFigures } from "./device-sale";
import { REPO_ROOT } from "./manifest-check";
import { measureRoomLoads } from "./xs-footprint";
import { runSuites } from "../xs/suites";

/** Iterations of the XS crypto loops: the per-operation figures are the same for any count (loop cost subtracted). */
const CRYPTO_ITERATIONS = 2000;

let saleFigures: Promise<DeviceSaleFigures> | undefined;
/** One measured sale for every block that quotes it. */
function deviceSale(): Promise<DeviceSaleFigures> {
  saleFigures ??= measureDeviceSale();
  return saleFigures;
}

let cryptoFigures: Promise<Record<string, number>> | undefined;
/** The XS crypto loops run once for the blocks that need them. */
function cryptoXs(): Promise<Record<string, number>> {
  cryptoFigures ??= xsFigures(CRYPTO_ITERATIONS);
  return cryptoFigures;
}

interface FigureBlock {
  readonly file: string;
  readonly name: string;
  /** The block's fresh text, given its committed text (which holds the hand-set parts, e.g. budgets). */
  render(current: string): Promise<string>;
}

export interface BlockComparison {
  readonly file: string;
  readonly name: string;
  readonly committed: string;
  readonly fresh: string;
}

/** 1234567 → "1 234 567", as docs/ writes numbers. */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

const ROOM_LABELS: Readonly<Record<string, string>> = Object.freeze({ txn: "txn (engine + all it imports)" });

const BLOCKS: readonly FigureBlock[] = [
  {
    file: "docs/device.md",
    name: "device-budget",
    async render(current) {
      const f = await deviceSale();
      const measured: Readonly<Record<string, number | undefined>> = {
        "Idle terminal, live slots": f.idleTerminalSlots,
        "Sale, live slots at any instant (bound)": f.salePeakBoundSlots,
        "Sale, terminal-side XS compute": f.engineCompute,
      };
      // Rows keep their label and budget (set by hand, read by tests/node/checks/device-sale.test.ts); the measured cell is fresh.
      return current
        .split("\n")
        .map((line) => {
          const cells = line.split("|");
          const label = cells[1]?.trim() ?? "";
          if (!(label in measured)) return line;
          cells[2] = ` ${grouped(measured[label]!)} `;
          return cells.join("|");
        })
        .join("\n");
    },
  },
  {
    file: "docs/device.md",
    name: "device-sale",
    async render() {
      const f = await deviceSale();
      return `
- **preloaded** — slots held once the rooms' module bodies ran: ${grouped(f.preloadedSlots)}. On the device these objects
  are in flash (preload), not in the heap; loaded at run time they alone would need several times the
  heap, so preload is not optional.
- **idle terminal** — live slots after boot and sign-on (GC'd): ${grouped(f.idleTerminalSlots)}. Includes the emulated flash,
  network and clock and the scripted host (a few dozen objects the device does not have), so it
  over-counts a little; it lacks the device bindings (TimerClock, TlsTransport, Keypad, MSR capture,
  FlashPartition, NvsKeyStore: a reserve below).
- **sale, live slots at any instant (bound)** — the sale runs one operator input (a key, the swipe),
  then one timer, per XS crank; each crank's
  slot count before its GC (everything live at its start plus everything it allocated) bounds what
  can be live inside it: ${grouped(f.salePeakBoundSlots)}. Between steps, after GC, at most ${grouped(f.salePeakSlots)} are live; ${grouped(f.saleRetainedSlots)} stay after the sale
  (approved log entry, journal index). Without any GC the sale allocates ${grouped(f.saleAllocatedSlots)} slots: more than the
  4 928-slot heap, so the GC runs during every sale.
- **compute** — XS compute of the whole sale ${grouped(f.saleCompute)}, of which the scripted host (decode, answer,
  MAC; re-run alone on the recorded request) ${grouped(f.hostCompute)}: terminal side **${grouped(f.engineCompute)}** (emulated flash and
  network included; on the device the flash driver is native).
`;
    },
  },
  {
    file: "docs/device.md",
    name: "room-load",
    async render() {
      const rows = (await measureRoomLoads()).map(
        (r) => `| ${ROOM_LABELS[r.room] ?? r.room} | ${grouped(r.heapSlots)} | ${grouped(r.compute)} |`,
      );
      return ["", "| Room (+ imports) | Heap slots | Load compute |", "|---|---:|---:|", ...rows, ""].join("\n");
    },
  },
  {
    file: "docs/crypto.md",
    name: "crypto-xs-per-block",
    async render(current) {
      const xs = await cryptoXs();
      // The Node rows are wall-clock ranges written by hand; the XS row is measured.
      const row = `| XS compute per block | ${grouped(xs.des)} | ${grouped(xs.tdes)} | ${grouped(xs.sm4)} |`;
      return current
        .split("\n")
        .map((line) => (line.startsWith("| XS compute per block |") ? row : line))
        .join("\n");
    },
  },
  {
    file: "docs/crypto.md",
    name: "crypto-xs-per-operation",
    async render() {
      const xs = await cryptoXs();
      return `CUP ECB MAC over 256 bytes ${grouped(xs.cupEcbMac256)}, X9.19 retail MAC over 256 bytes ${grouped(xs.x919Mac256)} (32 DES
blocks), format 0 PIN block ${grouped(xs.pinBlock0)}`;
    },
  },
  {
    file: "docs/crypto.md",
    name: "crypto-xs-suites",
    async render() {
      const dir = path.join(REPO_ROOT, "tests/core/crypto");
      const files = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".test.ts"))
        .sort()
        .map((f) => path.join(dir, f));
      const results = await runSuites(files, 1);
      const passed = results.reduce((n, r) => n + r.outcomes.filter((o) => o.status === "passed").length, 0);
      const compute = results.reduce((n, r) => n + (r.runMeter?.compute ?? 0), 0);
      return `${passed} tests, ~${Math.round(compute / 1e6)} M`;
    },
  },
];

const marker = (name: string) => ({ open: `<!-- figures:${name} -->`, close: `<!-- /figures:${name} -->` });

function committedBlock(text: string, file: string, name: string): string {
  const { open, close } = marker(name);
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${file} has no figure block ${name} (${open} … ${close})`);
  return text.slice(start + open.length, end);
}

/** Every figure block: what is committed and what a fresh measurement gives. */
export async function compareFigures(root: string = REPO_ROOT): Promise<BlockComparison[]> {
  const out: BlockComparison[] = [];
  for (const block of BLOCKS) {
    const text = fs.readFileSync(path.join(root, block.file), "utf8");
    const committed = committedBlock(text, block.file, block.name);
    out.push({ file: block.file, name: block.name, committed, fresh: await block.render(committed) });
  }
  return out;
}

function writeFresh(root: string, comparisons: readonly BlockComparison[]): void {
  for (const c of comparisons) {
    const file = path.join(root, c.file);
    const { open, close } = marker(c.name);
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(
      file,
      text.replace(`${open}${c.committed}${close}`, () => `${open}${c.fresh}${close}`),
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const comparisons = await compareFigures();
  const stale = comparisons.filter((c) => c.committed !== c.fresh);
  if (process.argv.includes("--write")) {
    writeFresh(REPO_ROOT, stale);
    for (const c of stale) console.log(`docs-figures: ${c.file} ${c.name} updated`);
    console.log(`docs-figures: ${comparisons.length} blocks, ${stale.length} updated`);
  } else {
    for (const c of stale) console.log(`docs-figures: ${c.file} ${c.name} is stale:\n--- committed\n${c.committed}\n+++ fresh\n${c.fresh}`);
    console.log(`docs-figures: ${comparisons.length} blocks, ${stale.length} stale${stale.length > 0 ? " (make docs-figures)" : ""}`);
    process.exitCode = stale.length === 0 ? 0 : 1;
  }
}
