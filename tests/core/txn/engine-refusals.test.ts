/**
 * What the engine does instead of going online: a reversal owed that cannot reach the host holds every
 * other online message back (refused reversalPending, nothing of theirs sent) until it goes first; a
 * balance inquiry without an answer has nothing to reverse; a settlement the host declines, or whose
 * upload it does not answer, closes nothing. And the approved results of network management carry F39.
 * Runs in Node and in XS (the scenario runner is pure).
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, resultLine, reversalOwedUnreachable, sale } from "./scenario-steps";

const TERMINAL = { reversalAttempts: 1, responseTimeoutMs: 1000 };

function run(steps: unknown[]): ScenarioEvent[] {
  return runScenario(parseScenario({ terminal: TERMINAL, steps: [{ op: "powerOn" }, { op: "signOn" }, drain, ...steps, drain] }))
    .events as ScenarioEvent[];
}

const results = (events: ScenarioEvent[]) => events.filter((e) => e.ev === "result" && e.op !== "signOn").map(resultLine);
const sent = (events: ScenarioEvent[]) => events.filter((e) => e.ev === "send").map((e) => `${String(e.mti)} ${String(e.stan)}`);
const fault = (f: Record<string, unknown>) => ({ op: "hostFault", fault: f });

test("a reversal owed that cannot reach the host holds back settlement, echo, sign-off, refund and sale; it goes first when the link is back", () => {
  const events = run([
    ...reversalOwedUnreachable(700),
    { op: "settle" },
    { op: "echo" },
    { op: "signOff" },
    { op: "refund", amount: 5, card: "unionpay-msr" },
    sale(5),
    { op: "advance", ms: 60_000 },
    { op: "network", state: "up" },
    drain,
    { op: "echo" },
  ]);
  expect(results(events)).toEqual([
    "sale timeout",
    "settle refused reversalPending",
    "echo refused reversalPending",
    "signOff refused reversalPending",
    "refund refused reversalPending",
    "sale refused reversalPending",
    "echo approved",
  ]);
  expect(sent(events)).toEqual(["0800 000001", "0200 000002", "0400 000002", "0400 000002", "0820 000003"]);
  expect(events.at(-1)).toMatchObject({ ev: "reconcile", agree: true });
});

test("approved network management results carry F39 00", () => {
  const events = run([{ op: "echo" }, { op: "networkCheck" }, drain, { op: "signOff" }]);
  expect(events.filter((e) => e.ev === "result").map(({ t: _t, ...rest }) => rest)).toEqual([
    { ev: "result", op: "signOn", stan: "000001", outcome: "approved", f39: "00" },
    { ev: "result", op: "echo", stan: "000002", outcome: "approved", f39: "00" },
    { ev: "result", op: "networkCheck", stan: "000003", outcome: "approved", f39: "00" },
    { ev: "result", op: "signOff", stan: "000004", outcome: "approved", f39: "00" },
  ]);
});

test("a balance inquiry without an answer times out, and nothing is reversed (it moved no money)", () => {
  const events = run([fault({ kind: "noResponse", mti: "0200" }), { op: "balance", card: "unionpay-msr", pin: "1234" }]);
  expect(results(events)).toEqual(["balance timeout"]);
  // No f39 key at all on a result without an answer (the contract's JSON, not a key holding undefined).
  const { t: _t, ...result } = events.find((e) => e.ev === "result" && e.op === "balance")!;
  expect(result).toStrictEqual({ ev: "result", op: "balance", stan: "000002", outcome: "timeout" });
  expect(sent(events)).toEqual(["0800 000001", "0200 000002"]);
});

test("a settlement the host declines closes nothing; the next one closes the batch", () => {
  const events = run([sale(100), drain, fault({ kind: "decline", code: "96", mti: "0500" }), { op: "settle" }, drain, { op: "settle" }]);
  expect(results(events)).toEqual(["sale approved", "settle declined", "settle approved"]);
  expect(events.filter((e) => e.ev === "settlement").map((e) => `${String(e.batch)} ${String(e.balanced)}`)).toEqual(["000001 true"]);
});

test("an echo, a sign-off or a settlement whose connect is refused is refused notSent, nothing sent", () => {
  const events = run([
    fault({ kind: "refuseConnection", count: 3 }),
    { op: "echo" },
    drain,
    { op: "signOff" },
    drain,
    { op: "settle" },
    drain,
    { op: "echo" },
  ]);
  expect(results(events)).toEqual(["echo refused notSent", "signOff refused notSent", "settle refused notSent", "echo approved"]);
  expect(sent(events)).toEqual(["0800 000001", "0820 000005"]);
});

test("a journal full of unresolved reversals refuses a refund too, but not a balance inquiry: it arms nothing", () => {
  const events = runScenario(
    parseScenario({
      terminal: TERMINAL,
      // Two sales armed and unresolved fill three 1 KiB sectors (each holds its slot and its REVERSAL's).
      flash: { sectorBytes: 1024, journalSectors: 3 },
      steps: [
        { op: "powerOn" },
        { op: "signOn" },
        drain,
        fault({ kind: "noResponse", mti: "0200", count: 2 }),
        fault({ kind: "noResponse", mti: "0400", count: 100 }),
        sale(1),
        sale(2),
        drain,
        { op: "refund", amount: 5, card: "unionpay-msr" },
        { op: "balance", card: "unionpay-msr", pin: "1234" },
        drain,
      ],
    }),
  ).events as ScenarioEvent[];
  expect(results(events)).toEqual(["sale timeout", "sale timeout", "refund refused journalFull", "balance approved"]);
});
