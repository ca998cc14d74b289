import type { TxnEvent } from "../../../modules/txn/events";
import {
  AMOUNT_DIGITS_MAX,
  render,
  renderNotice,
  renderTitle,
  reversalFailedGuidance,
  TerminalUi,
  type Intent,
  type Key,
  type NoticeId,
  type Screen,
} from "../../../modules/ui/terminal-ui";
import { fill, formatAmount, TEXTS, type Language } from "../../../modules/ui/texts";

const LANGUAGES: readonly Language[] = ["zh", "en"];
/** Latin letters in a 中文 text are English left untranslated (digits, ¥ and punctuation are fine). */
const LATIN = /[A-Za-z]/;

function setup() {
  const screens: Screen[] = [];
  const intents: Intent[] = [];
  const ui = new TerminalUi({ onScreen: (s) => screens.push(s), onIntent: (i) => intents.push(i) });
  return { ui, screens, intents };
}

function press(ui: TerminalUi, keys: readonly Key[]): void {
  for (const key of keys) ui.press(key);
}

const titles = (screens: readonly Screen[]) => screens.map((screen) => renderTitle(screen, "en"));
/** Titles as a trace reports them: a repaint with the same title is not a new screen. */
const distinctTitles = (screens: readonly Screen[]) => titles(screens).filter((title, i, all) => i === 0 || all[i - 1] !== title);

// ---------------------------------------------------------------- the engine's events, as the engine sends them

const waiting = (op: "sale" | "refund" | "void" | "echo" | "signOn" = "sale", stan = "000002"): TxnEvent => ({
  ev: "exchange",
  op,
  stan,
  phase: "waiting",
  timeoutMs: 60_000,
});
const attempt = (stan = "000002", k = 1, deferred = false): TxnEvent => ({
  ev: "reversal",
  phase: "attempt",
  stan,
  op: "sale",
  amount: 1234,
  attempt: k,
  attempts: 3,
  deferred,
});
const reversalWaiting = (stan = "000002", k = 1): TxnEvent => ({
  ev: "reversal",
  phase: "waiting",
  stan,
  op: "sale",
  amount: 1234,
  attempt: k,
  attempts: 3,
  deferred: false,
  timeoutMs: 60_000,
});
const failed = (stan = "000002", firstFailure = true, amount = 1234): TxnEvent => ({
  ev: "reversal",
  phase: "failed",
  stan,
  op: "sale",
  amount,
  attempts: 3,
  deferred: !firstFailure,
  firstFailure,
  salesBlocked: false,
});
const reversed = (stan = "000002", deferred = true, op: "sale" | "refund" = "sale"): TxnEvent => ({
  ev: "reversal",
  phase: "reversed",
  stan,
  op,
  amount: 1234,
  attempt: 1,
  deferred,
  wasFailed: deferred,
});
const IDLE: TxnEvent = { ev: "idle" };

/** The 冲正失败 screen the `failed()` event raises. */
const FAILED: Screen = { kind: "reversalFailed", op: "sale", stan: "000002", amount: 1234, salesBlocked: false };

/** A sale's card steps as the host drives them: present the card, then the PIN. */
function toPin(ui: TerminalUi, op: "sale" | "refund" | "balance" = "sale", amount = 1234): void {
  ui.ask({ kind: "presentCard", op, amount });
  ui.ask({ kind: "enterPin" });
}

describe("TerminalUi: entering an amount", () => {
  test("digits, clear, enter asks for a sale", () => {
    const { ui, intents } = setup();
    press(ui, ["1", "2", "3", "4", "5", "clear"]);
    expect(ui.screen).toEqual({ kind: "amount", digits: "1234" });
    expect(render(ui.screen, "en")).toEqual({ title: "ENTER AMOUNT", lines: ["Amount: ¥12.34"] });
    expect(render(ui.screen, "zh")).toEqual({ title: "请输入金额", lines: ["金额: ¥12.34"] });
    ui.press("enter");
    expect(intents).toEqual([{ kind: "sale", amount: 1234 }]);
  });

  test("a leading zero does not start an amount", () => {
    const { ui } = setup();
    ui.press("0");
    expect(ui.screen.kind).toBe("idle");
    ui.start("sale");
    ui.press("0");
    expect(ui.screen).toEqual({ kind: "amount", digits: "" });
  });

  test.each(LANGUAGES)("[%s] amount 0 + ENTER: a notice, no intent; the next key clears the notice", (language) => {
    const { ui, intents, screens } = setup();
    ui.start("sale");
    const before = screens.length;
    ui.press("enter");
    expect(intents).toEqual([]);
    expect(ui.notice).toBe("noticeAmountZero");
    expect(ui.screen).toEqual({ kind: "amount", digits: "" });
    // The screen is painted again so the notice shows.
    expect(screens.length).toBe(before + 1);
    expect(renderNotice("noticeAmountZero", language)).toBe(language === "zh" ? "金额须大于 0" : "Enter an amount above 0");
    // A digit typed then cleared is still zero.
    press(ui, ["5", "clear"]);
    expect(ui.notice).toBeUndefined();
    ui.press("enter");
    expect(ui.notice).toBe("noticeAmountZero");
    expect(intents).toEqual([]);
    ui.press("7");
    expect(ui.notice).toBeUndefined();
  });

  test.each(LANGUAGES)("[%s] an 11th digit: a notice, and it is not added", (language) => {
    const { ui, intents } = setup();
    const ten = ["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"] as const;
    expect(ten).toHaveLength(AMOUNT_DIGITS_MAX);
    press(ui, ten);
    expect(ui.notice).toBeUndefined();
    ui.press("9");
    expect(ui.notice).toBe("noticeAmountTooLong");
    expect(ui.screen).toEqual({ kind: "amount", digits: "9876543210" });
    expect(renderNotice("noticeAmountTooLong", language)).toBe(language === "zh" ? "金额最多 10 位" : "At most 10 digits");
    expect(render(ui.screen, language).lines[0]).toContain("¥98765432.10");
    ui.press("enter");
    expect(intents).toEqual([{ kind: "sale", amount: 9876543210 }]);
  });
});

describe("TerminalUi: CANCEL before anything is sent says 交易取消 / CANCELLED", () => {
  const cases: [string, (ui: TerminalUi) => void, string][] = [
    ["the amount", (ui) => ui.press("5"), "sale"],
    ["a refund's amount", (ui) => (ui.start("refund"), ui.press("enter"), ui.press("5")), "refund"],
    ["a void's STAN entry", (ui) => (ui.start("void"), ui.press("1")), "void"],
    ["a refund's STAN entry", (ui) => ui.start("refund"), "refund"],
    ["present card", (ui) => ui.ask({ kind: "presentCard", op: "sale", amount: 1234 }), "sale"],
    ["the PIN", (ui) => (toPin(ui), press(ui, ["4", "2"])), "sale"],
    ["void confirm", (ui) => ui.ask({ kind: "voidConfirm", stan: "000002", amount: 1234, panMasked: "622202******0017" }), "void"],
  ];
  test.each(cases)("from %s: a result titled CANCELLED and a cancel intent, in both languages", (_name, reach, op) => {
    const { ui, intents } = setup();
    reach(ui);
    const before = intents.length;
    ui.press("cancel");
    expect(intents.slice(before)).toEqual([{ kind: "cancel" }]);
    expect(ui.screen).toEqual({ kind: "result", op, outcome: "cancelled" });
    expect(render(ui.screen, "zh")).toEqual({ title: "交易取消", lines: ["交易未发出, 未扣款"] });
    expect(render(ui.screen, "en")).toEqual({ title: "CANCELLED", lines: ["Nothing was sent, nothing was charged"] });
    // Acknowledged like any result.
    ui.press("enter");
    expect(ui.screen.kind).toBe("idle");
  });
});

describe("TerminalUi: the PIN", () => {
  test("PIN digits never appear in a screen; ENTER hands them over once", () => {
    const { ui, screens, intents } = setup();
    toPin(ui, "sale", 500);
    press(ui, ["9", "7", "5", "3"]);
    expect(ui.screen).toEqual({ kind: "pin", entered: 4, op: "sale", amount: 500 });
    expect(JSON.stringify(screens)).not.toContain("9753");
    for (const language of LANGUAGES) expect(JSON.stringify(render(ui.screen, language))).not.toContain("9753");
    expect(render(ui.screen, "en").lines[1]).toBe("****");
    ui.press("enter");
    expect(intents).toEqual([{ kind: "pin", pin: "9753" }]);
    // The buffer was wiped: a new PIN step starts empty.
    toPin(ui);
    ui.press("enter");
    expect(intents[1]).toEqual({ kind: "pin", pin: "" });
  });

  test("clear and cancel wipe the digits typed", () => {
    const { ui, intents } = setup();
    toPin(ui);
    press(ui, ["9", "7", "clear", "3", "enter"]);
    expect(intents).toEqual([{ kind: "pin", pin: "3" }]);
    toPin(ui);
    press(ui, ["9", "7", "cancel"]);
    toPin(ui);
    press(ui, ["1", "enter"]);
    expect(intents.slice(-1)).toEqual([{ kind: "pin", pin: "1" }]);
  });

  test("an engine report over the PIN screen drops the digits typed", () => {
    const { ui, intents } = setup();
    toPin(ui);
    press(ui, ["9", "7"]);
    ui.onEngineEvent(failed("000001"));
    ui.press("enter");
    // The PIN screen is not restored with the digits behind it.
    expect(ui.screen.kind).toBe("idle");
    toPin(ui);
    press(ui, ["5", "enter"]);
    expect(intents).toEqual([{ kind: "pin", pin: "5" }]);
  });

  test.each(LANGUAGES)("[%s] the PIN screen shows the operation and the amount", (language) => {
    const { ui } = setup();
    toPin(ui, "sale", 1234);
    expect(render(ui.screen, language)).toEqual(
      language === "zh"
        ? { title: "请输入密码", lines: ["消费 ¥12.34", "", "无密码请按确认键"] }
        : { title: "ENTER PIN", lines: ["Sale ¥12.34", "", "No PIN: press ENTER"] },
    );
    toPin(ui, "refund", 800);
    ui.press("1");
    expect(render(ui.screen, language).lines).toEqual(
      language === "zh" ? ["退货 ¥8.00", "*", "无密码请按确认键"] : ["Refund ¥8.00", "*", "No PIN: press ENTER"],
    );
  });

  test("the PIN keeps at most 12 digits", () => {
    const { ui, intents } = setup();
    toPin(ui);
    press(
      ui,
      Array.from({ length: 14 }, () => "4" as const),
    );
    expect(ui.screen).toMatchObject({ kind: "pin", entered: 12 });
    ui.press("enter");
    expect(intents).toEqual([{ kind: "pin", pin: "444444444444" }]);
  });
});

describe("TerminalUi: a void confirms its original", () => {
  test.each(LANGUAGES)("[%s] the STAN is looked up, the original shown (STAN, amount, masked PAN), ENTER voids it", (language) => {
    const { ui, intents } = setup();
    expect(ui.start("void")).toBe(true);
    press(ui, ["2", "enter"]);
    expect(intents).toEqual([{ kind: "voidLookup", stan: "000002" }]);
    // The STAN screen stays until the host answers.
    expect(ui.screen).toEqual({ kind: "stanEntry", purpose: "void", digits: "2" });
    ui.ask({ kind: "voidConfirm", stan: "000002", amount: 1234, panMasked: "622202******0017" });
    expect(render(ui.screen, language)).toEqual(
      language === "zh"
        ? { title: "消费撤销: 请确认", lines: ["原交易 凭证号 000002 ¥12.34", "卡号 622202******0017", "确认键撤销, 取消键返回"] }
        : { title: "VOID: CONFIRM", lines: ["Original STAN 000002 ¥12.34", "Card 622202******0017", "ENTER to void, CANCEL to go back"] },
    );
    // Digits do nothing here; ENTER sends the void.
    ui.press("5");
    expect(intents).toHaveLength(1);
    ui.press("enter");
    expect(intents).toEqual([
      { kind: "voidLookup", stan: "000002" },
      { kind: "void", stan: "000002" },
    ]);
  });

  test.each(LANGUAGES)("[%s] a STAN not found is a notice over the STAN screen, which can be corrected", (language) => {
    const { ui, intents } = setup();
    ui.start("void");
    press(ui, ["9", "enter"]);
    ui.notify("noticeVoidNotFound");
    expect(ui.screen).toEqual({ kind: "stanEntry", purpose: "void", digits: "9" });
    expect(renderNotice("noticeVoidNotFound", language)).toBe(
      language === "zh" ? "本批次无此凭证号的可撤销消费" : "No sale with this STAN to void in the open batch",
    );
    press(ui, ["clear", "2", "enter"]);
    expect(ui.notice).toBeUndefined();
    expect(intents).toEqual([
      { kind: "voidLookup", stan: "000009" },
      { kind: "voidLookup", stan: "000002" },
    ]);
  });
});

describe("TerminalUi: notices", () => {
  /** What each notice says: a notice is only useful if it says the right thing, not merely something. */
  const NOTICES: readonly (readonly [NoticeId, string, string])[] = [
    ["noticeAmountZero", "金额须大于 0", "Enter an amount above 0"],
    ["noticeAmountTooLong", "金额最多 10 位", "At most 10 digits"],
    ["noticeBusy", "请先完成、取消或确认当前界面", "Finish, cancel or acknowledge the screen first"],
    ["noticeNoCardNeeded", "现在无需刷卡, 请先输入金额", "No card needed now: enter an amount first"],
    ["noticeCardUnreadable", "读卡失败, 请重新刷卡/插卡/挥卡", "Card not read: present it again"],
    ["noticeNoSlip", "无可重打印的凭条", "No slip to reprint"],
    ["noticeVoidNotFound", "本批次无此凭证号的可撤销消费", "No sale with this STAN to void in the open batch"],
    ["noticeVoidAlreadyVoided", "原交易已撤销, 不能再次撤销", "This sale is voided already: it cannot be voided again"],
    [
      "noticeVoidRefunded",
      "原交易已有退货, 不能撤销; 余额可做退货",
      "This sale has a refund: it cannot be voided. A refund can give back what is left",
    ],
    [
      "noticeRefundVoided",
      "原交易已撤销, 款项已全额退回, 无需退货",
      "This sale is voided: the whole amount went back already. No refund needed",
    ],
    ["noticeRefundOverSale", "退货总额不能超过原交易金额, 请改小金额", "Refunds cannot come to more than the sale: lower the amount"],
    ["noticeRefundedInFull", "原交易已全额退货", "This sale is refunded in full already"],
    ["noticeStanEmpty", "请输入凭证号", "Type a STAN"],
    ["noticeParametersApplied", "参数已更新", "Parameters updated"],
    ["noticeParametersRefused", "参数有误已拒绝, 沿用原参数", "Parameters refused: the current ones stay"],
    ["noticeParametersCurrent", "参数已是最新", "Parameters are up to date"],
    ["noticeParametersFailed", "参数下载失败, 请稍后再试", "Parameter download failed: try again later"],
  ];

  test.each(NOTICES)("%s says what it means in both languages, no English in 中文", (notice, zh, en) => {
    expect(renderNotice(notice, "zh")).toBe(zh);
    expect(renderNotice(notice, "en")).toBe(en);
    expect(zh).not.toMatch(LATIN);
  });

  test("a notice stays over the screen until the next key; the screen does not change", () => {
    const { ui, screens } = setup();
    ui.notify("noticeBusy");
    expect(ui.notice).toBe("noticeBusy");
    expect(screens).toEqual([{ kind: "idle", pending: 0 }]);
    ui.press("5");
    expect(ui.notice).toBeUndefined();
    expect(ui.screen).toEqual({ kind: "amount", digits: "5" });
  });

  test.each(LANGUAGES)("[%s] a void with no STAN typed: noticeStanEmpty, no intent", (language) => {
    const { ui, intents } = setup();
    ui.start("void");
    expect(render(ui.screen, language)).toEqual(
      language === "zh"
        ? { title: "消费撤销: 请输入原凭证号", lines: ["凭证号 _", "输入原交易凭证号后按确认键"] }
        : { title: "VOID: ORIGINAL STAN", lines: ["STAN _", "Type the sale's STAN, then ENTER"] },
    );
    ui.press("enter");
    expect(intents).toEqual([]);
    expect(ui.notice).toBe("noticeStanEmpty");
    expect(renderNotice("noticeStanEmpty", language)).toBe(language === "zh" ? "请输入凭证号" : "Type a STAN");
  });
});

describe("TerminalUi: results", () => {
  test.each(LANGUAGES)("[%s] a sign-on approval is 签到成功 / SIGNED ON, not 交易成功; a sale's is 交易成功", (language) => {
    const { ui } = setup();
    ui.onEngineEvent(waiting("signOn", "000001"));
    ui.onEngineEvent({ ev: "result", op: "signOn", stan: "000001", outcome: "approved", f39: "00" });
    const title = render(ui.screen, language).title;
    expect(title).toBe(language === "zh" ? "签到成功" : "SIGNED ON");
    expect(title).not.toBe(fill("approved", language));
    expect(renderTitle({ kind: "result", op: "sale", outcome: "approved", stan: "000002" }, language)).toBe(
      language === "zh" ? "交易成功" : "APPROVED",
    );
    expect(renderTitle({ kind: "result", op: "signOff", outcome: "approved" }, language)).toBe(
      language === "zh" ? "签退成功" : "SIGNED OFF",
    );
    expect(renderTitle({ kind: "result", op: "echo", outcome: "approved" }, language)).toBe(language === "zh" ? "通讯正常" : "LINK OK");
  });

  const REFUSALS = [
    ["notSignedOn", "请先签到", "SIGN ON FIRST", "Nothing was sent; press SIGN ON"],
    ["amountLimit", "超过单笔限额", "OVER THE LIMIT", "The amount is above this terminal's single-transaction limit; nothing was sent"],
    [
      "batchLimit",
      "批次已满, 请先结算",
      "BATCH FULL — SETTLE FIRST",
      "The batch reached its count or amount limit; nothing was sent. Settle first.",
    ],
    [
      "journalFull",
      "交易存储已满, 请先结算",
      "JOURNAL FULL — SETTLE FIRST",
      "Nothing was sent, nothing was charged. Settle the batch (pending cancellations go first), then try again.",
    ],
    [
      "blocked",
      "有未完成冲正, 暂停消费",
      "SALES PAUSED",
      "Nothing was charged. A cancellation must reach the bank first; the terminal keeps retrying it. Check the network; if it persists, call the acquirer hotline.",
    ],
    ["notSent", "无法连接银行, 交易未发送", "NOT SENT", "Nothing was sent, nothing was charged. Try again later."],
  ] as const;

  test.each(REFUSALS)("a refusal (%s) has its own title and hint in both languages", (refusal, zhTitle, enTitle, enHint) => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "refused", refusal });
    expect(ui.screen).toEqual({ kind: "result", op: "sale", outcome: refusal });
    expect(render(ui.screen, "en")).toEqual({ title: enTitle, lines: [enHint] });
    const zh = render(ui.screen, "zh");
    expect(zh.title).toBe(zhTitle);
    expect(zh.lines).toHaveLength(1);
    expect(zh.title + zh.lines[0]).not.toMatch(LATIN);
    ui.press("enter");
    expect(ui.screen.kind).toBe("idle");
  });

  test("the refusals' titles differ from each other and from a decline, in both languages", () => {
    for (const language of LANGUAGES) {
      const all = REFUSALS.map(([outcome]) => renderTitle({ kind: "result", op: "sale", outcome }, language));
      all.push(renderTitle({ kind: "result", op: "sale", outcome: "declined" }, language));
      expect(new Set(all).size).toBe(all.length);
    }
  });

  test("a refused result without a reason is NOT SENT", () => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "refund", outcome: "refused" });
    expect(ui.screen).toEqual({ kind: "result", op: "refund", outcome: "notSent" });
  });

  test("a declined result shows the amount, the STAN and the reason; ENTER acknowledges", () => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "sale", stan: "000007", outcome: "declined", f39: "51", amount: 500 });
    expect(render(ui.screen, "en")).toEqual({
      title: "DECLINED",
      lines: ["Amount: ¥5.00", "STAN 000007", "Response 51: insufficient funds"],
    });
    expect(render(ui.screen, "zh").lines[2]).toBe("应答码 51: 余额不足");
    ui.press("enter");
    expect(ui.screen.kind).toBe("idle");
  });

  // What the host answers a void or refund that would give back more than its sale took (docs/host-simulator.md).
  test.each([
    ["void", "12", "应答码 12: 无效交易", "Response 12: invalid transaction"],
    ["refund", "13", "应答码 13: 无效金额", "Response 13: invalid amount"],
    ["void", "25", "应答码 25: 找不到原始交易", "Response 25: original not found"],
    ["void", "64", "应答码 64: 原始金额不符", "Response 64: original amount differs"],
  ] as const)("a %s declined %s says why in both languages", (op, f39, zh, en) => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op, stan: "000009", outcome: "declined", f39, amount: 100 });
    expect(render(ui.screen, "zh").lines[2]).toBe(zh);
    expect(render(ui.screen, "en").lines[2]).toBe(en);
  });

  test("a balance inquiry shows the balance", () => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "balance", stan: "000003", outcome: "approved", f39: "00", balance: 123456 });
    expect(render(ui.screen, "en")).toEqual({ title: "BALANCE", lines: ["Balance: ¥1234.56", "STAN 000003"] });
    expect(render(ui.screen, "zh")).toEqual({ title: "余额查询成功", lines: ["余额: ¥1234.56", "凭证号 000003"] });
  });

  test.each(LANGUAGES)("[%s] a timed-out sale that was not reversed claims no outcome", (language) => {
    const screen: Screen = { kind: "result", op: "sale", outcome: "timeout", stan: "000002", amount: 1234 };
    const { title, lines } = render(screen, language);
    expect(title).toBe(language === "zh" ? "交易超时" : "TIMED OUT");
    const text = [title, ...lines].join("\n");
    expect(text).not.toContain(fill("reversed", language));
    expect(text).not.toContain(fill("reversedSale", language));
  });

  test.each(LANGUAGES)("[%s] a sale reversed in its own episode: REVERSED, the customer was not charged", (language) => {
    const { ui } = setup();
    ui.onEngineEvent(waiting());
    ui.onEngineEvent(attempt());
    ui.onEngineEvent(reversed("000002", false));
    // The running sale's reversal raises no notice: its own result says it.
    expect(ui.screen.kind).toBe("reversing");
    ui.onEngineEvent({ ev: "result", op: "sale", stan: "000002", outcome: "timeout", amount: 1234, reversed: true });
    expect(render(ui.screen, language)).toEqual(
      language === "zh"
        ? { title: "已冲正", lines: ["金额: ¥12.34", "凭证号 000002", "银行已撤销该笔消费, 持卡人未被扣款", "如需交易请重新办理"] }
        : {
            title: "REVERSED",
            lines: [
              "Amount: ¥12.34",
              "STAN 000002",
              "The bank cancelled the sale: the customer was not charged",
              "Do it again if the customer still wants it",
            ],
          },
    );
  });

  test.each(LANGUAGES)("[%s] a refund reversed in its own episode: REVERSED, the card was not credited", (language) => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "refund", stan: "000004", outcome: "failed", f39: "00", amount: 800, reversed: true });
    const { title, lines } = render(ui.screen, language);
    expect(title).toBe(language === "zh" ? "已冲正" : "REVERSED");
    expect(lines).toContain(
      language === "zh" ? "银行已撤销该笔退货, 卡未入账" : "The bank cancelled the refund: the card was not credited",
    );
    expect(lines).not.toContain(fill("failedHint", language));
  });

  test("a void reversed says the original sale stands", () => {
    const screen: Screen = { kind: "result", op: "void", outcome: "timeout", stan: "000005", amount: 1234, reversed: true };
    expect(render(screen, "en").lines).toContain("The void was cancelled with the bank: the original sale stands");
    expect(render(screen, "zh").lines).toContain("撤销未生效, 原消费仍有效");
  });

  test("digits on a result start the next sale's amount directly; 0 does not; ENTER still acknowledges", () => {
    const { ui, intents } = setup();
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "approved", stan: "000002" });
    ui.press("0");
    expect(ui.screen.kind).toBe("result");
    press(ui, ["8", "8", "enter"]);
    expect(intents).toEqual([{ kind: "sale", amount: 88 }]);
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "approved", stan: "000003" });
    ui.press("cancel");
    expect(ui.screen).toEqual({ kind: "idle", pending: 0 });
  });
});

describe("TerminalUi: progress", () => {
  test("processing shows the remaining response time, rounded up to seconds", () => {
    const { ui } = setup();
    ui.onEngineEvent(waiting());
    ui.tick(12_001);
    expect(render(ui.screen, "en")).toEqual({ title: "PROCESSING", lines: ["Sale", "13 s left"] });
    expect(render(ui.screen, "zh")).toEqual({ title: "处理中, 请稍候", lines: ["消费", "剩余 13 秒"] });
    // Connecting: no countdown yet.
    ui.onEngineEvent({ ev: "exchange", op: "echo", stan: "000003", phase: "connecting" });
    expect(render(ui.screen, "en").lines).toEqual(["Echo"]);
  });

  test.each(LANGUAGES)("[%s] the REVERSING screen: its STAN, attempt k of N, the amount and its own countdown", (language) => {
    const { ui } = setup();
    ui.onEngineEvent(waiting());
    ui.onEngineEvent(attempt("000002", 2));
    expect(ui.screen).toEqual({
      kind: "reversing",
      stan: "000002",
      op: "sale",
      amount: 1234,
      attempt: 2,
      attempts: 3,
      remainingMs: undefined,
    });
    ui.onEngineEvent(reversalWaiting("000002", 2));
    ui.tick(59_500);
    const rendered = render(ui.screen, language);
    if (language === "en") {
      expect(rendered.title).toContain("REVERSING");
      expect(rendered.lines).toEqual([
        "Attempt 2 of 3, STAN 000002",
        "Amount: ¥12.34",
        "60 s left",
        "Cancelling it with the bank; do not switch off",
      ]);
    } else {
      expect(rendered.title).toBe("冲正中");
      expect(rendered.lines).toEqual(["第 2/3 次, 凭证号 000002", "金额: ¥12.34", "剩余 60 秒", "正在撤销银行交易, 请勿关机"]);
    }
    ui.tick(1);
    expect(render(ui.screen, language).lines[2]).toBe(language === "zh" ? "剩余 1 秒" : "1 s left");
    ui.tick(undefined);
    expect(render(ui.screen, language).lines).toHaveLength(3);
  });

  test("tick changes nothing on a screen without a countdown", () => {
    const { ui } = setup();
    ui.press("5");
    ui.tick(1000);
    expect(ui.screen).toEqual({ kind: "amount", digits: "5" });
  });

  test("keys cannot interrupt processing, a reversal or settlement", () => {
    const { ui, intents } = setup();
    ui.onEngineEvent(waiting());
    press(ui, ["cancel", "5", "enter"]);
    expect(ui.screen.kind).toBe("processing");
    ui.onEngineEvent(attempt());
    press(ui, ["cancel", "5", "enter"]);
    expect(ui.screen.kind).toBe("reversing");
    ui.onEngineEvent({ ev: "settlementProgress", phase: "totals", batch: "000001", uploaded: 0, toUpload: 0 });
    press(ui, ["cancel", "5", "enter"]);
    expect(ui.screen.kind).toBe("settlement");
    expect(intents).toEqual([]);
  });

  test("settlement progress: totals, then the upload", () => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "settlementProgress", phase: "totals", batch: "000001", uploaded: 0, toUpload: 0 });
    expect(render(ui.screen, "en")).toEqual({ title: "SETTLEMENT", lines: ["Sending totals"] });
    ui.onEngineEvent({ ev: "settlementProgress", phase: "upload", batch: "000001", uploaded: 2, toUpload: 5 });
    expect(render(ui.screen, "en").lines).toEqual(["Uploading batch 2/5"]);
    expect(render(ui.screen, "zh")).toEqual({ title: "结算中", lines: ["批上送 2/5"] });
  });

  test.each([
    [waiting()],
    [attempt()],
    [{ ev: "settlementProgress", phase: "upload", batch: "000001", uploaded: 1, toUpload: 2 } as TxnEvent],
  ])("a progress screen no result follows (%j) goes back to idle when the engine goes idle", (event) => {
    const { ui } = setup();
    ui.onEngineEvent(event);
    ui.press("5");
    expect(ui.screen.kind).not.toBe("idle");
    ui.onEngineEvent(IDLE);
    expect(ui.screen).toEqual({ kind: "idle", pending: 0 });
    ui.press("5");
    expect(ui.screen).toEqual({ kind: "amount", digits: "5" });
  });

  test("screens waiting for the operator stay when the engine goes idle", () => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "approved", stan: "000002" });
    ui.onEngineEvent(IDLE);
    expect(ui.screen.kind).toBe("result");
    ui.ask({ kind: "presentCard", op: "sale", amount: 5 });
    ui.onEngineEvent(IDLE);
    expect(ui.screen.kind).toBe("presentCard");
    ui.press("cancel");
    ui.press("enter");
    ui.press("7");
    ui.onEngineEvent(IDLE);
    expect(ui.screen).toEqual({ kind: "amount", digits: "7" });
  });

  test("trace events (boot, send, recv, journal) leave the screen alone", () => {
    const { ui, screens } = setup();
    ui.press("7");
    const before = screens.length;
    ui.onEngineEvent({ ev: "boot", reversalDue: 0 });
    ui.onEngineEvent({ ev: "send", mti: "0200", stan: "000002" });
    ui.onEngineEvent({ ev: "recv", mti: "0210", stan: "000002", f39: "00" });
    ui.onEngineEvent({ ev: "journal", stan: "000002", state: "completed" });
    expect(screens).toHaveLength(before);
    expect(ui.screen).toEqual({ kind: "amount", digits: "7" });
  });
});

describe("TerminalUi: 冲正失败 stays until acknowledged", () => {
  test("the timed-out sale's result does not hide it; ENTER acknowledges, then idle (the result is dropped)", () => {
    const { ui, screens } = setup();
    ui.onEngineEvent(waiting());
    ui.onEngineEvent(attempt("000002", 3));
    ui.onEngineEvent(failed());
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "timeout", stan: "000002", amount: 1234 });
    ui.onEngineEvent(IDLE);
    expect(ui.screen).toEqual(FAILED);
    expect(ui.ready).toBe(false);
    press(ui, ["1", "clear", "0"]);
    expect(ui.screen).toEqual(FAILED);
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle", pending: 0 });
    expect(distinctTitles(screens)).toEqual(["PROCESSING", "REVERSING", "REVERSAL FAILED", "WELCOME"]);
  });

  test("冲正失败 tells plainly what happened and what to do, in both languages", () => {
    const en = render(FAILED, "en");
    expect(en.title).toBe("REVERSAL FAILED");
    expect(en.lines[0]).toBe("The bank did not confirm the cancellation of sale ¥12.34 (STAN 000002). The customer may have been charged.");
    // The shipped policy retries while the terminal is idle too: the merchant need not start a sale to get it sent.
    expect(en.lines[1]).toContain("Keep this slip; the terminal keeps retrying by itself, and before each transaction");
    expect(en.lines[1]).toContain("call the acquirer hotline with the STAN");
    expect(en.lines).toEqual([...reversalFailedGuidance(FAILED, "en"), "Press ENTER to acknowledge"]);
    const zh = render({ ...FAILED, salesBlocked: true }, "zh");
    expect(zh.title).toBe("冲正失败");
    expect(zh.lines[0]).toContain("凭证号 000002");
    expect(zh.lines[0]).toContain("¥12.34");
    expect(zh.lines[0]).toContain("持卡人可能已被扣款");
    expect(zh.lines[1]).toContain("请保留此凭条");
    expect(zh.lines).toEqual([...reversalFailedGuidance({ ...FAILED, salesBlocked: true }, "zh"), "请按确认键知悉"]);
    expect(zh.lines[2]).toBe("冲正成功前暂停消费。");
  });

  test.each([
    ["refund", "The card may have been credited.", "卡可能已入账。"],
    ["void", "The void may have taken effect: the sale may be cancelled.", "撤销可能已生效, 原消费可能已取消。"],
  ] as const)("冲正失败 of a %s says what may have happened to the money, not that the customer may have been charged", (op, en, zh) => {
    const screen = { ...FAILED, op };
    expect(render(screen, "en").lines[0]).toMatch(
      new RegExp(`^The bank did not confirm the cancellation of ${op} ¥12\\.34 \\(STAN 000002\\)\\. `),
    );
    expect(render(screen, "en").lines[0].endsWith(en)).toBe(true);
    expect(render(screen, "zh").lines[0].endsWith(zh)).toBe(true);
    expect(render(screen, "en").lines[0]).not.toContain("charged");
  });

  test("another operation's result waits behind it and shows after the acknowledgement", () => {
    const { ui } = setup();
    ui.onEngineEvent(failed("000001"));
    ui.onEngineEvent(waiting("sale", "000002"));
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "refused", refusal: "blocked" });
    ui.onEngineEvent(IDLE);
    expect(ui.screen.kind).toBe("reversalFailed");
    ui.press("cancel");
    expect(ui.screen).toEqual({ kind: "result", op: "sale", outcome: "blocked" });
  });

  test("progress that ended while it was shown is not replayed; progress still running is", () => {
    const { ui } = setup();
    ui.onEngineEvent(failed());
    ui.onEngineEvent(attempt("000003"));
    ui.press("enter");
    expect(ui.screen).toMatchObject({ kind: "reversing", stan: "000003" });
    ui.onEngineEvent(failed("000004"));
    ui.onEngineEvent(attempt("000005"));
    ui.onEngineEvent(IDLE);
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle", pending: 0 });
  });

  test("several failures queue: each is shown and acknowledged in turn", () => {
    const { ui, screens } = setup();
    ui.onEngineEvent(failed("000002"));
    ui.onEngineEvent(failed("000003", true, 99));
    expect(ui.screen).toEqual(FAILED);
    ui.press("enter");
    expect(ui.screen).toEqual({ ...FAILED, stan: "000003", amount: 99 });
    expect(render(ui.screen, "en").lines[0]).toContain("STAN 000003");
    ui.press("enter");
    expect(ui.screen.kind).toBe("idle");
    expect(distinctTitles(screens)).toEqual(["REVERSAL FAILED", "WELCOME"]);
    expect(screens.filter((s) => s.kind === "reversalFailed")).toHaveLength(2);
  });

  test("a repeat failure (firstFailure: false) does not raise 冲正失败 again: the next result shows at once", () => {
    const { ui, screens } = setup();
    ui.onEngineEvent(failed());
    ui.press("enter");
    ui.setPendingReversals(1);
    // The next sale retries the record first; it fails again.
    ui.onEngineEvent(attempt("000002", 1, true));
    ui.onEngineEvent(failed("000002", false));
    expect(ui.screen.kind).toBe("reversing");
    ui.onEngineEvent(waiting("sale", "000003"));
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "approved", stan: "000003", f39: "00", amount: 500 });
    expect(ui.screen).toMatchObject({ kind: "result", outcome: "approved", stan: "000003" });
    expect(screens.filter((s) => s.kind === "reversalFailed")).toHaveLength(1);
    ui.press("enter");
    expect(renderTitle(ui.screen, "en")).toContain("PENDING");
  });

  test("after a power-on (a new UI) a first failure is raised again", () => {
    const { ui } = setup();
    ui.onEngineEvent(failed());
    ui.onEngineEvent({ ev: "result", op: "echo", outcome: "approved", stan: "000009" });
    expect(ui.screen).toEqual(FAILED);
  });

  test("menu functions wait until it is acknowledged", () => {
    const { ui } = setup();
    ui.onEngineEvent(failed());
    expect(ui.start("sale")).toBe(false);
    expect(ui.listPendingReversals([])).toBe(false);
    expect(ui.screen).toEqual(FAILED);
    ui.press("enter");
    expect(ui.start("sale")).toBe(true);
  });
});

describe("TerminalUi: a record owed from before is reversed later", () => {
  test.each(LANGUAGES)("[%s] the notice names REVERSED and the STAN", (language) => {
    const { ui } = setup();
    ui.onEngineEvent(attempt("000002", 1, true));
    ui.onEngineEvent(reversed("000002"));
    expect(ui.screen).toEqual({ kind: "reversedNotice", op: "sale", stan: "000002", amount: 1234, wasFailed: true });
    const { title, lines } = render(ui.screen, language);
    if (language === "en") {
      expect(title).toContain("REVERSED");
      expect(title).toContain("000002");
      expect(lines).toEqual([
        "Sale ¥12.34 (STAN 000002) was cancelled by the bank: the customer was not charged.",
        "The earlier REVERSAL FAILED slip no longer applies.",
        "Press ENTER",
      ]);
    } else {
      expect(title).toBe("冲正成功 凭证号 000002");
      expect(lines).toEqual(["消费 ¥12.34 (凭证号 000002) 已由银行撤销, 持卡人未被扣款。", "之前的冲正失败凭条作废。", "请按确认键"]);
    }
  });

  test.each(LANGUAGES)("[%s] a reversal that was only pending (no network, never 冲正失败) names no slip: none was printed", (language) => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "reversal", phase: "offline", stan: "000003", op: "sale", amount: 500, deferred: false });
    ui.onEngineEvent({
      ev: "reversal",
      phase: "reversed",
      stan: "000003",
      op: "sale",
      amount: 500,
      attempt: 1,
      deferred: true,
      wasFailed: false,
    });
    expect(ui.screen).toEqual({ kind: "reversedNotice", op: "sale", stan: "000003", amount: 500, wasFailed: false });
    expect(render(ui.screen, language).lines).toEqual(
      language === "en"
        ? ["Sale ¥5.00 (STAN 000003) was cancelled by the bank: the customer was not charged.", "Press ENTER"]
        : ["消费 ¥5.00 (凭证号 000003) 已由银行撤销, 持卡人未被扣款。", "请按确认键"],
    );
  });

  test.each([
    [
      "refund",
      "Refund ¥12.34 (STAN 000004) was cancelled by the bank: the card was not credited.",
      "退货 ¥12.34 (凭证号 000004) 已由银行撤销, 卡未入账。",
    ],
    [
      "void",
      "Void ¥12.34 (STAN 000004) was cancelled by the bank: the void did not take effect, the original sale stands.",
      "消费撤销 ¥12.34 (凭证号 000004) 已由银行撤销: 撤销未生效, 原消费仍有效。",
    ],
  ] as const)("a %s reversed later says what that means for the money: never 'not charged'", (op, en, zh) => {
    const { ui } = setup();
    ui.onEngineEvent({ ...reversed("000004", true), op } as TxnEvent);
    expect(render(ui.screen, "en").lines[0]).toBe(en);
    expect(render(ui.screen, "zh").lines[0]).toBe(zh);
    expect(render(ui.screen, "en").lines.join(" ")).not.toContain("not charged");
  });

  test("shown once until ENTER; the sale that flushed it waits behind and shows after", () => {
    const { ui, screens } = setup();
    ui.setPendingReversals(1);
    ui.onEngineEvent(attempt("000002", 1, true));
    ui.onEngineEvent(reversed("000002"));
    ui.setPendingReversals(0);
    ui.onEngineEvent(waiting("sale", "000003"));
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "approved", stan: "000003", f39: "00", amount: 500 });
    ui.onEngineEvent(IDLE);
    expect(ui.screen.kind).toBe("reversedNotice");
    expect(ui.ready).toBe(false);
    press(ui, ["1", "clear"]);
    expect(ui.screen.kind).toBe("reversedNotice");
    ui.press("enter");
    expect(ui.screen).toMatchObject({ kind: "result", outcome: "approved", stan: "000003" });
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle", pending: 0 });
    expect(distinctTitles(screens)).toEqual([
      "WELCOME - 1 REVERSAL(S) PENDING",
      "REVERSING",
      "REVERSED: STAN 000002",
      "APPROVED",
      "WELCOME",
    ]);
  });

  test("several reversed at boot: one notice each, in turn", () => {
    const { ui, screens } = setup();
    for (const stan of ["000002", "000003"]) {
      ui.onEngineEvent(attempt(stan, 1, true));
      ui.onEngineEvent(reversed(stan));
    }
    ui.onEngineEvent(IDLE);
    expect(ui.screen).toMatchObject({ kind: "reversedNotice", stan: "000002" });
    ui.press("enter");
    expect(ui.screen).toMatchObject({ kind: "reversedNotice", stan: "000003" });
    ui.press("cancel");
    expect(ui.screen.kind).toBe("idle");
    expect(titles(screens).filter((t) => t.startsWith("REVERSED:"))).toEqual(["REVERSED: STAN 000002", "REVERSED: STAN 000003"]);
  });

  test("a refund reversed later says so in its notice", () => {
    const { ui } = setup();
    ui.onEngineEvent(reversed("000004", true, "refund"));
    expect(render(ui.screen, "en").lines[0]).toContain("Refund ¥12.34 (STAN 000004)");
    expect(render(ui.screen, "zh").lines[0]).toContain("退货 ¥12.34");
  });
});

describe("TerminalUi: a reversal owed from before, sent while a result waits for the operator", () => {
  const pendingResult = (stan: string): TxnEvent => ({
    ev: "result",
    op: "sale",
    stan,
    outcome: "timeout",
    amount: 1234,
    reversalPending: true,
  });
  const offline = (stan: string): TxnEvent => ({ ev: "reversal", phase: "offline", stan, op: "sale", amount: 1234, deferred: true });

  test("still no network: REVERSAL PENDING comes back with what to do, not the idle screen", () => {
    const { ui } = setup();
    ui.onEngineEvent(pendingResult("000008"));
    ui.onEngineEvent(IDLE);
    const pending = ui.screen;
    expect(pending).toMatchObject({ kind: "result", reversalPending: true, stan: "000008" });
    // The idle worker's attempt: its progress shows (do not switch off) ...
    ui.onEngineEvent(attempt("000008", 1, true));
    expect(ui.screen.kind).toBe("reversing");
    ui.onEngineEvent(offline("000008"));
    ui.onEngineEvent(IDLE);
    // ... and when it ends without a network, the guidance the merchant has not dismissed is back.
    expect(ui.screen).toEqual(pending);
    expect(render(ui.screen, "en").lines).toContain(fill("reversalPendingWhatToDo", "en"));
  });

  test("it goes through: the notice, then not the out-of-date REVERSAL PENDING of the same sale but idle", () => {
    const { ui } = setup();
    ui.onEngineEvent(pendingResult("000008"));
    ui.onEngineEvent(IDLE);
    ui.onEngineEvent(attempt("000008", 1, true));
    ui.onEngineEvent({ ...(reversed("000008") as object), wasFailed: false } as TxnEvent);
    ui.onEngineEvent(IDLE);
    expect(ui.screen).toMatchObject({ kind: "reversedNotice", stan: "000008", wasFailed: false });
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle", pending: 0 });
  });

  test("another sale's result that was covered comes back after the notice", () => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "sale", stan: "000003", outcome: "approved", f39: "00", amount: 500 });
    ui.onEngineEvent(IDLE);
    const approved = ui.screen;
    ui.onEngineEvent(attempt("000002", 1, true));
    ui.onEngineEvent(reversed("000002"));
    ui.onEngineEvent(IDLE);
    expect(ui.screen).toMatchObject({ kind: "reversedNotice", stan: "000002" });
    ui.press("enter");
    expect(ui.screen).toEqual(approved);
  });

  test("a sale's own reversal covers nothing: what follows it is its own result", () => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "sale", stan: "000003", outcome: "approved", f39: "00", amount: 500 });
    ui.onEngineEvent(waiting("sale", "000004"));
    ui.onEngineEvent(attempt("000004", 1, false));
    ui.onEngineEvent({ ev: "result", op: "sale", stan: "000004", outcome: "timeout", amount: 1234, reversed: true });
    ui.onEngineEvent(IDLE);
    expect(ui.screen).toMatchObject({ kind: "result", stan: "000004", reversed: true });
  });
});

describe("TerminalUi: the idle screen counts the reversals pending", () => {
  test.each(LANGUAGES)("[%s] PENDING with the count, and the hint", (language) => {
    const { ui, screens } = setup();
    ui.setPendingReversals(2);
    expect(ui.screen).toEqual({ kind: "idle", pending: 2 });
    expect(screens).toEqual([{ kind: "idle", pending: 2 }]);
    const { title, lines } = render(ui.screen, language);
    if (language === "en") {
      expect(title).toContain("PENDING");
      expect(title).toContain("2");
      expect(lines).toEqual([
        "Enter an amount or press a function key",
        "They go out automatically once the bank is reachable; the menu lists them",
      ]);
    } else {
      expect(title).toBe("欢迎使用 · 待冲正 2 笔");
      expect(lines).toHaveLength(2);
    }
    ui.setPendingReversals(0);
    expect(render(ui.screen, language).title).toBe(fill("idle", language));
  });

  test("the same count repaints nothing; a count set elsewhere shows when idle comes back", () => {
    const { ui, screens } = setup();
    ui.setPendingReversals(0);
    expect(screens).toEqual([]);
    ui.press("5");
    ui.setPendingReversals(3);
    expect(ui.screen).toEqual({ kind: "amount", digits: "5" });
    ui.press("cancel");
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle", pending: 3 });
    ui.onEngineEvent(failed());
    ui.press("enter");
    expect(ui.screen).toEqual({ kind: "idle", pending: 3 });
  });

  test("a count that is not a whole number is a bug", () => {
    const { ui } = setup();
    expect(() => ui.setPendingReversals(-1)).toThrow();
    expect(() => ui.setPendingReversals(1.5)).toThrow();
  });
});

describe("TerminalUi: settlement", () => {
  const TOTALS = { saleCount: 3, saleAmount: 4500, voidCount: 1, voidAmount: 1000, refundCount: 2, refundAmount: 250 };

  test.each(LANGUAGES)("[%s] balanced: the verdict and the totals by type", (language) => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "settlement", batch: "000001", stan: "000009", balanced: true, totals: TOTALS, openReversals: [] });
    expect(ui.screen.kind).toBe("settlementDone");
    expect(render(ui.screen, language)).toEqual(
      language === "zh"
        ? { title: "结算完成", lines: ["对账平", "消费 3 笔 ¥45.00", "撤销 1 笔 ¥10.00", "退货 2 笔 ¥2.50"] }
        : { title: "SETTLEMENT DONE", lines: ["Totals agree", "Sales 3 ¥45.00", "Voids 1 ¥10.00", "Refunds 2 ¥2.50"] },
    );
    ui.press("enter");
    expect(ui.screen.kind).toBe("idle");
  });

  test.each(LANGUAGES)("[%s] unbalanced, with reversals still open", (language) => {
    const { ui } = setup();
    ui.onEngineEvent({
      ev: "settlement",
      batch: "000001",
      stan: "000009",
      balanced: false,
      totals: TOTALS,
      openReversals: [
        { stan: "000002", op: "sale", amount: 1234, state: "failed" },
        { stan: "000005", op: "refund", amount: 99, state: "failed" },
      ],
    });
    const { lines } = render(ui.screen, language);
    expect(lines[0]).toBe(language === "zh" ? "对账不平, 已批上送" : "Totals differed; batch uploaded");
    expect(lines.slice(1, 4)).toEqual(
      language === "zh"
        ? ["消费 3 笔 ¥45.00", "撤销 1 笔 ¥10.00", "退货 2 笔 ¥2.50"]
        : ["Sales 3 ¥45.00", "Voids 1 ¥10.00", "Refunds 2 ¥2.50"],
    );
    expect(lines[4]).toBe(language === "zh" ? "有 2 笔冲正失败, 请联系收单行" : "2 failed cancellation(s): call the acquirer");
    expect(lines).toHaveLength(5);
  });

  test("a digit on the settlement report starts a sale", () => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "settlement", batch: "000001", stan: "000009", balanced: true, totals: TOTALS, openReversals: [] });
    ui.press("3");
    expect(ui.screen).toEqual({ kind: "amount", digits: "3" });
  });
});

describe("TerminalUi: entries the menu starts", () => {
  test("void: the original STAN, zero-padded, at most 6 digits; CANCEL leaves", () => {
    const { ui, intents } = setup();
    press(ui, ["5", "cancel", "enter"]);
    expect(ui.start("void")).toBe(true);
    press(ui, ["1", "2", "3", "4", "5", "6", "7", "clear", "enter"]);
    expect(intents).toEqual([{ kind: "cancel" }, { kind: "voidLookup", stan: "012345" }]);
    expect(ui.screen).toEqual({ kind: "stanEntry", purpose: "void", digits: "12345" });
  });

  test("refund: an optional original STAN, looked up by the host, then the refund's amount", () => {
    const { ui, intents } = setup();
    ui.start("refund");
    expect(render(ui.screen, "en").title).toBe("REFUND: ORIGINAL STAN");
    expect(render(ui.screen, "zh").lines).toEqual(["凭证号 _", "无原凭证号请直接按确认键"]);
    press(ui, ["4", "2", "enter"]);
    // The STAN screen stays until the host answers (a notice when the sale cannot be refunded).
    expect(intents).toEqual([{ kind: "refundLookup", stan: "000042" }]);
    expect(ui.screen).toEqual({ kind: "stanEntry", purpose: "refund", digits: "42" });
    ui.ask({ kind: "refundAmount", originalStan: "000042" });
    intents.length = 0;
    expect(ui.screen).toEqual({ kind: "amount", digits: "", op: "refund", originalStan: "000042" });
    expect(render(ui.screen, "en")).toEqual({ title: "REFUND AMOUNT", lines: ["Amount: ¥0.00", "Original STAN 000042"] });
    expect(render(ui.screen, "zh")).toEqual({ title: "退货: 请输入金额", lines: ["金额: ¥0.00", "原凭证号 000042"] });
    ui.press("enter");
    expect(ui.notice).toBe("noticeAmountZero");
    press(ui, ["0", "5", "0", "0", "enter"]);
    expect(intents).toEqual([{ kind: "refund", amount: 500, originalStan: "000042" }]);
    ui.ask({ kind: "presentCard", op: "refund", amount: 500 });
    ui.press("cancel");
    ui.press("enter");
    ui.start("refund");
    press(ui, ["enter", "9", "enter"]);
    expect(intents.slice(-1)).toEqual([{ kind: "refund", amount: 9 }]);
  });

  test.each(LANGUAGES)(
    "[%s] refund of a sale of the open batch: what it has left heads the amount; more is a notice, not an intent",
    (language) => {
      const { ui, intents } = setup();
      ui.start("refund");
      press(ui, ["7", "enter"]);
      ui.ask({ kind: "refundAmount", originalStan: "000007", leftAmount: 200 });
      expect(ui.screen).toEqual({ kind: "amount", digits: "", op: "refund", originalStan: "000007", leftAmount: 200 });
      expect(render(ui.screen, language).lines).toEqual(
        language === "zh"
          ? ["金额: ¥0.00", "原凭证号 000007", "最多可退 ¥2.00"]
          : ["Amount: ¥0.00", "Original STAN 000007", "At most ¥2.00 to refund"],
      );
      press(ui, ["2", "0", "1", "enter"]);
      expect(ui.notice).toBe("noticeRefundOverSale");
      press(ui, ["clear", "0", "enter"]);
      expect(intents).toEqual([
        { kind: "refundLookup", stan: "000007" },
        { kind: "refund", amount: 200, originalStan: "000007" },
      ]);
    },
  );

  test("sale from the menu: an empty amount, then digits", () => {
    const { ui, intents } = setup();
    ui.start("sale");
    expect(render(ui.screen, "en")).toEqual({ title: "ENTER AMOUNT", lines: ["Amount: ¥0.00"] });
    press(ui, ["3", "enter"]);
    expect(intents).toEqual([{ kind: "sale", amount: 3 }]);
  });

  test("the menu waits while a transaction runs or a card is asked for", () => {
    const { ui } = setup();
    ui.ask({ kind: "presentCard", op: "sale", amount: 5 });
    expect(ui.ready).toBe(false);
    expect(ui.start("void")).toBe(false);
    expect(ui.listPendingReversals([])).toBe(false);
    ui.onEngineEvent(waiting());
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
    for (const language of LANGUAGES) {
      const lines = render(ui.screen, language).lines;
      expect(lines).toHaveLength(8);
      expect(lines[6]).toBe(language === "zh" ? "另有 3 笔" : "3 more");
    }
  });
});

describe("render", () => {
  const SCREENS: Screen[] = [
    { kind: "idle", pending: 0 },
    { kind: "idle", pending: 7 },
    { kind: "amount", digits: "1" },
    { kind: "amount", digits: "", op: "refund", originalStan: "000002" },
    { kind: "amount", digits: "5", op: "refund", originalStan: "000002", leftAmount: 700 },
    { kind: "stanEntry", purpose: "void", digits: "" },
    { kind: "stanEntry", purpose: "refund", digits: "12" },
    { kind: "voidConfirm", stan: "000002", amount: 1234, panMasked: "622202******0017" },
    { kind: "pendingReversals", records: [] },
    { kind: "pendingReversals", records: [{ stan: "000002", op: "void", amount: 1, state: "reversalDue", reason: "06", attempts: 0 }] },
    { kind: "presentCard", op: "sale", amount: 1 },
    { kind: "presentCard", op: "balance", amount: 0 },
    { kind: "pin", entered: 12, op: "sale", amount: 9_999_999_999 },
    { kind: "pin", entered: 0, op: "balance", amount: 0 },
    { kind: "processing", op: "echo", remainingMs: undefined },
    { kind: "processing", op: "settle", remainingMs: 1 },
    { kind: "reversing", stan: "000002", op: "refund", amount: 1, attempt: 10, attempts: 10, remainingMs: 600_000 },
    // The longest result: amount, STAN, a reversal's two lines.
    { kind: "result", op: "sale", outcome: "timeout", stan: "000002", amount: 1, reversed: true },
    { kind: "result", op: "sale", outcome: "declined", stan: "000002", f39: "05", amount: 1 },
    { kind: "result", op: "sale", outcome: "declined", stan: "000002", f39: "Z9", amount: 1 },
    { kind: "result", op: "refund", outcome: "failed", stan: "000002", amount: 1 },
    { kind: "result", op: "balance", outcome: "approved", balance: -100 },
    { kind: "result", op: "settle", outcome: "cancelled" },
    { kind: "reversalFailed", op: "void", stan: "000002", amount: 1, salesBlocked: true },
    { kind: "reversedNotice", op: "void", stan: "000002", amount: 1, wasFailed: true },
    { kind: "settlement", phase: "totals", uploaded: 0, toUpload: 0 },
    {
      kind: "settlementDone",
      balanced: false,
      totals: { saleCount: 999, saleAmount: 999_999_999_999, voidCount: 999, voidAmount: 1, refundCount: 999, refundAmount: 1 },
      openReversals: [{ stan: "000002", op: "sale", amount: 1, state: "reversalDue" }],
    },
  ];
  /** Each screen's title, 中文 and English, in SCREENS' order: a title must say the right thing, not merely something. */
  const TITLES: readonly (readonly [string, string])[] = [
    ["欢迎使用", "WELCOME"],
    ["欢迎使用 · 待冲正 7 笔", "WELCOME - 7 REVERSAL(S) PENDING"],
    ["请输入金额", "ENTER AMOUNT"],
    ["退货: 请输入金额", "REFUND AMOUNT"],
    ["退货: 请输入金额", "REFUND AMOUNT"],
    ["消费撤销: 请输入原凭证号", "VOID: ORIGINAL STAN"],
    ["退货: 请输入原凭证号", "REFUND: ORIGINAL STAN"],
    ["消费撤销: 请确认", "VOID: CONFIRM"],
    ["未完成冲正", "PENDING REVERSALS"],
    ["未完成冲正", "PENDING REVERSALS"],
    ["请刷卡/插卡/挥卡", "PRESENT CARD"],
    ["请刷卡/插卡/挥卡", "PRESENT CARD"],
    ["请输入密码", "ENTER PIN"],
    ["请输入密码", "ENTER PIN"],
    ["处理中, 请稍候", "PROCESSING"],
    ["处理中, 请稍候", "PROCESSING"],
    ["冲正中", "REVERSING"],
    ["已冲正", "REVERSED"],
    ["交易失败", "DECLINED"],
    ["交易失败", "DECLINED"],
    ["交易失败", "FAILED"],
    ["余额查询成功", "BALANCE"],
    ["交易取消", "CANCELLED"],
    ["冲正失败", "REVERSAL FAILED"],
    ["冲正成功 凭证号 000002", "REVERSED: STAN 000002"],
    ["结算中", "SETTLEMENT"],
    ["结算完成", "SETTLEMENT DONE"],
  ];

  test("every screen has its title written down", () => {
    expect(TITLES).toHaveLength(SCREENS.length);
  });

  test.each(SCREENS.map((s, i) => [s.kind, s, TITLES[i]] as const))(
    "%s renders its title in both languages within the display's 8 lines",
    (_kind, screen, [zh, en]) => {
      for (const language of LANGUAGES) {
        const { title, lines } = render(screen, language);
        expect(title).toBe(language === "zh" ? zh : en);
        expect(title).toBe(renderTitle(screen, language));
        expect(lines.length).toBeLessThanOrEqual(8);
        for (const line of [title, ...lines]) expect(line).not.toContain("{");
      }
      expect(render(screen, "zh").title).not.toBe(render(screen, "en").title);
    },
  );

  test("the 中文 titles carry no English", () => {
    for (const screen of SCREENS) expect(renderTitle(screen, "zh")).not.toMatch(LATIN);
  });
});

describe("texts", () => {
  test("tables are frozen and complete in both languages", () => {
    expect(Object.isFrozen(TEXTS)).toBe(true);
    for (const pair of Object.values(TEXTS)) {
      expect(Object.isFrozen(pair)).toBe(true);
      expect(pair.zh.length).toBeGreaterThan(0);
      expect(pair.en.length).toBeGreaterThan(0);
    }
  });

  test("fill refuses a missing placeholder value", () => {
    expect(() => fill("stanLine", "en")).toThrow(RangeError);
    expect(fill("stanLine", "zh", { stan: "000001" })).toBe("凭证号 000001");
  });

  test.each([
    [0, "0.00"],
    [5, "0.05"],
    [1234, "12.34"],
    [100000, "1000.00"],
    [9_999_999_999, "99999999.99"],
  ])("formatAmount(%d) = %s", (minor, text) => {
    expect(formatAmount(minor)).toBe(text);
  });
});

describe("fixes found by the UI review", () => {
  test("a settlement's approval does not replace its totals with APPROVED; its exchange shows the settlement's own progress", () => {
    const screens: string[] = [];
    const ui = new TerminalUi({ onScreen: (screen) => screens.push(render(screen, "en").title) });
    const totals = { saleCount: 1, saleAmount: 100, voidCount: 0, voidAmount: 0, refundCount: 0, refundAmount: 0 };
    ui.onEngineEvent({ ev: "settlementProgress", phase: "totals", batch: "000001", uploaded: 0, toUpload: 0 });
    ui.onEngineEvent({ ev: "exchange", op: "settle", stan: "000009", phase: "connecting" });
    ui.onEngineEvent({ ev: "exchange", op: "settle", stan: "000009", phase: "waiting", timeoutMs: 1000 });
    ui.onEngineEvent({ ev: "settlement", batch: "000001", stan: "000009", balanced: true, totals, openReversals: [] });
    ui.onEngineEvent({ ev: "result", op: "settle", stan: "000009", outcome: "approved", f39: "00" });
    ui.onEngineEvent({ ev: "idle" });
    expect(screens).toEqual(["SETTLEMENT", "SETTLEMENT DONE"]);
    expect(ui.screen.kind).toBe("settlementDone");
  });

  test("a balance in debit reads with its sign: ¥-1.50", () => {
    expect(formatAmount(-150)).toBe("-1.50");
    expect(formatAmount(-1)).toBe("-0.01");
    expect(formatAmount(150)).toBe("1.50");
    const ui = new TerminalUi();
    ui.onEngineEvent({ ev: "result", op: "balance", stan: "000003", outcome: "approved", f39: "00", balance: -150 });
    expect(render(ui.screen, "en").lines).toContain("Balance: ¥-1.50");
  });
});

describe("issue 17: no network, backoff, the network check and reader care, in both languages", () => {
  const diagnostics = {
    ok: false,
    connectMs: 120,
    failures: [
      { failure: "refused" as const, atMs: Date.UTC(2026, 0, 15, 3, 4, 5) },
      { failure: "timeout" as const, atMs: Date.UTC(2026, 0, 15, 3, 5, 6) },
    ],
    link: { up: true, rssiDbm: -67 },
    readers: [{ reader: "magstripe" as const, reads: 12, failed: 7, reasons: { lrc: 5, parity: 2 } }],
    cleaning: ["magstripe" as const],
  };

  test.each(LANGUAGES)("%s: a timeout whose reversal cannot be sent says REVERSAL PENDING and what to do, not 冲正失败", (language) => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "reversal", phase: "offline", stan: "000002", op: "sale", amount: 1234, deferred: false });
    ui.onEngineEvent({ ev: "result", op: "sale", stan: "000002", outcome: "timeout", amount: 1234, reversalPending: true });
    const { title, lines } = render(ui.screen, language);
    expect(title).toBe(fill("reversalPendingTitle", language));
    expect(lines).toContain(fill("reversalPendingWhat", language));
    expect(lines).toContain(fill("reversalPendingWhatToDo", language));
    expect(title).not.toBe(fill("reversalFailed", language));
    if (language === "en") expect(title).toContain("PENDING");
    else expect(lines.join("")).not.toMatch(LATIN);
  });

  test.each([
    ["refund", "Until then the card may have been credited: do not refund it another way; check the network connection."],
    [
      "void",
      "Until then the void may have taken effect; once cancelled, the sale stands: void it again if still needed; check the network connection.",
    ],
  ] as const)(
    "a %s whose reversal cannot be sent says what may have happened to the money, not 'do not hand over the goods'",
    (op, whatToDo) => {
      const { ui } = setup();
      ui.onEngineEvent({ ev: "result", op, stan: "000002", outcome: "timeout", amount: 1234, reversalPending: true });
      const en = render(ui.screen, "en").lines;
      expect(en).toContain(whatToDo);
      expect(en.join(" ")).not.toContain("goods");
      expect(render(ui.screen, "zh").lines.join("")).not.toContain("请勿交付商品");
    },
  );

  test.each(LANGUAGES)("%s: an operation refused because an owed reversal cannot go first says NO NETWORK — NOT SENT", (language) => {
    const { ui } = setup();
    ui.onEngineEvent({ ev: "result", op: "sale", outcome: "refused", refusal: "reversalPending" });
    const { title, lines } = render(ui.screen, language);
    expect(title).toBe(fill("noNetwork", language));
    expect(lines).toContain(fill("noNetworkHint", language));
  });

  test.each(LANGUAGES)("%s: between attempts the reversing screen counts down to the next try, not to an answer", (language) => {
    const { ui } = setup();
    ui.onEngineEvent({
      ev: "reversal",
      phase: "backoff",
      stan: "000002",
      op: "sale",
      amount: 1234,
      attempt: 2,
      attempts: 3,
      deferred: false,
      timeoutMs: 5000,
    });
    expect(ui.screen).toMatchObject({ kind: "reversing", attempt: 2, backoff: true, remainingMs: 5000 });
    ui.tick(2100);
    const { title, lines } = render(ui.screen, language);
    expect(title).toBe(fill("reversing", language));
    expect(lines).toContain(fill("nextTry", language, { seconds: "3" }));
    expect(lines).not.toContain(fill("remaining", language, { seconds: "3" }));
  });

  test.each(LANGUAGES)(
    "%s: the network check shows the link, the timings, the last failures and the readers; its result does not replace it",
    (language) => {
      const { ui } = setup();
      ui.onEngineEvent({ ev: "exchange", op: "networkCheck", stan: "000009", phase: "connecting" });
      ui.showDiagnostics(diagnostics);
      ui.onEngineEvent({ ev: "result", op: "networkCheck", stan: "000009", outcome: "timeout" });
      expect(ui.screen.kind).toBe("diagnostics");
      const { title, lines } = render(ui.screen, language);
      expect(title).toBe(fill("networkCheckFailed", language));
      expect(lines).toEqual([
        fill("linkUpRssi", language, { rssi: "-67" }),
        fill("networkTimings", language, { connect: "120", answer: "—" }),
        fill("networkFailure", language, { time: "03:04:05", failure: "refused" }),
        fill("networkFailure", language, { time: "03:05:06", failure: "timeout" }),
        fill("readerLine", language, { reader: TEXTS.readerMagstripe[language], failed: "7", reads: "12" }),
        fill("noticeCleanMagstripe", language),
        fill("cleanedHint", language),
      ]);
      expect(lines.length).toBeLessThanOrEqual(8);
      // ENTER goes back; a digit starts a sale, as on any report.
      ui.press("enter");
      expect(ui.screen.kind).toBe("idle");
    },
  );

  test.each(LANGUAGES)("%s: a host reached that refuses the echo says why after the timings: its code, or a bad MAC", (language) => {
    const { ui } = setup();
    const reached = { ok: false, connectMs: 20, failures: [], readers: [], cleaning: [] };
    ui.showDiagnostics({ ...reached, f39: "96" });
    const timings = fill("networkTimings", language, { connect: "20", answer: "—" });
    expect(render(ui.screen, language)).toEqual({
      title: fill("networkCheckFailed", language),
      lines: [timings, fill("networkAnswerRefused", language, { code: "96" })],
    });
    expect(render(ui.screen, language).lines[1]).toContain("96");
    ui.showDiagnostics({ ...reached, badMac: true });
    expect(render(ui.screen, language).lines).toEqual([timings, fill("networkAnswerBadMac", language)]);
    expect(fill("networkAnswerBadMac", language)).toContain(language === "zh" ? "签到" : "sign on");
  });

  test.each(LANGUAGES)("%s: a link that is down and an OK check read as such", (language) => {
    const { ui } = setup();
    ui.showDiagnostics({ ok: true, connectMs: 20, answerMs: 10, failures: [], link: { up: false }, readers: [], cleaning: [] });
    const { title, lines } = render(ui.screen, language);
    expect(title).toBe(fill("networkCheckOk", language));
    expect(lines).toEqual([fill("linkDown", language), fill("networkTimings", language, { connect: "20", answer: "10" })]);
  });

  test.each(LANGUAGES)("%s: CLEAR on the check says the readers were cleaned; the advice is never cut by failures", (language) => {
    const { ui, intents } = setup();
    const failures = Array.from({ length: 4 }, (_, i) => ({ failure: "refused" as const, atMs: Date.UTC(2026, 0, 15, 3, 4, i) }));
    const readers = (["magstripe", "contactless", "contact"] as const).map((reader) => ({ reader, reads: 20, failed: 9, reasons: {} }));
    ui.showDiagnostics({ ...diagnostics, failures, readers, cleaning: ["magstripe", "contact"] });
    const { lines } = render(ui.screen, language);
    expect(lines).toHaveLength(8);
    expect(lines.slice(-3)).toEqual([
      fill("noticeCleanMagstripe", language),
      fill("noticeCleanContact", language),
      fill("cleanedHint", language),
    ]);
    if (language === "zh") expect(fill("cleanedHint", language)).not.toMatch(LATIN);
    ui.press("clear");
    expect(intents).toEqual([{ kind: "readersCleaned", readers: ["magstripe", "contact"] }]);
    expect(ui.screen.kind).toBe("idle");
    expect(renderNotice("noticeReadersCleaned", language)).not.toBe(renderNotice("noticeCleanMagstripe", language));
  });

  test("CLEAR on a check with nothing to clean does nothing", () => {
    const { ui, intents } = setup();
    ui.showDiagnostics({ ...diagnostics, cleaning: [] });
    expect(render(ui.screen, "en").lines).not.toContain(fill("cleanedHint", "en"));
    ui.press("clear");
    expect(intents).toEqual([]);
    expect(ui.screen.kind).toBe("diagnostics");
  });

  test.each(LANGUAGES)("%s: each reader's cleaning notice is its own text", (language) => {
    const notices: NoticeId[] = ["noticeCleanMagstripe", "noticeCleanContactless", "noticeCleanContact"];
    const texts = notices.map((notice) => renderNotice(notice, language));
    expect(new Set(texts).size).toBe(3);
    if (language === "zh") for (const text of texts) expect(text).not.toMatch(LATIN);
    const { ui } = setup();
    ui.notify("noticeCleanMagstripe");
    expect(ui.notice).toBe("noticeCleanMagstripe");
    ui.press("1");
    expect(ui.notice).toBeUndefined();
  });
});
