/**
 * Settlement's answer read per card origin (F48 of the 0510: 48.5 at offset 30 for domestic cards, offset
 * 61 for foreign ones; 1 balanced): the batch closes without an upload only when both origins balance. A
 * sale whose reversal failed (冲正失败) is counted by the host and not by the terminal, which is how each
 * origin is put out of balance here. And blockSalesWhileReversalFailed: sales wait for the failed reversal,
 * refunds do not. Runs in Node and in XS (the scenario runner is pure).
 */
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, resultLine } from "./scenario-steps";

const TERMINAL = { reversalAttempts: 1, responseTimeoutMs: 1000 };

function run(steps: unknown[], terminal: Record<string, unknown> = TERMINAL): ScenarioEvent[] {
  return runScenario(parseScenario({ terminal, steps: [{ op: "powerOn" }, { op: "signOn" }, drain, ...steps, drain] }))
    .events as ScenarioEvent[];
}

/**
 * A sale the host approves and whose reversal it does not read `closes` times (the first episode's one
 * attempt, then the idle worker's retries): 冲正失败 for as long as that lasts, counted by the host only.
 */
function failedReversal(card: string, closes = 30): unknown[] {
  return [
    { op: "hostFault", fault: { kind: "delay", ms: 5000, mti: "0200" } },
    { op: "hostFault", fault: { kind: "closeBeforeRead", mti: "0400", count: closes } },
    { op: "sale", amount: 700, card, pin: "1234" },
    drain,
  ];
}

const uploads = (events: ScenarioEvent[]) => events.filter((e) => e.ev === "send" && e.mti === "0320").length;
const settlements = (events: ScenarioEvent[]) =>
  events.filter((e) => e.ev === "settlement").map((e) => `${String(e.batch)} balanced ${String(e.balanced)}`);
const sale = (card: string, amount: number) => ({ op: "sale", amount, card, pin: "1234" });

describe("settlement per card origin", () => {
  test("both origins balanced: the batch closes, nothing uploaded", () => {
    const events = run([sale("unionpay-msr", 100), sale("visa-msr", 200), drain, { op: "settle" }]);
    expect(settlements(events)).toEqual(["000001 balanced true"]);
    expect(uploads(events)).toBe(0);
  });

  test.each([
    ["domestic", "unionpay-msr"],
    ["foreign", "visa-msr"],
  ])("only the %s cards out of balance: the batch is uploaded, then closed", (_, card) => {
    const events = run([sale("unionpay-msr", 100), sale("visa-msr", 200), drain, ...failedReversal(card), { op: "settle" }]);
    expect(settlements(events)).toEqual(["000001 balanced false"]);
    // The two approvals, then the 0320 that ends the upload.
    expect(uploads(events)).toBe(3);
    // Approved once the upload is through, with the 0510's F39.
    expect(events.filter((e) => e.ev === "result" && e.op === "settle").map((e) => `${resultLine(e)} ${String(e.f39)}`)).toEqual([
      "settle approved 00",
    ]);
  });
});

test("an upload record the host declines (0330 F39 96) stops the upload: the settlement failed, the batch open; the next one resends from there and closes it", () => {
  const events = run([
    sale("unionpay-msr", 100),
    sale("visa-msr", 200),
    drain,
    ...failedReversal("unionpay-msr"),
    { op: "hostFault", fault: { kind: "decline", code: "96", mti: "0320" } },
    { op: "settle" },
    drain,
    { op: "settle" },
  ]);
  expect(events.filter((e) => e.ev === "result" && e.op === "settle").map(resultLine)).toEqual(["settle failed", "settle approved"]);
  expect(settlements(events)).toEqual(["000001 balanced false"]);
  // The first settlement sent one 0320 (declined); the second resent it, the next approval and the last 0320.
  expect(uploads(events)).toBe(4);
});

test("an upload record the host does not answer leaves the settlement failed and the batch open; the next settlement closes it", () => {
  const events = run([
    sale("unionpay-msr", 100),
    sale("visa-msr", 200),
    drain,
    ...failedReversal("unionpay-msr"),
    { op: "hostFault", fault: { kind: "noResponse", mti: "0320" } },
    { op: "settle" },
    drain,
    { op: "settle" },
  ]);
  expect(events.filter((e) => e.ev === "result" && e.op === "settle").map(resultLine)).toEqual(["settle failed", "settle approved"]);
  expect(settlements(events)).toEqual(["000001 balanced false"]);
});

test("an upload cut by a power loss resumes at boot, behind the reversals owed, and closes the batch", () => {
  const events = run([
    sale("unionpay-msr", 100),
    sale("visa-msr", 200),
    drain,
    ...failedReversal("unionpay-msr"),
    { op: "hostFault", fault: { kind: "noResponse", mti: "0320" } },
    { op: "settle" },
    drain,
    { op: "powerOff" },
    { op: "powerOn" },
    // Queued behind the boot's flush and resumed upload: it runs once they end.
    { op: "echo" },
  ]);
  expect(events.filter((e) => e.ev === "result" && e.op === "settle").map(resultLine)).toEqual(["settle failed"]);
  const sends = events.filter((e) => e.ev === "send").map((e) => String(e.mti));
  expect(sends.indexOf("0820")).toBeGreaterThan(sends.lastIndexOf("0320"));
  expect(events.filter((e) => e.ev === "result" && e.op === "echo").map(resultLine)).toEqual(["echo approved"]);
  expect(settlements(events)).toEqual(["000001 balanced false"]);
  // The reversal still owed goes first (its host still does not read it: it stays 冲正失败), then the upload from its first record.
  const boot = events.findIndex((e) => e.ev === "boot" && e !== events.find((first) => first.ev === "boot"));
  expect(
    events
      .slice(boot)
      .filter((e) => e.ev === "send")
      .map((e) => e.mti)
      .slice(0, 4),
  ).toEqual(["0400", "0320", "0320", "0320"]);
});

describe("blockSalesWhileReversalFailed", () => {
  const after = [sale("unionpay-msr", 100), drain, { op: "refund", amount: 50, card: "unionpay-msr" }];

  test("on: while a reversal has failed, a sale is refused before anything is sent; a refund still goes", () => {
    const events = run(
      [...failedReversal("unionpay-msr"), { op: "hostFault", fault: { kind: "closeBeforeRead", mti: "0400", count: 9 } }, ...after],
      {
        ...TERMINAL,
        blockSalesWhileReversalFailed: 1,
      },
    );
    const results = events.filter((e) => e.ev === "result" && e.op !== "signOn").map(resultLine);
    expect(results).toEqual(["sale timeout", "sale refused blocked", "refund approved"]);
    expect(events.filter((e) => e.ev === "send" && e.mti === "0200")).toHaveLength(1);
  });

  test("on, and the reversal goes through before the sale: the sale is not blocked", () => {
    const events = run([...failedReversal("unionpay-msr", 1), ...after], { ...TERMINAL, blockSalesWhileReversalFailed: 1 });
    expect(events.filter((e) => e.ev === "result" && e.op !== "signOn").map(resultLine)).toEqual([
      "sale timeout",
      "sale approved",
      "refund approved",
    ]);
  });

  test("off: the sale goes out though the reversal still fails", () => {
    const events = run([
      ...failedReversal("unionpay-msr"),
      { op: "hostFault", fault: { kind: "closeBeforeRead", mti: "0400", count: 9 } },
      ...after,
    ]);
    expect(events.filter((e) => e.ev === "result" && e.op !== "signOn").map(resultLine)).toEqual([
      "sale timeout",
      "sale approved",
      "refund approved",
    ]);
  });
});
