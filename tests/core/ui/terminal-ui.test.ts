import { render, reversalFailedGuidance, TerminalUi, type EngineInput, type Intent, type Screen } from "../../../modules/ui/terminal-ui";
import { fill, formatAmount, TEXTS } from "../../../modules/ui/texts";

function setup() {
  const screens: Screen[] = [];
  const intents: Intent[] = [];
  const ui = new TerminalUi({ onScreen: (s) => screens.push(s), onIntent: (i) => intents.push(i) });
  return { ui, screens, intents };
}

describe("TerminalUi", () => {
  test("amount entry: digits, clear, enter asks for a sale", () => {
    const { ui, intents } = setup();
    for (const key of ["1", "2", "3", "4", "5", "clear"] as const) ui.press(key);
    expect(ui.screen).toEqual({ kind: "amount", digits: "1234" });
    expect(render(ui.screen, "en")).toEqual({ title: "ENTER AMOUNT", lines: ["Amount: ¥12.34"] });
    ui.press("enter");
    expect(intents).toEqual([{ kind: "sale", amount: 1234 }]);
  });

  test("a leading zero does not start an amount; cancel returns to idle", () => {
    const { ui } = setup();
    ui.press("0");
    expect(ui.screen.kind).toBe("idle");
    ui.press("5");
    ui.press("cancel");
    expect(ui.screen.kind).toBe("idle");
  });

  test("PIN digits never appear in a screen; enter hands them over once", () => {
    const { ui, screens, intents } = setup();
    ui.show({ kind: "enterPin" });
    for (const key of ["1", "2", "3", "4"] as const) ui.press(key);
    expect(ui.screen).toEqual({ kind: "pin", entered: 4 });
    expect(JSON.stringify(screens)).not.toContain("1234");
    expect(render(ui.screen, "en").lines[0]).toBe("****");
    ui.press("enter");
    expect(intents).toEqual([{ kind: "pin", pin: "1234" }]);
    ui.show({ kind: "enterPin" });
    ui.press("enter");
    expect(intents[1]).toEqual({ kind: "pin", pin: "" });
  });

  test("keys cannot interrupt processing, reversal or settlement", () => {
    const { ui } = setup();
    ui.show({ kind: "processing", op: "sale", remainingMs: 60000 });
    ui.press("cancel");
    expect(ui.screen.kind).toBe("processing");
    ui.show({ kind: "reversal", stan: "000123", attempt: 1, attempts: 3 });
    ui.press("cancel");
    expect(ui.screen.kind).toBe("reversal");
  });

  test("processing shows the remaining response time, rounded up to seconds", () => {
    const { ui } = setup();
    ui.show({ kind: "processing", op: "sale", remainingMs: 60000 });
    ui.tick(12_001);
    expect(render(ui.screen, "en").lines).toEqual(["sale", "13 s left"]);
    expect(render(ui.screen, "zh").lines).toEqual(["消费", "剩余 13 秒"]);
  });

  test("冲正失败 tells plainly what happened and what to do, in both languages", () => {
    const screen: Screen = { kind: "reversalFailed", op: "sale", stan: "000123", amount: 1234, salesBlocked: false };
    const en = render(screen, "en");
    expect(en.title).toBe("REVERSAL FAILED");
    expect(en.lines[0]).toBe("The bank did not confirm the cancellation of sale ¥12.34 (STAN 000123). The customer may have been charged.");
    expect(en.lines[1]).toContain("Keep this slip; the terminal will retry automatically before the next transaction");
    expect(en.lines[1]).toContain("call the acquirer hotline with the STAN");
    expect(en.lines).toEqual([...reversalFailedGuidance(screen, "en"), "Press ENTER to acknowledge"]);
    const zh = render({ ...screen, salesBlocked: true }, "zh");
    expect(zh.title).toBe("冲正失败");
    expect(zh.lines[0]).toContain("凭证号 000123");
    expect(zh.lines[0]).toContain("¥12.34");
    expect(zh.lines[0]).toContain("持卡人可能已被扣款");
    expect(zh.lines[1]).toContain("请保留此凭条");
    expect(zh.lines).toHaveLength(4);
    expect(zh.lines[3]).toBe("请按确认键知悉");
  });

  test("a refund that timed out or failed says it was cancelled with the bank and must be done again, in both languages", () => {
    for (const outcome of ["timeout", "failed"] as const) {
      const screen: Screen = { kind: "result", op: "refund", outcome, stan: "000007" };
      expect(render(screen, "en").lines).toEqual([
        "STAN 000007",
        "Refund not completed — the terminal cancelled it with the bank; do it again",
      ]);
      expect(render(screen, "zh").lines).toEqual(["凭证号 000007", "退货未完成, 终端已向银行撤销该笔退货, 请重新办理"]);
    }
    // A sale's timeout keeps its own hint.
    expect(render({ kind: "result", op: "sale", outcome: "timeout" }, "en").lines).toEqual([
      "No answer from the bank; the terminal reverses it automatically",
    ]);
  });

  test("a result is acknowledged with enter; the declined reason is shown", () => {
    const { ui } = setup();
    ui.show({ kind: "result", op: "sale", outcome: "declined", stan: "000007", f39: "51", amount: 500 });
    expect(render(ui.screen, "en")).toEqual({
      title: "DECLINED",
      lines: ["Amount: ¥5.00", "STAN 000007", "Response 51: insufficient funds"],
    });
    expect(render(ui.screen, "zh").lines[2]).toBe("应答码 51: 余额不足");
    ui.press("enter");
    expect(ui.screen.kind).toBe("idle");
  });

  test("settlement progress and its closing report", () => {
    expect(
      render({ kind: "settlement", phase: "upload", uploaded: 2, toUpload: 5, balanced: false, failedReversals: 0 }, "en").lines,
    ).toEqual(["Uploading batch 2/5"]);
    const done = render({ kind: "settlement", phase: "done", uploaded: 5, toUpload: 5, balanced: false, failedReversals: 1 }, "en");
    expect(done).toEqual({
      title: "SETTLEMENT DONE",
      lines: ["Totals differed; batch uploaded", "1 failed cancellation(s): call the acquirer"],
    });
  });

  test("a full journal says so and what to do, in both languages", () => {
    expect(render({ kind: "result", op: "sale", outcome: "journalFull" }, "en")).toEqual({
      title: "JOURNAL FULL — SETTLE FIRST",
      lines: ["Nothing was sent, nothing was charged. Settle the batch (pending cancellations go first), then try again."],
    });
    expect(render({ kind: "result", op: "sale", outcome: "journalFull" }, "zh").title).toBe("交易存储已满, 请先结算");
  });

  test("every screen renders in both languages", () => {
    const screens: Screen[] = [
      { kind: "idle" },
      { kind: "amount", digits: "1" },
      { kind: "presentCard", op: "sale", amount: 1 },
      { kind: "pin", entered: 0 },
      { kind: "processing", op: "echo", remainingMs: undefined },
      { kind: "result", op: "sale", outcome: "timeout" },
      { kind: "result", op: "sale", outcome: "refused" },
      { kind: "result", op: "sale", outcome: "failed" },
      { kind: "result", op: "sale", outcome: "blocked" },
      { kind: "result", op: "refund", outcome: "journalFull" },
      { kind: "result", op: "balance", outcome: "approved", balance: 100 },
      { kind: "reversal", stan: "000001", attempt: 2, attempts: 3 },
      { kind: "settlement", phase: "totals", uploaded: 0, toUpload: 0, balanced: true, failedReversals: 0 },
      { kind: "amount", digits: "", op: "refund", originalStan: "000002" },
      { kind: "stanEntry", purpose: "void", digits: "" },
      { kind: "stanEntry", purpose: "refund", digits: "12" },
      { kind: "pendingReversals", records: [] },
      { kind: "pendingReversals", records: [{ stan: "000002", op: "void", amount: 1, state: "reversalDue", reason: "06", attempts: 0 }] },
    ];
    for (const screen of screens)
      for (const language of ["zh", "en"] as const) expect(render(screen, language).title.length).toBeGreaterThan(0);
  });
});

const FAILED: EngineInput = { kind: "reversalFailed", op: "sale", stan: "000002", amount: 1234, salesBlocked: false };
const titles = (screens: Screen[]) => screens.map((screen) => render(screen, "en").title);

describe("TerminalUi and the engine going idle", () => {
  test.each([
    [{ kind: "processing", op: "echo", remainingMs: 1000 }],
    [{ kind: "reversal", stan: "000001", attempt: 1, attempts: 3 }],
    [{ kind: "settlement", phase: "upload", uploaded: 1, toUpload: 2, balanced: false, failedReversals: 0 }],
  ] as EngineInput[][])("a progress screen no result follows (%j) goes back to idle and the keypad works", (input) => {
    const { ui } = setup();
    ui.show(input);
    ui.press("5");
    expect(ui.screen).toEqual(input);
    ui.show({ kind: "idle" });
    expect(ui.screen).toEqual({ kind: "idle" });
    ui.press("5");
    expect(ui.screen).toEqual({ kind: "amount", digits: "5" });
  });

  test.each([
    [{ kind: "result", op: "sale", outcome: "approved", stan: "000002" }],
    [{ kind: "settlement", phase: "done", uploaded: 0, toUpload: 0, balanced: true, failedReversals: 0 }],
    [{ kind: "presentCard", op: "sale", amount: 5 }],
  ] as EngineInput[][])("a screen waiting for the operator (%j) stays when the engine goes idle", (input) => {
    const { ui } = setup();
    ui.show(input);
    ui.show({ kind: "idle" });
    expect(ui.screen).toEqual(input);
  });

  test("an amount being typed stays when the engine goes idle", () => {
    const { ui } = setup();
    ui.press("7");
    ui.show({ kind: "idle" });
    expect(ui.screen).toEqual({ kind: "amount", digits: "7" });
  });
});

describe("TerminalUi: 冲正失败 stays until acknowledged", () => {
  test("the timed-out sale's result does not hide it; ENTER acknowledges, then idle (the result is superseded)", () => {
    const { ui, screens } = setup();
    ui.show({ kind: "processing", op: "sale", remainingMs: 60000 });
    ui.show({ kind: "reversal", stan: "000002", attempt: 3, attempts: 3 });
    ui.show(FAILED);
    ui.show({ kind: "result", op: "sale", outcome: "timeout", stan: "000002" });
    ui.show({ kind: "idle" });
    expect(ui.screen).toEqual(FAILED);
    expect(ui.ready).toBe(false);
    for (const key of ["1", "clear", "0"] as const) ui.press(key);
    expect(ui.screen).toEqual(FAILED);
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle" });
    expect(titles(screens)).toEqual(["PROCESSING", "REVERSAL IN PROGRESS", "REVERSAL FAILED", "WELCOME"]);
  });

  test("another operation's result waits behind it and shows after the acknowledgement", () => {
    const { ui } = setup();
    ui.show(FAILED);
    ui.show({ kind: "processing", op: "sale", remainingMs: undefined });
    ui.show({ kind: "result", op: "sale", outcome: "blocked" });
    ui.show({ kind: "idle" });
    expect(ui.screen.kind).toBe("reversalFailed");
    ui.press("cancel");
    expect(ui.screen).toEqual({ kind: "result", op: "sale", outcome: "blocked" });
  });

  test("progress that ended while it was shown is not replayed; progress still running is", () => {
    const { ui } = setup();
    ui.show(FAILED);
    ui.show({ kind: "reversal", stan: "000003", attempt: 1, attempts: 3 });
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "reversal", stan: "000003", attempt: 1, attempts: 3 });
    ui.show(FAILED);
    ui.show({ kind: "reversal", stan: "000003", attempt: 1, attempts: 3 });
    ui.show({ kind: "idle" });
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle" });
  });

  test("several failures queue: each is shown and acknowledged in turn", () => {
    const { ui } = setup();
    const second: EngineInput = { ...FAILED, stan: "000003", amount: 99 } as EngineInput;
    ui.show(FAILED);
    ui.show(second);
    expect(ui.screen).toEqual(FAILED);
    ui.press("enter");
    expect(ui.screen).toEqual(second);
    ui.press("enter");
    expect(ui.screen.kind).toBe("idle");
  });

  test("a record acknowledged since power-on that fails again does not hold back the next operation's result", () => {
    const { ui } = setup();
    ui.show(FAILED);
    ui.press("enter");
    ui.show({ kind: "reversal", stan: "000002", attempt: 1, attempts: 3 });
    ui.show(FAILED);
    expect(ui.screen).toEqual(FAILED);
    ui.show({ kind: "result", op: "sale", outcome: "journalFull" });
    expect(ui.screen).toEqual({ kind: "result", op: "sale", outcome: "journalFull" });
    // A new UI (power-on) holds it again.
    const fresh = setup().ui;
    fresh.show(FAILED);
    fresh.show({ kind: "result", op: "echo", outcome: "approved", stan: "000009" });
    expect(fresh.screen).toEqual(FAILED);
  });

  test("menu functions wait until it is acknowledged", () => {
    const { ui } = setup();
    ui.show(FAILED);
    expect(ui.start("sale")).toBe(false);
    expect(ui.listPendingReversals([])).toBe(false);
    expect(ui.screen).toEqual(FAILED);
  });
});

describe("TerminalUi: entries the menu starts", () => {
  test("digits on a result start the next sale's amount directly; ENTER still acknowledges", () => {
    const { ui, intents } = setup();
    ui.show({ kind: "result", op: "sale", outcome: "approved", stan: "000002" });
    ui.press("0");
    expect(ui.screen.kind).toBe("result");
    for (const key of ["8", "8", "enter"] as const) ui.press(key);
    expect(intents).toEqual([{ kind: "sale", amount: 88 }]);
    ui.show({ kind: "settlement", phase: "done", uploaded: 0, toUpload: 0, balanced: true, failedReversals: 0 });
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle" });
  });

  test("void: the original STAN, zero-padded; ENTER with none typed does nothing; the screen waits for the engine", () => {
    const { ui, intents } = setup();
    expect(ui.start("void")).toBe(true);
    expect(render(ui.screen, "en")).toEqual({ title: "VOID: ORIGINAL STAN", lines: ["STAN _", "Type the sale's STAN, then ENTER"] });
    expect(render(ui.screen, "zh").title).toBe("消费撤销: 请输入原凭证号");
    ui.press("enter");
    expect(intents).toEqual([]);
    for (const key of ["1", "2", "3", "4", "5", "6", "7", "clear", "enter"] as const) ui.press(key);
    expect(intents).toEqual([{ kind: "void", stan: "012345" }]);
    expect(ui.screen).toEqual({ kind: "stanEntry", purpose: "void", digits: "12345" });
    ui.press("cancel");
    expect(ui.screen.kind).toBe("idle");
  });

  test("refund: an optional original STAN, then the refund's amount", () => {
    const { ui, intents } = setup();
    ui.start("refund");
    expect(render(ui.screen, "en").title).toBe("REFUND: ORIGINAL STAN");
    for (const key of ["4", "2", "enter"] as const) ui.press(key);
    expect(ui.screen).toEqual({ kind: "amount", digits: "", op: "refund", originalStan: "000042" });
    expect(render(ui.screen, "en")).toEqual({ title: "REFUND AMOUNT", lines: ["Amount: ¥0.00", "Original STAN 000042"] });
    expect(render(ui.screen, "zh").title).toBe("退货: 请输入金额");
    ui.press("enter");
    for (const key of ["0", "5", "0", "0", "enter"] as const) ui.press(key);
    expect(intents).toEqual([{ kind: "refund", amount: 500, originalStan: "000042" }]);
    ui.press("cancel");
    ui.start("refund");
    ui.press("enter");
    ui.press("9");
    ui.press("enter");
    expect(intents[1]).toEqual({ kind: "refund", amount: 9 });
  });

  test("sale from the menu: an empty amount, then digits", () => {
    const { ui, intents } = setup();
    ui.start("sale");
    expect(render(ui.screen, "en").title).toBe("ENTER AMOUNT");
    ui.press("3");
    ui.press("enter");
    expect(intents).toEqual([{ kind: "sale", amount: 3 }]);
  });

  test("the menu waits while a transaction runs or a card is asked for", () => {
    const { ui } = setup();
    ui.show({ kind: "presentCard", op: "sale", amount: 5 });
    expect(ui.start("void")).toBe(false);
    ui.show({ kind: "processing", op: "sale", remainingMs: undefined });
    expect(ui.start("sale")).toBe(false);
    expect(ui.screen.kind).toBe("processing");
  });

  test("pending reversals: STAN, op, amount, state, reason and attempts in both languages; any key closes", () => {
    const { ui } = setup();
    const records = [
      { stan: "000002", op: "sale", amount: 1234, state: "failed", reason: "98", attempts: 3 },
      { stan: "000005", op: "void", amount: 500, state: "reversalDue", reason: "06", attempts: 1 },
    ] as const;
    expect(ui.listPendingReversals(records)).toBe(true);
    expect(render(ui.screen, "en")).toEqual({
      title: "PENDING REVERSALS",
      lines: [
        "000002 sale ¥12.34 FAILED 98 no answer, 3 tries",
        "000005 void ¥5.00 due 06 failed after approval, 1 tries",
        "Any key to go back",
      ],
    });
    expect(render(ui.screen, "zh").lines[0]).toBe("000002 消费 ¥12.34 冲正失败 98 无应答 已试3次");
    ui.press("7");
    expect(ui.screen.kind).toBe("idle");
    ui.listPendingReversals([]);
    expect(render(ui.screen, "zh").lines).toEqual(["无, 所有冲正均已完成"]);
  });

  test("a long pending list fits the display: six lines, the count of the rest, the hint", () => {
    const { ui } = setup();
    const records = Array.from({ length: 9 }, (_, i) => ({
      stan: String(i + 1).padStart(6, "0"),
      op: "sale" as const,
      amount: 1,
      state: "reversalDue" as const,
      attempts: 0,
    }));
    ui.listPendingReversals(records);
    const lines = render(ui.screen, "en").lines;
    expect(lines).toHaveLength(8);
    expect(lines[6]).toBe("3 more");
  });
});

describe("texts", () => {
  test("tables are frozen and complete in both languages", () => {
    expect(Object.isFrozen(TEXTS)).toBe(true);
    for (const pair of Object.values(TEXTS)) {
      expect(pair.zh.length).toBeGreaterThan(0);
      expect(pair.en.length).toBeGreaterThan(0);
    }
  });

  test("fill refuses a missing placeholder value", () => {
    expect(() => fill("stanLine", "en")).toThrow(RangeError);
  });

  test.each([
    [0, "0.00"],
    [5, "0.05"],
    [1234, "12.34"],
    [100000, "1000.00"],
  ])("formatAmount(%d) = %s", (minor, text) => {
    expect(formatAmount(minor)).toBe(text);
  });
});
