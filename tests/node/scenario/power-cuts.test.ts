// A power cut in the middle of every flash erase/program of a sale and of the settlement that follows
// (docs/contracts.md powerCut atFlashOp): each run must end with an agreeing reconcile, no reversal left,
// no STAN used twice for a request, and no approved sale lost or counted twice. Small sectors (1 KiB:
// seven journal slots, 32 state slots) with 0..3 earlier sales put sector erases inside the loop too.
import { runScenario, type RunOptions, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";

const sale = (amount: number, card = "unionpay-chip") => ({ op: "sale", amount, card, pin: "1234" });
const UNDER_TEST = [sale(1234), { op: "drain" }, { op: "settle" }, { op: "drain" }];
const AFTER = [{ op: "powerOn" }, { op: "drain" }, sale(99, "visa-msr"), { op: "drain" }, { op: "settle" }, { op: "drain" }];

const GEOMETRIES: readonly (RunOptions & { readonly label: string })[] = [
  { label: "4 KiB sectors", blockSize: 4096, journalSectors: 8 },
  { label: "1 KiB sectors", blockSize: 1024, journalSectors: 6 },
];

interface Case {
  readonly label: string;
  readonly options: RunOptions;
  readonly before: readonly unknown[];
  readonly n: number;
}

function run(steps: readonly unknown[], options: RunOptions) {
  return runScenario(parseScenario({ name: "cut", steps }), options);
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const geometry of GEOMETRIES) {
    for (let earlier = 0; earlier <= (geometry.blockSize === 1024 ? 3 : 0); earlier++) {
      const before = [{ op: "powerOn" }, { op: "signOn" }, { op: "drain" }];
      for (let i = 0; i < earlier; i++) before.push(sale(10 + i), { op: "drain" });
      const opsBefore = run(before, geometry).flashOps;
      const opsUnderTest = run([...before, ...UNDER_TEST], geometry).flashOps - opsBefore;
      for (let n = 1; n <= opsUnderTest; n++)
        out.push({
          label: `${geometry.label}, ${earlier} earlier sale(s), operation ${n} of ${opsUnderTest}`,
          options: geometry,
          before,
          n,
        });
    }
  }
  return out;
}

const CASES = cases();
const tornKinds = new Set<unknown>();

function requestStans(events: readonly ScenarioEvent[]): string[] {
  return events.filter((e) => e.ev === "send" && e.mti !== "0400").map((e) => String(e.stan));
}

describe("power cut at each flash operation of a sale and its settlement", () => {
  test("the loop is not empty", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  test.each(CASES.map((c) => [c.label, c] as const))("%s", (_label, c) => {
    const { events } = run([...c.before, { op: "powerCut", atFlashOp: c.n }, ...UNDER_TEST, ...AFTER], { ...c.options, seed: c.n });
    const cuts = events.filter((e) => e.ev === "power" && e.state === "cut");
    expect(cuts).toHaveLength(1);
    tornKinds.add(cuts[0].flashOp);
    const stans = requestStans(events);
    expect(new Set(stans).size).toBe(stans.length);
    const reconcile = events[events.length - 1];
    expect(reconcile).toMatchObject({ ev: "reconcile", agree: true, terminal: { reversalsPending: 0 } });
    // The sale after the cut always goes through; the one under test is approved once or reversed, never both or twice.
    const host = (reconcile.host as { transactions: string[] }).transactions;
    expect(host.filter((t) => t.endsWith("/sale/99"))).toHaveLength(1);
    expect(host.filter((t) => t.endsWith("/sale/1234")).length).toBeLessThanOrEqual(1);
  });

  test("the loop tore both programs and erases", () => {
    expect([...tornKinds].sort()).toEqual(["erase", "program"]);
  });
});
