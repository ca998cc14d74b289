/**
 * A power cut at each flash operation of a sale, the whole terminal against the
 * host core (the scenario runner is pure: this runs in Node and in XS). The
 * approval closes the armed record and logs the sale in one flash step: a cut
 * at any operation (torn inside it, as `powerCut atFlashOp` does) ends with the
 * sale never sent, or reversed, or approved once, the host and the terminal
 * agreeing, nothing owed. tests/node/scenario/power-cuts.test.ts
 * is the long version (settlement, small sectors); this one is the core's.
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";

const BEFORE = [{ op: "powerOn" }, { op: "signOn" }, { op: "drain" }];
const SALE = [{ op: "sale", amount: 1234, card: "unionpay-chip", pin: "1234" }, { op: "drain" }];
const AFTER = [{ op: "powerOn" }, { op: "drain" }, { op: "echo" }, { op: "drain" }];

function run(steps: readonly unknown[], seed = 1) {
  return runScenario(parseScenario({ name: "approval cut", steps }), { seed });
}

/**
 * The flash operations of the sale alone. Counted inside the tests, not when the file loads: code a suite runs at
 * load is Stryker's static coverage, and this run reaches the whole engine (docs/testing.md).
 */
function saleFlashOps(): number {
  return run([...BEFORE, ...SALE]).flashOps - run(BEFORE).flashOps;
}

function hostSales(events: readonly ScenarioEvent[]): string[] {
  const reconcile = events[events.length - 1];
  return (reconcile.host as { transactions: string[] }).transactions.filter((t) => t.endsWith("/sale/1234"));
}

describe("a power cut at each flash operation of a sale", () => {
  test("the sale has flash operations to cut, and the uncut sale is approved", () => {
    expect(saleFlashOps()).toBeGreaterThanOrEqual(2);
    expect(hostSales(run([...BEFORE, ...SALE, ...AFTER]).events)).toHaveLength(1);
  });

  test("every cut: the host and the terminal agree, nothing owed, approved at most once", () => {
    const verdicts = new Set<string>();
    const opsSale = saleFlashOps();
    for (let n = 1; n <= opsSale; n++) {
      const { events } = run([...BEFORE, { op: "powerCut", atFlashOp: n }, ...SALE, ...AFTER], n);
      const cuts = events.filter((e) => e.ev === "power" && e.state === "cut");
      expect(cuts).toHaveLength(1);
      const reconcile = events[events.length - 1];
      expect(reconcile).toMatchObject({ ev: "reconcile", agree: true, terminal: { reversalsPending: 0 } });
      const sales = hostSales(events);
      expect(sales.length).toBeLessThanOrEqual(1);
      const sent = events.some((e) => e.ev === "send" && e.mti === "0200");
      verdicts.add(sales.length === 1 ? "approved" : sent ? "reversed" : "notSent");
    }
    // Cuts before the arm send nothing; the cut torn inside the approval's own program leaves it owed, and it is reversed.
    expect([...verdicts].sort()).toEqual(["notSent", "reversed"]);
  });
});
