// The terminal assembly's slips and screens through the scenario runner (the device's assembly on the emulated network), in Node and in XS.
import { REFERENCE_POLICY, XSPOS_POLICY, type ReversalPolicy } from "../../../modules/txn/reversal-policy";
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { render, type Screen } from "../../../modules/ui/terminal-ui";
import { fill } from "../../../modules/ui/texts";

/** Two attempts per episode, one second each: a 冲正失败 takes two seconds of virtual time. */
const FAST = { reversalAttempts: 2, responseTimeoutMs: 1000 };

/** `reversalPolicy`: the reference policy retries only before the next online message, which these counts of attempts follow. */
function run(steps: unknown[], reversalPolicy: ReversalPolicy = XSPOS_POLICY): ScenarioEvent[] {
  const scenario = { terminal: FAST, steps: [{ op: "powerOn" }, { op: "signOn" }, ...steps, { op: "drain" }] };
  return runScenario(parseScenario(scenario), { reversalPolicy }).events as ScenarioEvent[];
}
const sale = (amount = 1234) => ({ op: "sale", amount, card: "unionpay-msr", pin: "1234" });
const drain = { op: "drain" };
/** The first sale (STAN 000002) gets no answer: its reversal is due at once. */
const SALE_UNANSWERED = { op: "hostFault", fault: { kind: "noResponse", mti: "0200" } };
const reversalsUnanswered = (count: number) => ({ op: "hostFault", fault: { kind: "noResponse", mti: "0400", count } });

const slips = (events: readonly ScenarioEvent[]) => events.filter((e) => e.ev === "slip");
const slipKinds = (events: readonly ScenarioEvent[]) => slips(events).map((e) => `${String(e.kind)}/${String(e.stan)}`);
const screens = (events: readonly ScenarioEvent[]) => events.filter((e) => e.ev === "screen").map((e) => String(e.text));
const sends0400 = (events: readonly ScenarioEvent[]) => events.filter((e) => e.ev === "send" && e.mti === "0400").length;

describe("Terminal: slips of a 冲正失败", () => {
  test("one 冲正失败 slip though its retries fail again before later sales; one reversed slip when the host answers again (reference policy)", () => {
    // Attempts 1-2 (the sale's episode), 3-4 and 5-6 (before each later sale) go unanswered; the 7th goes through.
    const events = run(
      [SALE_UNANSWERED, reversalsUnanswered(6), sale(), drain, sale(500), drain, sale(600), drain, sale(700)],
      REFERENCE_POLICY,
    );
    expect(sends0400(events)).toBe(7);
    expect(slipKinds(events)).toEqual(["reversalFailed/000002", "sale/000003", "sale/000004", "reversed/000002", "sale/000005"]);
    const [failed, , , reversed] = slips(events);
    expect(failed).toMatchObject({ ev: "slip", kind: "reversalFailed", stan: "000002", attempts: 2 });
    expect(typeof failed.atMs).toBe("number");
    expect(reversed.atMs as number).toBeGreaterThan(failed.atMs as number);
    // The screen: 冲正失败 once, the count on the idle screen, the later reversal's notice once.
    const texts = screens(events);
    expect(texts.filter((t) => t === "REVERSAL FAILED")).toHaveLength(1);
    expect(texts).toContain("WELCOME - 1 REVERSAL(S) PENDING");
    expect(texts.filter((t) => t.startsWith("REVERSED"))).toEqual(["REVERSED: STAN 000002"]);
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true });
  });

  test("the same story with the network down, then restored", () => {
    const events = run([
      SALE_UNANSWERED,
      reversalsUnanswered(2),
      sale(),
      drain,
      { op: "network", state: "down" },
      sale(500),
      drain,
      sale(600),
      drain,
      { op: "network", state: "up" },
      { op: "echo" },
      drain,
      sale(700),
    ]);
    expect(slipKinds(events)).toEqual(["reversalFailed/000002", "reversed/000002", "sale/000006"]);
    // The sales while the network was down were not sent: no slip for them.
    expect(events.filter((e) => e.ev === "result" && e.refusal === "notSent")).toHaveLength(2);
    expect(screens(events).filter((t) => t === "REVERSAL FAILED")).toHaveLength(1);
    expect(screens(events).filter((t) => t === "REVERSED: STAN 000002")).toHaveLength(1);
  });

  test("a power cycle neither reprints the 冲正失败 slip nor forgets that one was printed", () => {
    const events = run([
      SALE_UNANSWERED,
      reversalsUnanswered(4),
      sale(),
      drain,
      { op: "powerOff" },
      { op: "powerOn" },
      drain,
      sale(500),
      drain,
      { op: "echo" },
    ]);
    expect(slipKinds(events)).toEqual(["reversalFailed/000002", "reversed/000002", "sale/000003"]);
    expect(screens(events).filter((t) => t === "REVERSAL FAILED")).toHaveLength(1);
  });

  test("several records: one 冲正失败 slip each, one reversed slip each (reference policy)", () => {
    const events = run(
      [
        { op: "hostFault", fault: { kind: "noResponse", mti: "0200", count: 2 } },
        // Sale 1's episode (2), then before sale 2: sale 1's retry (2); then sale 2's own episode (2).
        reversalsUnanswered(6),
        sale(),
        drain,
        sale(500),
        drain,
        sale(600),
      ],
      REFERENCE_POLICY,
    );
    const kinds = slipKinds(events);
    expect(kinds.filter((k) => k.startsWith("reversalFailed"))).toEqual(["reversalFailed/000002", "reversalFailed/000003"]);
    expect(kinds.filter((k) => k.startsWith("reversed")).sort()).toEqual(["reversed/000002", "reversed/000003"]);
    expect(kinds.slice(-1)).toEqual(["sale/000004"]);
  });
});

describe("Terminal: reversals that need no slip", () => {
  test("a sale reversed in its own episode: its result says REVERSED; no slip at all", () => {
    const events = run([SALE_UNANSWERED, sale()]);
    expect(slips(events)).toEqual([]);
    expect(events.filter((e) => e.ev === "result" && e.op === "sale")).toEqual([
      expect.objectContaining({ stan: "000002", outcome: "timeout", reversed: true }),
    ]);
    const texts = screens(events);
    expect(texts.slice(-2)).toEqual(["REVERSING", "REVERSED"]);
    expect(texts).not.toContain("REVERSAL FAILED");
  });

  test("a sale cut by a power loss is reversed at power-on: the notice once, no slip (none was printed before)", () => {
    const events = run([SALE_UNANSWERED, sale(), { op: "advance", ms: 100 }, { op: "powerCut" }, { op: "powerOn" }]);
    expect(slips(events)).toEqual([]);
    const cut = events.findIndex((e) => e.ev === "power" && e.state === "cut");
    expect(screens(events.slice(cut))).toEqual(["WELCOME - 1 REVERSAL(S) PENDING", "REVERSING", "REVERSED: STAN 000002"]);
    expect(screens(events).filter((t) => t.startsWith("REVERSED"))).toEqual(["REVERSED: STAN 000002"]);
  });
});

describe("Terminal: sale and settlement slips", () => {
  test("an approved sale prints one sale slip; a declined one none", () => {
    const events = run([sale(), drain, { op: "sale", amount: 1234, card: "visa-msr", pin: "9999" }]);
    expect(slipKinds(events)).toEqual(["sale/000002"]);
  });

  test("settlement with a 冲正失败 still open: one settlement slip, the open reversal in the event", () => {
    const events = run([SALE_UNANSWERED, reversalsUnanswered(40), sale(), drain, sale(500), drain, { op: "settle" }]);
    const settlement = events.find((e) => e.ev === "settlement");
    expect(settlement).toMatchObject({
      balanced: true,
      totals: { saleCount: 1, saleAmount: 500, voidCount: 0, voidAmount: 0, refundCount: 0, refundAmount: 0 },
      openReversals: [{ stan: "000002", op: "sale", amount: 1234, state: "failed" }],
    });
    expect(slipKinds(events)).toEqual(["reversalFailed/000002", "sale/000003", `settlement/${String(settlement?.stan)}`]);
    expect(screens(events)).toContain("SETTLEMENT DONE");
  });
});

describe("Terminal: the shipped policy's idle worker", () => {
  test("a 冲正失败 goes through while the terminal is idle, without waiting for the next sale: one slip each way", () => {
    // The sale's episode (2) and the worker's first retry (2) go unanswered; its second retry goes through.
    const events = run([SALE_UNANSWERED, reversalsUnanswered(4), sale(), drain]);
    expect(slipKinds(events)).toEqual(["reversalFailed/000002", "reversed/000002"]);
    expect(sends0400(events)).toBe(5);
    const reversed = events.find((e) => e.ev === "journal" && e.state === "reversed")!;
    // Nothing else was asked of the terminal: the worker sent it on its own, after its idle delays.
    expect(events.filter((e) => e.ev === "result" && e.t <= reversed.t).map((e) => e.op)).toEqual(["signOn", "sale"]);
    expect(screens(events).filter((t) => t.startsWith("REVERSED"))).toEqual(["REVERSED: STAN 000002"]);
  });

  test("attempts into a dead link are not spent: refused connects end the episode as REVERSAL PENDING, never 冲正失败", () => {
    const events = run([
      { op: "hostFault", fault: { kind: "closeAfterRead", mti: "0200" } },
      sale(),
      { op: "advance", ms: 22 },
      { op: "hostFault", fault: { kind: "refuseConnection", count: 5 } },
    ]);
    expect(events.filter((e) => e.ev === "journal" && e.state === "failed")).toEqual([]);
    expect(events).toContainEqual(expect.objectContaining({ ev: "result", op: "sale", outcome: "timeout", reversalPending: true }));
    expect(screens(events)).toContain("REVERSAL PENDING");
    expect(events).toContainEqual(expect.objectContaining({ ev: "journal", stan: "000002", state: "reversed" }));
    expect(slipKinds(events)).toEqual([]);
  });
});

describe("Terminal: the network check when the host is reached but refuses the echo", () => {
  /** The diagnostics screens the check shows, rendered. */
  function checkScreens(fault: Record<string, unknown>, language: "zh" | "en"): (readonly string[])[] {
    const shown: Screen[] = [];
    const scenario = {
      terminal: FAST,
      steps: [{ op: "powerOn" }, { op: "signOn" }, drain, { op: "hostFault", fault }, { op: "networkCheck" }, drain],
    };
    runScenario(parseScenario(scenario), { onScreen: (screen) => shown.push(screen) });
    return shown.filter((screen) => screen.kind === "diagnostics").map((screen) => render(screen, language).lines);
  }

  test.each(["zh", "en"] as const)("%s: the code it answered, or a bad MAC and to sign on again; the network is not blamed", (language) => {
    const timings = fill("networkTimings", language, { connect: "20", answer: "—" });
    expect(checkScreens({ kind: "decline", code: "96", mti: "0820" }, language)).toEqual([
      [timings, fill("networkAnswerRefused", language, { code: "96" })],
    ]);
    expect(checkScreens({ kind: "badMac", mti: "0820" }, language)).toEqual([[timings, fill("networkAnswerBadMac", language)]]);
  });
});

describe("Terminal: the reversing screen between attempts", () => {
  test("while the second attempt waits its backoff, the screen names attempt 2 of 2 and counts down to it", () => {
    const scenario = {
      terminal: FAST,
      steps: [
        { op: "powerOn" },
        { op: "signOn" },
        drain,
        { op: "hostFault", fault: { kind: "closeAfterRead", mti: "0200" } },
        { op: "hostFault", fault: { kind: "noResponse", mti: "0400" } },
        sale(),
        drain,
      ],
    };
    const reversingScreens = (reversalPolicy: ReversalPolicy) => {
      const shown: Screen[] = [];
      runScenario(parseScenario(scenario), { reversalPolicy, onScreen: (screen) => shown.push(screen) });
      return shown.filter((screen) => screen.kind === "reversing");
    };
    const reversing = reversingScreens(XSPOS_POLICY);
    expect(reversing.find((screen) => screen.backoff === true)).toMatchObject({ attempt: 2, attempts: 2, remainingMs: 2000 });
    expect(reversing[0]).toMatchObject({ attempt: 1, attempts: 2 });
    // The reference has no backoff: its second attempt follows at once, with no countdown to it.
    const reference = reversingScreens(REFERENCE_POLICY);
    expect(reference.map((screen) => screen.attempt)).toContain(2);
    expect(reference.filter((screen) => screen.backoff === true)).toEqual([]);
  });
});
