/**
 * Card operations and settlement need a signed-on session (docs/transactions.md): before the first sign-on and after
 * a sign-off they are refused `notSignedOn` on the terminal and send nothing. A sign-off keeps the working keys on
 * the terminal, so the session flag alone must refuse them. Runs in Node and in XS (the scenario runner is pure).
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, resultLine, sale } from "./scenario-steps";

function run(steps: unknown[]): ScenarioEvent[] {
  return runScenario(parseScenario({ steps: [{ op: "powerOn" }, ...steps, drain] })).events as ScenarioEvent[];
}

const results = (events: ScenarioEvent[]) =>
  events.filter((e) => e.ev === "result" && e.op !== "signOn" && e.op !== "signOff").map(resultLine);
const sent = (events: ScenarioEvent[]) => events.filter((e) => e.ev === "send").map((e) => String(e.mti));

describe("a sale needs a sign-on", () => {
  test("before any sign-on: refused, nothing sent", () => {
    const events = run([sale(100)]);
    expect(results(events)).toEqual(["sale refused notSignedOn"]);
    expect(sent(events)).toEqual([]);
  });

  test("after a sign-off: sale, refund and settlement refused and nothing sent until the next sign-on", () => {
    const refund = { op: "refund", amount: 100, card: "unionpay-msr" };
    const events = run([
      { op: "signOn" },
      drain,
      sale(100),
      drain,
      { op: "signOff" },
      drain,
      sale(100),
      refund,
      { op: "settle" },
      drain,
      { op: "signOn" },
      drain,
      sale(100),
    ]);
    expect(results(events)).toEqual([
      "sale approved",
      "sale refused notSignedOn",
      "refund refused notSignedOn",
      "settle refused notSignedOn",
      "sale approved",
    ]);
    expect(sent(events)).toEqual(["0800", "0200", "0820", "0800", "0200"]);
  });
});
