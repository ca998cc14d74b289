/**
 * The deterministic figures in docs/ (XS heap slots and compute of the device
 * sale, room load costs, XS compute per crypto operation, the crypto suites in
 * XS) equal a fresh measurement: a change that moves them regenerates them
 * with `make docs-figures` (tools/checks/docs-figures.ts).
 */
import { compareFigures, grouped, type BlockComparison } from "../../../tools/checks/docs-figures";

describe("figures in docs/ come from the benches", () => {
  let comparisons: BlockComparison[];
  beforeAll(async () => {
    comparisons = await compareFigures();
  });

  test("every figure block is found and measured", () => {
    expect(comparisons.map((c) => `${c.file}#${c.name}`)).toEqual([
      "docs/device.md#device-budget",
      "docs/device.md#device-sale",
      "docs/device.md#room-load",
      "docs/crypto.md#crypto-xs-per-block",
      "docs/crypto.md#crypto-xs-per-operation",
      "docs/crypto.md#crypto-xs-suites",
    ]);
    for (const c of comparisons) expect(c.fresh).toMatch(/\d \d{3}|\d+ tests/);
  });

  test("each committed block equals a fresh measurement (else: make docs-figures)", () => {
    const stale = comparisons.filter((c) => c.committed !== c.fresh).map((c) => `${c.file}#${c.name}:\n${c.fresh}`);
    expect(stale).toEqual([]);
  });

  test("numbers are grouped by thousands as docs/ writes them", () => {
    expect([0, 999, 1000, 417671, 1234567].map(grouped)).toEqual(["0", "999", "1 000", "417 671", "1 234 567"]);
  });
});
