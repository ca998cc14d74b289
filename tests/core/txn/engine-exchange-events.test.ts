/**
 * The engine's `exchange` events (connecting, then waiting with the response timeout once the request is
 * written) as the merchant sees them, the processing screen and its countdown; and the `send` event, which
 * carries `f39` only for a message that has one (a 0400's reason). Node and XS (the scenario runner is pure).
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import type { Screen } from "../../../modules/ui/terminal-ui";

function run(steps: unknown[]): { events: readonly ScenarioEvent[]; screens: Screen[] } {
  const screens: Screen[] = [];
  const scenario = parseScenario({
    terminal: { responseTimeoutMs: 1500 },
    steps: [{ op: "powerOn" }, { op: "signOn" }, ...steps, { op: "drain" }],
  });
  return { events: runScenario(scenario, { onScreen: (screen) => screens.push(screen) }).events, screens };
}
const sale = { op: "sale", amount: 1234, card: "unionpay-msr", pin: "1234" };
const saleScreens = (screens: readonly Screen[]) => screens.filter((s) => "op" in s && s.op === "sale");

describe("exchange events: connecting, then waiting for the answer", () => {
  test("a sale: processing while connecting (no countdown), then the countdown from the response timeout, then the result", () => {
    const { screens } = run([sale]);
    expect(saleScreens(screens)).toEqual([
      { kind: "processing", op: "sale" },
      { kind: "processing", op: "sale", remainingMs: 1500 },
      { kind: "result", op: "sale", outcome: "approved", stan: "000002", f39: "00", amount: 1234 },
    ]);
  });

  test("a reversal's 0400 is no processing exchange: the reversing screen stays, with its own countdown", () => {
    const { screens } = run([{ op: "hostFault", fault: { kind: "noResponse", mti: "0200" } }, sale]);
    const reversing = { kind: "reversing", stan: "000002", op: "sale", amount: 1234, attempt: 1, attempts: 3 };
    expect(saleScreens(screens)).toEqual([
      { kind: "processing", op: "sale" },
      { kind: "processing", op: "sale", remainingMs: 1500 },
      reversing,
      { ...reversing, remainingMs: 1500 },
      { kind: "result", op: "sale", outcome: "timeout", stan: "000002", amount: 1234, reversed: true },
    ]);
  });
});

describe("send events", () => {
  test("f39 only on a message that carries one: none on 0800, 0200, 0820; the reason on the 0400", () => {
    const { events } = run([{ op: "hostFault", fault: { kind: "noResponse", mti: "0200" } }, sale, { op: "echo" }]);
    const sends = events.filter((e) => e.ev === "send");
    expect(sends.map((e) => `${String(e.mti)}:${"f39" in e ? String(e.f39) : "-"}`)).toEqual(["0800:-", "0200:-", "0400:98", "0820:-"]);
  });
});
