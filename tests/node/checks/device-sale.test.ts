/**
 * One full sale on the ESP32's module set in XS (tools/checks/device-sale.ts)
 * stays within the heap budget of docs/device.md "Memory budget", and that
 * budget fits the esp32 `creation.heap` of manifest.json. Meter figures are
 * deterministic (slot counts and XS compute), never timings.
 */
import fs from "node:fs";
import path from "node:path";
import { measureDeviceSale, type DeviceSaleFigures } from "../../../tools/checks/device-sale";
import { REPO_ROOT } from "../../../tools/checks/manifest-check";

/** A row of the budget table: `| label | measured | budget |`, numbers with thin spaces as thousands separators. */
function budgetRow(doc: string, label: string): number {
  const row = doc.split("\n").find((line) => line.startsWith(`| ${label} |`));
  if (row === undefined) throw new Error(`docs/device.md has no budget row "${label}"`);
  const cells = row.split("|").map((cell) => cell.trim());
  const budget = Number(cells[3].replace(/[\s,]/g, ""));
  if (!Number.isInteger(budget) || budget <= 0) throw new Error(`budget of "${label}" is not a number: ${cells[3]}`);
  return budget;
}

const doc = fs.readFileSync(path.join(REPO_ROOT, "docs/device.md"), "utf8");
const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "manifest.json"), "utf8")) as {
  platforms: { esp32: { creation: { heap: { initial: number } } } };
};

describe("one sale on the device module set, in XS", () => {
  let figures: DeviceSaleFigures;
  beforeAll(async () => {
    figures = await measureDeviceSale();
  });

  test("the sale is approved and takes a few timer steps", () => {
    // measureDeviceSale throws unless the sale ends approved; a sale is a handful of timers, not a loop.
    expect(figures.steps).toBeGreaterThan(0);
    expect(figures.steps).toBeLessThan(50);
  });

  test("the idle terminal and the sale's live slots stay within their budgets", () => {
    expect(figures.idleTerminalSlots).toBeGreaterThan(0);
    expect(figures.idleTerminalSlots).toBeLessThanOrEqual(budgetRow(doc, "Idle terminal, live slots"));
    expect(figures.salePeakSlots).toBeLessThanOrEqual(figures.salePeakBoundSlots);
    expect(figures.salePeakBoundSlots).toBeLessThanOrEqual(budgetRow(doc, "Sale, live slots at any instant (bound)"));
    expect(figures.saleRetainedSlots).toBeLessThanOrEqual(figures.salePeakSlots);
  });

  test("the budgets with the TLS reserve fit the esp32 creation heap", () => {
    const total =
      budgetRow(doc, "Idle terminal, live slots") +
      budgetRow(doc, "Sale, live slots at any instant (bound)") +
      budgetRow(doc, "TLS handshake reserve (JS TLS fallback), slots") +
      budgetRow(doc, "Device bindings reserve, slots");
    expect(total).toBeLessThanOrEqual(manifest.platforms.esp32.creation.heap.initial);
  });

  test("the sale's terminal-side compute stays within its budget", () => {
    expect(figures.engineCompute).toBeGreaterThan(figures.hostCompute);
    expect(figures.engineCompute).toBeLessThanOrEqual(budgetRow(doc, "Sale, terminal-side XS compute"));
  });

  test("the preloaded rooms would not fit the heap: preload is what makes the budget work", () => {
    expect(figures.preloadedSlots).toBeGreaterThan(manifest.platforms.esp32.creation.heap.initial);
  });
});
