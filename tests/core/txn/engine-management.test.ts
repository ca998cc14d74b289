/**
 * Network management (echo 0820 301, sign-off 0820 002, the sign-on's 0810) at its edges: before a sign-on,
 * declined, answered with a spoilt MAC; and the void's lookup of its sale in the approved log. Each test here
 * pins a behaviour that a StrykerJS mutant of modules/txn/engine.ts changed without any suite noticing.
 * Runs in Node and in XS (the scenario runner is pure).
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, resultLine, sale } from "./scenario-steps";

const TERMINAL = { reversalAttempts: 1, responseTimeoutMs: 1000 };

function run(steps: unknown[], signOn = true): ScenarioEvent[] {
  const start = signOn ? [{ op: "powerOn" }, { op: "signOn" }, drain] : [{ op: "powerOn" }];
  return runScenario(parseScenario({ terminal: TERMINAL, steps: [...start, ...steps, drain] })).events as ScenarioEvent[];
}

const results = (events: ScenarioEvent[]) => events.filter((e) => e.ev === "result" && e.op !== "signOn").map(resultLine);
const sent = (events: ScenarioEvent[]) => events.filter((e) => e.ev === "send").map((e) => `${String(e.mti)} ${String(e.stan)}`);
const fault = (f: Record<string, unknown>) => ({ op: "hostFault", fault: f });
const without = ({ t: _t, ...rest }: ScenarioEvent) => rest;

describe("echo and sign-off", () => {
  test("before any sign-on: both refused notSignedOn, nothing sent", () => {
    const events = run([{ op: "echo" }, { op: "signOff" }], false);
    expect(results(events)).toEqual(["echo refused notSignedOn", "signOff refused notSignedOn"]);
    expect(sent(events)).toEqual([]);
  });

  test("declined by the host (F39 96): the result says declined with the host's code, and a declined sign-off leaves the terminal signed on", () => {
    const events = run([fault({ kind: "decline", code: "96", mti: "0820", count: 2 }), { op: "echo" }, { op: "signOff" }, sale(100)]);
    expect(events.filter((e) => e.ev === "result" && e.op !== "signOn").map(without)).toEqual([
      { ev: "result", op: "echo", stan: "000002", outcome: "declined", f39: "96" },
      { ev: "result", op: "signOff", stan: "000003", outcome: "declined", f39: "96" },
      expect.objectContaining({ op: "sale", stan: "000004", outcome: "approved" }),
    ]);
  });

  test("answered 00 with a spoilt MAC: not approved, and the sign-off did not happen", () => {
    const events = run([fault({ kind: "badMac", mti: "0820", count: 2 }), { op: "echo" }, { op: "signOff" }, sale(100)]);
    expect(results(events)).toEqual(["echo failed", "signOff failed", "sale approved"]);
    expect(events.filter((e) => e.ev === "recv" && e.mti === "0830").map(without)).toEqual([
      { ev: "recv", mti: "0830", stan: "000002", f39: "00", discarded: true, reason: "badMac" },
      { ev: "recv", mti: "0830", stan: "000003", f39: "00", discarded: true, reason: "badMac" },
    ]);
  });

  test("an approved sign-off: the next sale is refused notSignedOn until a sign-on", () => {
    const events = run([{ op: "signOff" }, sale(100), { op: "signOn" }, drain, sale(100)]);
    expect(results(events)).toEqual(["signOff approved", "sale refused notSignedOn", "sale approved"]);
  });
});

test("the sign-on's 0810 (no F64: it brings the MAK) is received as it is, not as a spoilt MAC, at the first sign-on and the next", () => {
  const events = run([{ op: "signOn" }, drain, { op: "signOn" }, drain], false);
  expect(events.filter((e) => e.ev === "recv").map(without)).toEqual([
    { ev: "recv", mti: "0810", stan: "000001", f39: "00" },
    { ev: "recv", mti: "0810", stan: "000002", f39: "00" },
  ]);
});

describe("a void finds its own sale in the approved log", () => {
  test("of the second of two sales: the void carries that sale's amount", () => {
    const events = run([sale(100), sale(250), drain, { op: "void", stan: "000003" }]);
    expect(events.filter((e) => e.ev === "result" && e.op === "void").map(without)).toEqual([
      { ev: "result", op: "void", stan: "000004", outcome: "approved", f39: "00", amount: 250 },
    ]);
  });

  test("a void of the first sale does not make the second unvoidable", () => {
    const events = run([sale(100), sale(250), drain, { op: "void", stan: "000002" }, drain, { op: "void", stan: "000003" }]);
    expect(events.filter((e) => e.ev === "result" && e.op === "void").map(without)).toEqual([
      { ev: "result", op: "void", stan: "000004", outcome: "approved", f39: "00", amount: 100 },
      { ev: "result", op: "void", stan: "000005", outcome: "approved", f39: "00", amount: 250 },
    ]);
  });
});
