/**
 * What the engine does with an answer that is wrong in one part only, against the real host core with the host
 * faults made for it (docs/host-simulator.md "Faults"): a decline whose MAC is spoilt, an approval that does not
 * echo F3, F4 or F42, an approval without F37 or F38; and a chip refund, which ends with its first GENERATE AC.
 * Runs in Node and in XS (the scenario runner is pure). Each test kills a mutant of docs/testing.md's table.
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { MemoryLedger } from "../../../tools/scenario/memory-ledger";
import type { Slip } from "../../../modules/ui/slips";

interface Run {
  readonly events: ScenarioEvent[];
  readonly slips: { readonly slip: Slip; readonly lines: readonly string[] }[];
}

function run(steps: unknown[]): Run {
  const slips: Run["slips"] = [];
  const scenario = parseScenario({ steps: [{ op: "powerOn" }, { op: "signOn" }, ...steps, { op: "drain" }] });
  const events = runScenario(scenario, { onSlip: (slip, lines) => slips.push({ slip, lines }) }).events as ScenarioEvent[];
  return { events, slips };
}
const sale = (card = "unionpay-msr", amount = 1234) => ({ op: "sale", amount, card, pin: "1234" });
const fault = (spec: Record<string, unknown>) => ({ op: "hostFault", fault: spec });
const pick = (events: ScenarioEvent[], ev: string) => events.filter((e) => e.ev === ev).map(({ t: _t, ...rest }) => rest);
const states = (events: ScenarioEvent[], stan = "000002") =>
  pick(events, "journal")
    .filter((e) => e.stan === stan)
    .map((e) => (e.reason === undefined ? e.state : `${String(e.state)}/${String(e.reason)}`));
const reversals = (events: ScenarioEvent[]) => pick(events, "send").filter((e) => e.mti === "0400");
const lastOf = (events: ScenarioEvent[]) => events[events.length - 1];

describe("a decline whose MAC is spoilt is acted on, and said to be", () => {
  // macProtects: only 00 (and a reversal's final 0410) must be MAC'd; a 0210 12 or 25 is a decline like any other.
  test.each(["12", "25"])("a sale's 0210 %s with a bad MAC: a plain recv, the record closes, declined", (code) => {
    const { events } = run([fault({ kind: "decline", code, badMac: true, mti: "0200" }), sale()]);
    expect(pick(events, "recv").filter((e) => e.mti === "0210")).toEqual([{ ev: "recv", mti: "0210", stan: "000002", f39: code }]);
    expect(states(events)).toEqual(["armed", "completed"]);
    expect(pick(events, "result").filter((e) => e.op === "sale")).toEqual([
      { ev: "result", op: "sale", stan: "000002", outcome: "declined", f39: code, amount: 1234 },
    ]);
    expect(reversals(events)).toEqual([]);
    expect(lastOf(events)).toMatchObject({ ev: "reconcile", agree: true, host: { count: 0 } });
  });

  test("a reversal's 0410 12 with a bad MAC is final only when its MAC holds: discarded, the reversal retried", () => {
    const { events } = run([
      fault({ kind: "noResponse", mti: "0200" }),
      fault({ kind: "decline", code: "12", badMac: true, mti: "0400" }),
      sale(),
    ]);
    expect(pick(events, "recv").filter((e) => e.mti === "0410")).toEqual([
      { ev: "recv", mti: "0410", stan: "000002", f39: "12", discarded: true, reason: "badMac" },
      { ev: "recv", mti: "0410", stan: "000002", f39: "00" },
    ]);
    expect(states(events)).toEqual(["armed", "reversalDue/98", "reversed"]);
    expect(lastOf(events)).toMatchObject({ ev: "reconcile", agree: true, host: { count: 0 } });
  });
});

describe("an approval that does not echo the request's F3, F4 or F42 is not believed", () => {
  test.each([3, 4, 42])("a sale answered 00 with another F%i: reversed with 06, failed, the host agrees", (field) => {
    const { events, slips } = run([fault({ kind: "wrongEcho", field, mti: "0200" }), sale()]);
    // The answer itself is sound (MAC good): a plain recv; what is wrong is what it answers.
    expect(pick(events, "recv").filter((e) => e.mti === "0210")).toEqual([{ ev: "recv", mti: "0210", stan: "000002", f39: "00" }]);
    expect(states(events)).toEqual(["armed", "reversalDue/06", "reversed"]);
    expect(reversals(events)).toEqual([{ ev: "send", mti: "0400", stan: "000002", f39: "06" }]);
    expect(pick(events, "result").filter((e) => e.op === "sale")).toEqual([
      { ev: "result", op: "sale", stan: "000002", outcome: "failed", f39: "00", amount: 1234, reversed: true },
    ]);
    expect(slips.map((s) => s.slip.kind)).toEqual([]);
    expect(lastOf(events)).toMatchObject({ ev: "reconcile", agree: true, host: { count: 0 } });
  });

  test.each([3, 4, 42])("a refund answered 00 with another F%i: reversed with 06", (field) => {
    const { events } = run([fault({ kind: "wrongEcho", field, mti: "0220" }), { op: "refund", amount: 800, card: "unionpay-msr" }]);
    expect(states(events)).toEqual(["armed", "reversalDue/06", "reversed"]);
    expect(pick(events, "result").filter((e) => e.op === "refund")).toEqual([
      { ev: "result", op: "refund", stan: "000002", outcome: "failed", f39: "00", amount: 800, reversed: true },
    ]);
    expect(lastOf(events)).toMatchObject({ ev: "reconcile", agree: true, host: { count: 0 } });
  });

  // A balance inquiry has no record: nothing to reverse, and its 00 is a bad answer, not a decline.
  test.each([3, 42])("a balance answered 00 with another F%i: failed, no balance shown, nothing armed or reversed", (field) => {
    const { events } = run([fault({ kind: "wrongEcho", field, mti: "0200" }), { op: "balance", card: "unionpay-msr", pin: "1234" }]);
    expect(pick(events, "result").filter((e) => e.op === "balance")).toEqual([
      { ev: "result", op: "balance", stan: "000002", outcome: "failed", f39: "00", amount: 0 },
    ]);
    expect(pick(events, "journal")).toEqual([]);
    expect(reversals(events)).toEqual([]);
  });

  test("the same balance inquiry answered as sent shows the balance", () => {
    const { events } = run([{ op: "balance", card: "unionpay-msr", pin: "1234" }]);
    expect(pick(events, "result").filter((e) => e.op === "balance")).toEqual([
      { ev: "result", op: "balance", stan: "000002", outcome: "approved", f39: "00", balance: expect.any(Number) },
    ]);
  });
});

describe("an approval without F37 or F38", () => {
  const AUTH = /^授权码 AUTH {2}/;
  const RRN = /^参考号 RRN {3}/;
  const slipOf = (r: Run, stan: string) => r.slips.find((s) => s.slip.kind === "sale" && s.slip.stan === stan)!;

  test("with both, the slip prints what the host answered (F38 the last six digits of its F37)", () => {
    const r = run([sale()]);
    const { slip, lines } = slipOf(r, "000002");
    const codes = slip as Slip & { authCode: string; rrn: string };
    expect(codes.rrn).toMatch(/^[0-9]{12}$/);
    expect(codes.authCode).toBe(codes.rrn.slice(-6));
    expect(lines.filter((l) => AUTH.test(l) || RRN.test(l))).toEqual([`授权码 AUTH  ${codes.authCode}`, `参考号 RRN   ${codes.rrn}`]);
  });

  test.each([
    [[38], { authCode: "" }],
    [[37], { rrn: "" }],
    [[37, 38], { authCode: "", rrn: "" }],
  ])("without %j: approved once, the journal keeps it, the slip leaves it blank, a void after a reboot finds the sale", (fields, blank) => {
    const r = run([
      fault({ kind: "dropFields", fields, mti: "0200" }),
      sale(),
      { op: "drain" },
      { op: "powerOff" },
      { op: "powerOn" },
      { op: "signOn" },
      { op: "void", stan: "000002" },
    ]);
    expect(states(r.events)).toEqual(["armed", "completed"]);
    expect(pick(r.events, "result").filter((e) => e.op === "sale" || e.op === "void")).toEqual([
      { ev: "result", op: "sale", stan: "000002", outcome: "approved", f39: "00", amount: 1234 },
      { ev: "result", op: "void", stan: "000004", outcome: "approved", f39: "00", amount: 1234 },
    ]);
    const { slip, lines } = slipOf(r, "000002");
    const codes = slip as Slip & { authCode: string; rrn: string };
    // What was answered is kept as answered; what was not is empty (never six spaces or twelve zeros).
    const expected = { authCode: expect.stringMatching(/^[0-9]{6}$/), rrn: expect.stringMatching(/^[0-9]{12}$/), ...blank };
    expect({ authCode: codes.authCode, rrn: codes.rrn }).toEqual(expected);
    expect(lines.filter((l) => AUTH.test(l) || RRN.test(l))).toEqual([`授权码 AUTH  ${codes.authCode}`, `参考号 RRN   ${codes.rrn}`]);
    expect(r.slips.map((s) => `${s.slip.kind}/${String((s.slip as { stan?: string }).stan)}`)).toEqual(["sale/000002", "void/000004"]);
    expect(lastOf(r.events)).toMatchObject({ ev: "reconcile", agree: true, host: { count: 0 } });
  });

  test("a settlement after one uploads it like any other approval and balances", () => {
    const r = run([
      fault({ kind: "dropFields", fields: [37, 38], mti: "0200" }),
      sale(),
      sale("unionpay-msr", 99),
      { op: "drain" },
      { op: "settle" },
    ]);
    expect(pick(r.events, "settlement")).toEqual([
      expect.objectContaining({ batch: "000001", balanced: true, totals: expect.objectContaining({ saleCount: 2, saleAmount: 1333 }) }),
    ]);
    expect(lastOf(r.events)).toMatchObject({ ev: "reconcile", agree: true });
  });
});

describe("an approval without F37 or F38 in a batch upload", () => {
  test("an unbalanced settlement uploads it as any sale (0320 F48: kind, STAN, amount; no F37/F38 in the record)", () => {
    const ledger = new MemoryLedger();
    const scenario = parseScenario({
      terminal: { responseTimeoutMs: 1000, reversalRetries: 1 },
      steps: [
        { op: "powerOn" },
        { op: "signOn" },
        fault({ kind: "dropFields", fields: [37, 38], mti: "0200" }),
        sale("unionpay-chip", 500),
        { op: "drain" },
        // The next sale's answer comes late and its reversal cannot get through: the totals differ at settlement.
        fault({ kind: "delay", ms: 5000, mti: "0200" }),
        fault({ kind: "closeBeforeRead", mti: "0400", count: 9 }),
        sale("visa-msr", 1234),
        { op: "drain" },
        { op: "settle" },
        { op: "drain" },
      ],
    });
    const events = runScenario(scenario, { ledger }).events as ScenarioEvent[];
    expect(pick(events, "settlement")).toEqual([expect.objectContaining({ batch: "000001", balanced: false })]);
    expect(ledger.uploads.map((u) => `${u.stan}/${u.networkCode}/${u.recordHex}`)).toEqual([
      "000005/201/00000002000000000500",
      "000006/207/0001",
    ]);
  });
});

describe("a chip refund ends with its first GENERATE AC", () => {
  // This card answers a second GENERATE AC with an AAC: a sale it completes is reversed (06); a refund never asks it.
  const CARD = "chip-declines-after-approval";

  test("the card's sale: the second GENERATE AC declines, reversed with 06", () => {
    const { events } = run([sale(CARD)]);
    expect(states(events)).toEqual(["armed", "reversalDue/06", "reversed"]);
  });

  test("the card's refund: approved on the host's 00, no second GENERATE AC, nothing reversed", () => {
    const { events, slips } = run([{ op: "refund", amount: 800, card: CARD, pin: "1234" }]);
    expect(states(events)).toEqual(["armed", "completed"]);
    expect(reversals(events)).toEqual([]);
    expect(pick(events, "result").filter((e) => e.op === "refund")).toEqual([
      { ev: "result", op: "refund", stan: "000002", outcome: "approved", f39: "00", amount: 800 },
    ]);
    expect(slips.map((s) => s.slip.kind)).toEqual(["refund"]);
    expect(lastOf(events)).toMatchObject({ ev: "reconcile", agree: true, host: { count: 1, amount: 800 } });
  });
});

describe("an approval whose references the journal cannot keep is a bad answer, not a crash", () => {
  // The codec takes any an6/an12; CUP references are F38 of space, 0-9, A-Z and F37 of 12 digits (the journal's alphabet).
  test.each([[38], [37]])("a sale answered 00 with an odd F%i: reversed with 06, failed, the host agrees", (field) => {
    const { events, slips } = run([fault({ kind: "oddReferences", fields: [field], mti: "0200" }), sale()]);
    expect(states(events)).toEqual(["armed", "reversalDue/06", "reversed"]);
    expect(reversals(events)).toEqual([{ ev: "send", mti: "0400", stan: "000002", f39: "06" }]);
    expect(pick(events, "result").filter((e) => e.op === "sale")).toEqual([
      { ev: "result", op: "sale", stan: "000002", outcome: "failed", f39: "00", amount: 1234, reversed: true },
    ]);
    expect(slips.map((s) => s.slip.kind)).toEqual([]);
    expect(lastOf(events)).toMatchObject({ ev: "reconcile", agree: true, host: { count: 0 } });
  });

  test("the next sale is approved as usual: the terminal kept running", () => {
    const { events } = run([fault({ kind: "oddReferences", fields: [37, 38], mti: "0200" }), sale(), { op: "drain" }, sale()]);
    expect(
      pick(events, "result")
        .filter((e) => e.op === "sale")
        .map((e) => e.outcome),
    ).toEqual(["failed", "approved"]);
    expect(lastOf(events)).toMatchObject({ ev: "reconcile", agree: true, host: { count: 1 } });
  });
});

describe("the network check's 0830", () => {
  test("signed on, an 0830 with a bad MAC is discarded and the check fails; before sign-on it is taken unchecked", () => {
    const { events } = run([fault({ kind: "badMac", mti: "0820" }), { op: "networkCheck" }]);
    expect(pick(events, "recv").filter((e) => e.mti === "0830")).toEqual([
      { ev: "recv", mti: "0830", stan: "000002", f39: "00", discarded: true, reason: "badMac" },
    ]);
    expect(pick(events, "networkCheck")).toMatchObject([{ ok: false }]);
    const before = runScenario(parseScenario({ steps: [{ op: "powerOn" }, { op: "networkCheck" }, { op: "drain" }] }))
      .events as ScenarioEvent[];
    expect(pick(before, "recv").filter((e) => e.mti === "0830")).toEqual([{ ev: "recv", mti: "0830", stan: "000001", f39: "00" }]);
    expect(pick(before, "networkCheck")).toMatchObject([{ ok: true }]);
  });
});
