/**
 * The operation limits a TMS publishes (docs/terminal-management.md), asked before a STAN or a byte is spent: a
 * single amount over `amountMaxMinor`, a batch at `batchCountMax` approvals, a sale or refund that would take the
 * batch's sale or refund total over `batchAmountMaxMinor`. Each at its edge: the amount at the limit is taken, one
 * fen more is refused. Only the scenarios checked them before (Node only); Stryker found the edges undefended by
 * the core suites (docs/testing.md). Runs in Node and in XS (the scenario runner is pure).
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, resultLine, sale } from "./scenario-steps";

function run(parameters: Record<string, number>, operations: unknown[]): ScenarioEvent[] {
  const scenario = parseScenario({
    steps: [{ op: "powerOn" }, { op: "tmsPublish", parameters }, { op: "signOn" }, drain, ...operations, drain],
  });
  return runScenario(scenario).events as ScenarioEvent[];
}

/** Each card operation's outcome, with its refusal when refused: `sale approved`, `refund refused amountLimit`. */
function outcomes(events: ScenarioEvent[]): string[] {
  return events.filter((e) => e.ev === "result" && ["sale", "refund", "void", "balance"].includes(String(e.op))).map(resultLine);
}

/** The STANs sent in 0200/0220 requests: a refused operation spends none. */
function requestsSent(events: ScenarioEvent[]): number {
  return events.filter((e) => e.ev === "send" && ["0200", "0220"].includes(String(e.mti))).length;
}

/** Sign-on and the parameter download take STANs 000001–000004: the first sale is 000005. */
const FIRST_SALE_STAN = "000005";
const refund = (amount: number) => ({ op: "refund", amount, card: "unionpay-msr" });

describe("a single amount", () => {
  test("at amountMaxMinor is taken, one fen more is refused before anything is sent; a refund likewise", () => {
    const events = run({ amountMaxMinor: 5000 }, [sale(5000), sale(5001), refund(5000), refund(5001)]);
    expect(outcomes(events)).toEqual(["sale approved", "sale refused amountLimit", "refund approved", "refund refused amountLimit"]);
    expect(requestsSent(events)).toBe(2);
  });

  test("a balance inquiry is never limited", () => {
    const events = run({ amountMaxMinor: 1, batchCountMax: 1 }, [sale(1), { op: "balance", card: "unionpay-msr", pin: "1234" }]);
    expect(outcomes(events)).toEqual(["sale approved", "balance approved"]);
  });
});

describe("the batch", () => {
  test("holds batchCountMax approvals: the next sale, refund or void is refused until it is settled", () => {
    const events = run({ batchCountMax: 2 }, [
      sale(100),
      drain,
      sale(200),
      sale(300),
      refund(100),
      { op: "void", stan: FIRST_SALE_STAN },
      { op: "settle" },
      sale(300),
    ]);
    expect(outcomes(events)).toEqual([
      "sale approved",
      "sale approved",
      "sale refused batchLimit",
      "refund refused batchLimit",
      "void refused batchLimit",
      "sale approved",
    ]);
  });

  test("one approval under batchCountMax, the next is taken", () => {
    expect(outcomes(run({ batchCountMax: 3 }, [sale(100), sale(200), sale(300)]))).toEqual([
      "sale approved",
      "sale approved",
      "sale approved",
    ]);
  });

  test("its sale total may reach batchAmountMaxMinor, not pass it; the refund total is counted apart", () => {
    const events = run({ batchAmountMaxMinor: 1000 }, [sale(600), sale(401), sale(400), sale(1), refund(1000), refund(1)]);
    expect(outcomes(events)).toEqual([
      "sale approved",
      "sale refused batchLimit",
      "sale approved",
      "sale refused batchLimit",
      "refund approved",
      "refund refused batchLimit",
    ]);
  });

  test("a void is not an amount added: taken with the sale and refund totals at their limit, and it frees the sale's share", () => {
    // The void of 000005 would pass the limit were its amount added to either total.
    const events = run({ batchAmountMaxMinor: 1000 }, [sale(1000), refund(1000), drain, { op: "void", stan: FIRST_SALE_STAN }, sale(1000)]);
    expect(outcomes(events)).toEqual(["sale approved", "refund approved", "void approved", "sale approved"]);
  });
});

describe("a limit lowered after a sale", () => {
  test("does not stop that sale's void: the money goes back whatever the single-amount limit says now", () => {
    const scenario = parseScenario({
      steps: [
        { op: "powerOn" },
        { op: "signOn" },
        drain,
        sale(6000), // STAN 000002, under the field's own limit
        drain,
        { op: "tmsPublish", parameters: { amountMaxMinor: 5000 } },
        { op: "signOn" },
        drain,
        sale(6000),
        { op: "void", stan: "000002" },
        drain,
      ],
    });
    const events = runScenario(scenario).events as ScenarioEvent[];
    expect(outcomes(events)).toEqual(["sale approved", "sale refused amountLimit", "void approved"]);
  });
});
