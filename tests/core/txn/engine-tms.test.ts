/**
 * The engine's TMS exchange (docs/tms.md): an 0810 is believed only with a good MAC. A parameter block whose answer
 * comes without F64 or with a spoilt one is refused (`parameters failed badMac`), nothing of it applies, and the
 * next TMS check fetches it again. Like every online message it needs a sign-on, and it waits behind a reversal
 * owed. Runs in Node and in XS (the scenario runner is pure).
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, line, resultLine, reversalOwedUnreachable, sale } from "./scenario-steps";

function run(steps: unknown[]): ScenarioEvent[] {
  return runScenario(parseScenario({ steps: [{ op: "powerOn" }, ...steps, drain] })).events as ScenarioEvent[];
}

/** The parameter events ("failed badMac", "applied") and the sales' outcomes, in order. */
function story(events: ScenarioEvent[]): string[] {
  return events.flatMap((e) =>
    e.ev === "parameters" ? [line("parameters", e.state, e.reason)] : e.ev === "result" && e.op === "sale" ? [resultLine(e)] : [],
  );
}

describe("a TMS answer is believed only with its MAC", () => {
  test.each(["stripMac", "badMac"])(
    "%s on the parameter download: refused, the limit not applied; the next TMS check applies it",
    (kind) => {
      // The first 0800 is the sign-on (its 0810 is checked with the keys it delivers), the second the download.
      const events = run([
        { op: "tmsPublish", parameters: { amountMaxMinor: 5000 } },
        { op: "hostFault", fault: { kind: "delay", ms: 0, mti: "0800" } },
        { op: "hostFault", fault: { kind, mti: "0800" } },
        { op: "signOn" },
        drain,
        sale(6000),
        drain,
        { op: "tmsCheck" },
        drain,
        sale(6000),
      ]);
      expect(story(events)).toEqual(["parameters failed badMac", "sale approved", "parameters applied", "sale refused amountLimit"]);
      expect(events).toContainEqual(expect.objectContaining({ ev: "recv", mti: "0810", discarded: true, reason: "badMac" }));
    },
  );

  test("before a sign-on no 0800 goes out: the check fails notSignedOn", () => {
    const events = run([{ op: "tmsPublish", parameters: { amountMaxMinor: 5000 } }, { op: "tmsCheck" }]);
    expect(story(events)).toEqual(["parameters failed notSignedOn"]);
    expect(events.filter((e) => e.ev === "send")).toEqual([]);
  });

  test("after a sign-off (the keys kept), no 0800 goes out either: notSignedOn", () => {
    const events = run([
      { op: "signOn" },
      drain,
      { op: "signOff" },
      drain,
      { op: "tmsPublish", parameters: { amountMaxMinor: 5000 } },
      { op: "tmsCheck" },
    ]);
    expect(story(events)).toEqual(["parameters failed notSignedOn"]);
    expect(events.filter((e) => e.ev === "send").map((e) => e.mti)).toEqual(["0800", "0820"]);
  });

  test("a reversal owed that cannot reach the host holds the download back (unreachable), even when the link is back just after", () => {
    const scenario = parseScenario({
      terminal: { reversalAttempts: 1, responseTimeoutMs: 1000 },
      steps: [
        { op: "powerOn" },
        { op: "signOn" },
        drain,
        ...reversalOwedUnreachable(100),
        { op: "tmsPublish", parameters: { amountMaxMinor: 5000 } },
        { op: "tmsCheck" },
        // Boot's flush fails its connect at 10 s, the check's own at 20 s; the link is back in between.
        { op: "advance", ms: 15_000 },
        { op: "network", state: "up" },
        drain,
      ],
    });
    const events = runScenario(scenario).events as ScenarioEvent[];
    expect(story(events)).toEqual(["sale timeout", "parameters failed unreachable"]);
    const afterBoot = events.slice(events.findIndex((e) => e.ev === "power" && e.state === "on" && e.t > 0));
    // The reversal goes first once the link is back; a later download may follow it, never precede it.
    expect(afterBoot.filter((e) => e.ev === "send").map((e) => e.mti)[0]).toBe("0400");
  });

  test("each 0800 of the download is said as sent, with its STAN", () => {
    const events = run([{ op: "tmsPublish", parameters: { amountMaxMinor: 5000 } }, { op: "signOn" }]);
    expect(events.filter((e) => e.ev === "send").map((e) => `${String(e.mti)} ${String(e.stan)}`)).toEqual([
      "0800 000001",
      "0800 000002",
      "0800 000003",
      "0800 000004",
    ]);
  });
});
