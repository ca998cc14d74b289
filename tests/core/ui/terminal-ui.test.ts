import { render, TerminalUi, type Intent, type Screen } from "../../../modules/ui/terminal-ui";
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
    expect(en.lines[1]).toContain("call the acquirer hotline with the STAN");
    expect(en.lines).toHaveLength(2);
    const zh = render({ ...screen, salesBlocked: true }, "zh");
    expect(zh.title).toBe("冲正失败");
    expect(zh.lines[0]).toContain("凭证号 000123");
    expect(zh.lines[0]).toContain("¥12.34");
    expect(zh.lines).toHaveLength(3);
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
    ];
    for (const screen of screens)
      for (const language of ["zh", "en"] as const) expect(render(screen, language).title.length).toBeGreaterThan(0);
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
