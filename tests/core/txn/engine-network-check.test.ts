/**
 * 检查网络连接 (docs/transactions.md): the network check's event carries the connect time (TCP and TLS), the echo's
 * answer time and the last four link failures, newest last, each stamped with the calendar clock; a check whose
 * echo goes unanswered is not ok and has no answer time. Only the Node scenarios read these before. Runs in Node
 * and in XS (the scenario runner is pure).
 */
import { SIMULATION_EPOCH_MS } from "../../../modules/emulators/virtual-wall-clock";
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, line } from "./scenario-steps";

const fault = (kind: string, more: Record<string, unknown> = {}) => ({ op: "hostFault", fault: { kind, ...more } });
const echo = [{ op: "echo" }, drain];

/** The events after a sign-on, without their times. */
function run(steps: unknown[]): Record<string, unknown>[] {
  const scenario = parseScenario({ terminal: { responseTimeoutMs: 5000 }, steps: [{ op: "powerOn" }, { op: "signOn" }, drain, ...steps] });
  return (runScenario(scenario).events as ScenarioEvent[]).map(({ t: _t, ...rest }) => rest);
}

function networkChecks(steps: unknown[]): Record<string, unknown>[] {
  return run([...steps, { op: "networkCheck" }, drain]).filter((e) => e.ev === "networkCheck");
}

describe("the network check", () => {
  test("measures the connect and the answer, and keeps the last four link failures, newest last, on the calendar clock", () => {
    const checks = networkChecks([
      fault("refuseConnection"),
      ...echo,
      fault("tlsHandshakeFail"),
      ...echo,
      { op: "advance", ms: 1000 },
      fault("refuseConnection"),
      ...echo,
      fault("noResponse", { mti: "0820" }),
      ...echo,
      fault("tlsHandshakeFail"),
      ...echo,
      fault("delay", { ms: 700, mti: "0820" }),
    ]);
    // Virtual milliseconds of each failure, from the run: the first refused connect (5 035) is the one dropped.
    const at = (virtualMs: number) => SIMULATION_EPOCH_MS + virtualMs;
    expect(checks).toEqual([
      {
        ev: "networkCheck",
        ok: true,
        connectMs: 20, // TCP and TLS over the emulated network's 5 ms each way
        answerMs: 710, // the 700 ms the host held the answer back, and the way back
        failures: [
          { failure: "handshake", atMs: at(5035) },
          { failure: "refused", atMs: at(6045) },
          { failure: "timeout", atMs: at(11065) },
          { failure: "handshake", atMs: at(16090) },
        ],
      },
    ]);
  });

  test("each check reports the failures as they were: a later failure does not change an earlier check's list", () => {
    const checks = networkChecks([{ op: "networkCheck" }, drain, fault("refuseConnection"), ...echo]);
    expect(checks.map((check) => (check.failures as { failure: string }[]).map((f) => f.failure))).toEqual([[], ["refused"]]);
  });

  test("an echo left unanswered: not ok, the connect measured, no answer time, the timeout listed", () => {
    const [check] = networkChecks([fault("noResponse", { mti: "0820" })]);
    expect(check).toEqual({ ev: "networkCheck", ok: false, connectMs: 20, failures: [{ failure: "timeout", atMs: expect.any(Number) }] });
  });

  test.each([
    ["declined 96", fault("decline", { code: "96", mti: "0820" }), { f39: "96" }, "declined 96"],
    ["with a spoilt MAC", fault("badMac", { mti: "0820" }), { badMac: true }, "failed 00"],
    ["without its MAC", fault("stripMac", { mti: "0820" }), { badMac: true }, "failed 00"],
  ])("an echo answered %s: not ok, no answer time, and why; the result says what came back", (_name, hostFault, why, result) => {
    const events = run([hostFault, { op: "networkCheck" }, drain]);
    expect(events.filter((e) => e.ev === "networkCheck")).toEqual([{ ev: "networkCheck", ok: false, connectMs: 20, ...why, failures: [] }]);
    expect(events.filter((e) => e.ev === "result" && e.op === "networkCheck").map((e) => line(e.outcome, e.f39))).toEqual([result]);
  });

  test("nothing failed yet: an empty list", () => {
    expect(networkChecks([])).toEqual([{ ev: "networkCheck", ok: true, connectMs: 20, answerMs: 10, failures: [] }]);
  });

  test("a reversal owed that cannot go out: not ok, refused reversalPending, no echo sent", () => {
    const scenario = parseScenario({
      terminal: { responseTimeoutMs: 5000 },
      steps: [
        { op: "powerOn" },
        { op: "signOn" },
        drain,
        fault("noResponse", { mti: "0200" }),
        fault("noResponse", { mti: "0400", count: 99 }),
        { op: "sale", amount: 100, card: "unionpay-msr", pin: "1234" },
        drain, // 冲正失败: still owed
        { op: "network", state: "down" },
        { op: "networkCheck" },
        drain,
        { op: "network", state: "up" },
        { op: "networkCheck" },
        drain,
      ],
    });
    const events = runScenario(scenario).events as ScenarioEvent[];
    expect(events.filter((e) => e.ev === "send" && e.mti === "0820")).toHaveLength(1);
    const checks = events.filter((e) => e.ev === "networkCheck");
    expect(checks.map((e) => e.ok)).toEqual([false, true]);
    // The first check's list is the failures until then, not a view of the list the later ones grew.
    const newestMs = checks.map((e) => (e.failures as { atMs: number }[]).at(-1)!.atMs);
    expect(newestMs[0]).toBeLessThan(newestMs[1]);
    expect(events.filter((e) => e.ev === "result" && e.op === "networkCheck").map((e) => [e.outcome, e.refusal])).toEqual([
      ["refused", "reversalPending"],
      ["approved", undefined],
    ]);
  });
});
