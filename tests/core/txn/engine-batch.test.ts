/**
 * The batch number: a settlement closes the open batch and the next one is its number + 1, kept on flash
 * across a power cycle; the terminal stays signed on. Runs in Node and in XS (the scenario runner is pure).
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, sale } from "./scenario-steps";

function run(steps: unknown[]): ScenarioEvent[] {
  return runScenario(parseScenario({ steps: [{ op: "powerOn" }, { op: "signOn" }, drain, ...steps, drain] })).events as ScenarioEvent[];
}

test("each settlement closes its own batch; the next batch is one more, after a power cycle too", () => {
  const settle = { op: "settle" };
  const events = run([
    sale(100),
    drain,
    settle,
    drain,
    sale(200),
    drain,
    settle,
    drain,
    { op: "powerOff" },
    { op: "powerOn" },
    drain,
    sale(300),
    drain,
    settle,
  ]);
  expect(events.filter((e) => e.ev === "settlement").map((e) => `${String(e.batch)} ${String(e.balanced)}`)).toEqual([
    "000001 true",
    "000002 true",
    "000003 true",
  ]);
  // Signed on throughout: no sign-on after the power cycle, and every sale went out.
  expect(events.filter((e) => e.ev === "result").map((e) => `${String(e.op)} ${String(e.outcome)}`)).toEqual([
    "signOn approved",
    "sale approved",
    "settle approved",
    "sale approved",
    "settle approved",
    "sale approved",
    "settle approved",
  ]);
  expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true });
});

test("a sign-on takes the host's batch while its own is empty, and keeps its own while it holds approvals", () => {
  const settle = { op: "settle" };
  const lost0510 = { op: "hostFault", fault: { kind: "closeAfterRead", mti: "0500" } };
  const events = run([
    // An empty batch settled at the host whose answer is lost: the host is at batch 2, the terminal still at 1.
    lost0510,
    settle,
    drain,
    { op: "signOn" },
    drain,
    settle,
    drain,
    // Now with an approval in the batch: the next sign-on keeps the terminal's batch (3 here, the host at 4).
    sale(100),
    drain,
    lost0510,
    settle,
    drain,
    { op: "signOn" },
    drain,
    settle,
  ]);
  expect(events.filter((e) => e.ev === "result" && e.op === "settle").map((e) => String(e.outcome))).toEqual([
    "timeout",
    "approved",
    "timeout",
    "approved",
  ]);
  expect(events.filter((e) => e.ev === "settlement").map((e) => `${String(e.batch)} ${String(e.balanced)}`)).toEqual([
    "000002 true",
    "000003 true",
  ]);
});
