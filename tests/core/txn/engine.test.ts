// The engine against the real host core on the emulated network, in Node and in XS: the scenario runner is pure.
import type { CipherAlgorithm, CipherProvider } from "../../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../../modules/crypto/ciphers";
import { REFERENCE_POLICY, XSPOS_POLICY, type ReversalPolicy } from "../../../modules/txn/reversal-policy";
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";

function run(
  steps: unknown[],
  terminal: Record<string, unknown> = {},
  flash?: Record<string, number>,
  reversalPolicy: ReversalPolicy = XSPOS_POLICY,
): ScenarioEvent[] {
  const scenario = { terminal, steps: [{ op: "powerOn" }, { op: "signOn" }, ...steps, { op: "drain" }] };
  return runScenario(parseScenario(flash === undefined ? scenario : { ...scenario, flash }), { reversalPolicy }).events as ScenarioEvent[];
}
const sale = (card = "unionpay-msr", amount = 1234) => ({ op: "sale", amount, card, pin: "1234" });
const pick = (events: ScenarioEvent[], ev: string) => events.filter((e) => e.ev === ev).map(({ t: _t, ...rest }) => rest);
/** The engine's decisions about one STAN, in order (slips and screens aside). */
const story = (events: ScenarioEvent[], stan: string, without: readonly string[] = ["slip"]) =>
  events.filter((e) => e.stan === stan && !without.includes(e.ev)).map((e) => `${e.ev}:${String(e.state ?? e.mti ?? e.outcome)}`);

describe("TxnEngine", () => {
  test("an approved sale: armed before the first byte, completed with the approval", () => {
    const events = run([sale()]);
    expect(story(events, "000002")).toEqual(["journal:armed", "send:0200", "recv:0210", "journal:completed", "result:approved"]);
    expect(pick(events, "slip")).toEqual([expect.objectContaining({ ev: "slip", kind: "sale", stan: "000002" })]);
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true });
  });

  test("a timeout reverses with the original STAN and F39 98; the late answer never approves", () => {
    const events = run([{ op: "hostFault", fault: { kind: "delay", ms: 61000, mti: "0200" } }, sale()]);
    expect(pick(events, "send")).toContainEqual({ ev: "send", mti: "0400", stan: "000002", f39: "98" });
    expect(pick(events, "recv")).toContainEqual({ ev: "recv", mti: "0210", stan: "000002", discarded: true, reason: "late" });
    // Reported after its own reversal went through: the customer was not charged, and the result says so.
    expect(pick(events, "result")).toContainEqual({
      ev: "result",
      op: "sale",
      stan: "000002",
      outcome: "timeout",
      amount: 1234,
      reversed: true,
    });
    expect(pick(events, "screen").map((e) => e.text)).toEqual(["PROCESSING", "SIGNED ON", "PROCESSING", "REVERSING", "REVERSED"]);
  });

  test("a refund is armed before its first byte and approved in one step", () => {
    const events = run([{ op: "refund", amount: 800, card: "unionpay-msr" }]);
    expect(story(events, "000002")).toEqual(["journal:armed", "send:0220", "recv:0230", "journal:completed", "result:approved"]);
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true });
  });

  test.each([
    ["no answer", { kind: "noResponse", mti: "0220" }],
    ["the connection closed after the write", { kind: "closeAfterRead", mti: "0220" }],
    ["a late answer", { kind: "delay", ms: 61000, mti: "0220" }],
  ])("a refund with %s is reversed (0400 98, its own STAN): nothing credited, host and terminal agree", (_name, fault) => {
    const events = run([
      { op: "hostFault", fault },
      { op: "refund", amount: 800, card: "unionpay-chip", pin: "1234" },
    ]);
    expect(story(events, "000002", ["slip", "recv"])).toEqual([
      "journal:armed",
      "send:0220",
      "journal:reversalDue",
      "send:0400",
      "journal:reversed",
      "result:timeout",
    ]);
    expect(pick(events, "send")).toContainEqual({ ev: "send", mti: "0400", stan: "000002", f39: "98" });
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true, host: { count: 0 } });
  });

  test("a refund approval with a bad MAC is reversed with A0; a refund refused before sending arms nothing", () => {
    const events = run([
      { op: "hostFault", fault: { kind: "badMac", mti: "0220" } },
      { op: "refund", amount: 800, card: "unionpay-msr" },
    ]);
    expect(pick(events, "recv")).toContainEqual({ ev: "recv", mti: "0230", stan: "000002", f39: "00", discarded: true, reason: "badMac" });
    expect(pick(events, "send")).toContainEqual({ ev: "send", mti: "0400", stan: "000002", f39: "A0" });
    expect(pick(events, "result")).toContainEqual({
      ev: "result",
      op: "refund",
      stan: "000002",
      outcome: "failed",
      f39: "00",
      amount: 800,
      reversed: true,
    });
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true });
    const refused = run([
      { op: "drain" },
      { op: "hostFault", fault: { kind: "refuseConnection" } },
      { op: "refund", amount: 800, card: "unionpay-msr" },
    ]);
    expect(pick(refused, "journal")).toEqual([]);
    expect(pick(refused, "result")).toContainEqual({ ev: "result", op: "refund", stan: "000002", outcome: "refused", refusal: "notSent" });
  });

  test("a decline with a bad MAC is a plain recv (acted on: the record closes); a reversal's final 0410 with a bad MAC is discarded and retried", () => {
    const declined = run([
      { op: "hostFault", fault: { kind: "badMac", mti: "0200" } },
      { op: "sale", amount: 1234, card: "visa-msr", pin: "9999" },
    ]);
    expect(pick(declined, "recv")).toContainEqual({ ev: "recv", mti: "0210", stan: "000002", f39: "55" });
    expect(pick(declined, "journal").map((e) => e.state)).toEqual(["armed", "completed"]);
    const reversal = run([
      { op: "hostFault", fault: { kind: "noResponse", mti: "0200" } },
      { op: "hostFault", fault: { kind: "badMac", mti: "0400" } },
      sale(),
    ]);
    const answers = pick(reversal, "recv").filter((e) => e.mti === "0410");
    expect(answers).toEqual([
      { ev: "recv", mti: "0410", stan: "000002", f39: "00", discarded: true, reason: "badMac" },
      { ev: "recv", mti: "0410", stan: "000002", f39: "00" },
    ]);
    expect(pick(reversal, "journal").map((e) => e.state)).toEqual(["armed", "reversalDue", "reversed"]);
  });

  test.each([
    ["sale", "0200", "0210", sale()],
    ["refund", "0220", "0230", { op: "refund", amount: 800, card: "unionpay-msr" }],
  ])("a %s approval without F64 (host fault stripMac) is never accepted: discarded, reversed with A0", (op, mti, answerMti, step) => {
    const events = run([{ op: "hostFault", fault: { kind: "stripMac", mti } }, step]);
    expect(pick(events, "recv")).toContainEqual({
      ev: "recv",
      mti: answerMti,
      stan: "000002",
      f39: "00",
      discarded: true,
      reason: "badMac",
    });
    expect(pick(events, "send")).toContainEqual({ ev: "send", mti: "0400", stan: "000002", f39: "A0" });
    expect(pick(events, "journal").map((e) => e.state)).toEqual(["armed", "reversalDue", "reversed"]);
    expect(pick(events, "result")).toContainEqual(expect.objectContaining({ op, stan: "000002", outcome: "failed", reversed: true }));
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true, host: { count: 0 } });
  });

  test("a decline without F64 is acted on (no money moves): a plain recv, the record closes", () => {
    const events = run([
      { op: "hostFault", fault: { kind: "stripMac", mti: "0200" } },
      { op: "sale", amount: 1234, card: "visa-msr", pin: "9999" },
    ]);
    expect(pick(events, "recv")).toContainEqual({ ev: "recv", mti: "0210", stan: "000002", f39: "55" });
    expect(pick(events, "journal").map((e) => e.state)).toEqual(["armed", "completed"]);
  });

  test("a reversal's final 0410 without F64 (here 25, original unknown) is discarded and the reversal retried", () => {
    const events = run([
      { op: "hostFault", fault: { kind: "closeBeforeRead", mti: "0200" } },
      { op: "hostFault", fault: { kind: "stripMac", mti: "0400" } },
      sale(),
    ]);
    expect(pick(events, "recv").filter((e) => e.mti === "0410")).toEqual([
      { ev: "recv", mti: "0410", stan: "000002", f39: "25", discarded: true, reason: "badMac" },
      { ev: "recv", mti: "0410", stan: "000002", f39: "25" },
    ]);
    expect(pick(events, "send").filter((e) => e.mti === "0400")).toHaveLength(2);
    expect(pick(events, "journal").map((e) => e.state)).toEqual(["armed", "reversalDue", "reversed"]);
  });

  test("a refused connection arms nothing", () => {
    const events = run([{ op: "drain" }, { op: "hostFault", fault: { kind: "refuseConnection" } }, sale()]);
    expect(pick(events, "journal")).toEqual([]);
    expect(pick(events, "result")).toContainEqual({ ev: "result", op: "sale", stan: "000002", outcome: "refused", refusal: "notSent" });
  });

  test("exhausted attempts (reference policy, no idle worker): 冲正失败 is kept, stays on the screen over the sale's result, and is retried before the next online message (an echo)", () => {
    const events = run(
      [
        { op: "hostFault", fault: { kind: "noResponse", mti: "0200" } },
        { op: "hostFault", fault: { kind: "noResponse", mti: "0400", count: 2 } },
        sale(),
        { op: "drain" },
        { op: "echo" },
      ],
      { reversalAttempts: 2, responseTimeoutMs: 1000 },
      undefined,
      REFERENCE_POLICY,
    );
    const journal = pick(events, "journal").map((e) => e.state);
    expect(journal).toEqual(["armed", "reversalDue", "failed", "reversed"]);
    const sends = pick(events, "send").map((e) => e.mti);
    expect(sends.slice(-2)).toEqual(["0400", "0820"]);
    // The timeout result does not replace 冲正失败; the scripted echo stands for the operator's acknowledgement. The idle
    // screen counts the open reversal; when it goes through, a notice names it and waits for ENTER (the echo's result behind it).
    const texts = events.filter((e) => e.ev === "screen").map((e) => e.text);
    expect(texts.slice(texts.indexOf("REVERSAL FAILED"))).toEqual([
      "REVERSAL FAILED",
      "WELCOME - 1 REVERSAL(S) PENDING",
      "REVERSING",
      "REVERSED: STAN 000002",
    ]);
    expect(texts).not.toContain("TIMED OUT");
    // One slip said it failed (with its attempts); one says it is over.
    expect(pick(events, "slip").map((e) => `${String(e.kind)}/${String(e.stan)}/${String(e.attempts)}`)).toEqual([
      "reversalFailed/000002/2",
      "reversed/000002/1",
    ]);
  });

  test("a 0510 lost after the host settled: the next sign-on keeps the terminal's open batch, which then settles balanced with everything in it", () => {
    const events = run([
      sale(),
      { op: "drain" },
      { op: "hostFault", fault: { kind: "closeAfterRead", mti: "0500" } },
      { op: "settle" },
      { op: "drain" },
      { op: "powerOff" },
      { op: "powerOn" },
      { op: "signOn" },
      sale("unionpay-msr", 2000),
      { op: "drain" },
      { op: "settle" },
    ]);
    expect(pick(events, "result").filter((e) => e.op === "settle")).toEqual([
      { ev: "result", op: "settle", stan: "000003", outcome: "timeout" },
      { ev: "result", op: "settle", stan: "000006", outcome: "approved", f39: "00" },
    ]);
    // The host moved to batch 2 when it settled; the terminal still held batch 1's sale and kept its batch.
    expect(pick(events, "settlement")).toEqual([
      expect.objectContaining({ batch: "000001", balanced: true, totals: expect.objectContaining({ saleCount: 2, saleAmount: 3234 }) }),
    ]);
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true });
  });

  test("a journal full of unresolved reversals refuses the next sale before connecting; the reversals still go out first", () => {
    const small = { sectorBytes: 1024, journalSectors: 3 };
    const events = run(
      [
        { op: "hostFault", fault: { kind: "noResponse", mti: "0200", count: 2 } },
        { op: "hostFault", fault: { kind: "noResponse", mti: "0400", count: 20 } },
        sale("unionpay-msr", 1),
        sale("unionpay-msr", 2),
        { op: "drain" },
        sale("unionpay-msr", 3),
      ],
      { reversalRetries: 1, responseTimeoutMs: 1000 },
      small,
    );
    // Two sales fill 3 × 1 KiB (each armed record holds its slot and its REVERSAL's); both were sent and reversal-due.
    expect(pick(events, "journal").filter((e) => e.state === "armed")).toHaveLength(2);
    expect(pick(events, "result").slice(-1)).toEqual([{ ev: "result", op: "sale", outcome: "refused", refusal: "journalFull" }]);
    expect(events.filter((e) => e.ev === "screen").map((e) => e.text)).toContain("JOURNAL FULL — SETTLE FIRST");
    // The refused sale's flush tried both failed reversals again, and no 0200 left for it.
    const sends = pick(events, "send").map((e) => `${e.mti}/${e.stan}`);
    expect(sends.filter((s) => s.startsWith("0200"))).toEqual(["0200/000002", "0200/000003"]);
    expect(sends.slice(-2)).toEqual(["0400/000002", "0400/000003"]);
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true });
  });

  test("when the reversals go through, the same small journal takes sales again", () => {
    const events = run(
      [
        { op: "hostFault", fault: { kind: "noResponse", mti: "0200", count: 2 } },
        { op: "hostFault", fault: { kind: "noResponse", mti: "0400", count: 2 } },
        sale("unionpay-msr", 1),
        sale("unionpay-msr", 2),
        { op: "drain" },
        sale("unionpay-msr", 3),
      ],
      { reversalRetries: 1, responseTimeoutMs: 1000 },
      { sectorBytes: 1024, journalSectors: 3 },
    );
    expect(pick(events, "result").slice(-1)).toEqual([
      { ev: "result", op: "sale", stan: "000004", outcome: "approved", f39: "00", amount: 3 },
    ]);
  });

  test("a reboot mid-episode continues the attempt count kept on flash: no fresh set of attempts per boot", () => {
    const events = run(
      [
        { op: "hostFault", fault: { kind: "noResponse", mti: "0200" } },
        { op: "hostFault", fault: { kind: "noResponse", mti: "0400", count: 20 } },
        sale(),
        // The sale times out at ~1 s and its first 0400 leaves; the cut comes while it waits for the 0410.
        { op: "advance", ms: 1500 },
        { op: "powerCut" },
        { op: "powerOn" },
        { op: "drain" },
      ],
      { reversalRetries: 3, responseTimeoutMs: 1000 },
    );
    const cut = events.findIndex((e) => e.ev === "power" && e.state === "cut");
    // The episode after the boot ends at the first 冲正失败 (the idle worker's later episodes are fresh ones).
    const failed = events.findIndex((e, i) => i > cut && e.ev === "journal" && e.state === "failed");
    const reversals = (from: number, to: number) => events.slice(from, to).filter((e) => e.ev === "send" && e.mti === "0400").length;
    expect(reversals(0, cut)).toBe(1);
    // Attempts 2 and 3 after the boot, then 冲正失败: three in all, not 1 + 3.
    expect(reversals(cut, failed)).toBe(2);
    expect(events[failed]).toMatchObject({ ev: "journal", stan: "000002", state: "failed" });
  });

  test("a power cut after the write: reversal-due at boot, reversed before the next sale", () => {
    const events = run([
      { op: "hostFault", fault: { kind: "noResponse", mti: "0200" } },
      sale(),
      { op: "advance", ms: 100 },
      { op: "powerCut" },
      { op: "powerOn" },
      sale("unionpay-msr", 99),
    ]);
    expect(pick(events, "boot")).toEqual([
      { ev: "boot", reversalDue: 0 },
      { ev: "boot", reversalDue: 1 },
    ]);
    const sends = pick(events, "send").map((e) => `${e.mti}/${e.stan}`);
    expect(sends).toEqual(["0800/000001", "0200/000002", "0400/000002", "0200/000003"]);
    expect(events[events.length - 1]).toMatchObject({ ev: "reconcile", agree: true });
  });

  test("after boot-time reversals the engine gives the screen back: the reversed sale's notice, not PROCESSING", () => {
    const events = run([
      { op: "hostFault", fault: { kind: "noResponse", mti: "0200" } },
      sale(),
      { op: "advance", ms: 100 },
      { op: "powerCut" },
      { op: "powerOn" },
      { op: "drain" },
    ]);
    const boot = events.findIndex((e) => e.ev === "boot" && e.reversalDue === 1);
    const screens = events
      .slice(boot)
      .filter((e) => e.ev === "screen")
      .map((e) => e.text);
    // The power cut interrupted the sale: the merchant never saw its outcome, so its reversal is told once.
    expect(screens).toEqual(["REVERSING", "REVERSED: STAN 000002"]);
    // Recovery found it before the boot event: the idle screen counted it at once.
    expect(
      events
        .slice(0, boot)
        .filter((e) => e.ev === "screen")
        .map((e) => e.text),
    ).toContain("WELCOME - 1 REVERSAL(S) PENDING");
  });

  test("the key unwrap and the MAC and PIN ciphers come from the ciphers option (a device's native 3DES route)", () => {
    const made: CipherAlgorithm[] = [];
    const counting: CipherProvider = {
      create(algorithm, key) {
        made.push(algorithm);
        return softwareCiphers.create(algorithm, key);
      },
    };
    const scenario = parseScenario({ steps: [{ op: "powerOn" }, { op: "signOn" }, sale(), { op: "drain" }] });
    const routed = runScenario(scenario, { ciphers: counting });
    // The sign-on's key exchange: the TMK to unwrap F62, each working key for its check value, then the
    // MAK and PIK ciphers; all 3DES in the test terminal.
    expect(made).toEqual(["tdes", "tdes", "tdes", "tdes", "tdes"]);
    expect(routed.events).toContainEqual(expect.objectContaining({ ev: "result", op: "sale", outcome: "approved" }));
    // The same bytes on the wire either way: the route changes where 3DES runs, not what it computes.
    expect(routed.events).toEqual(runScenario(scenario).events);
  });
});
