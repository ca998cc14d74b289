import type { BatchTotals } from "../../../modules/txn/events";
import { renderSlip, type Slip } from "../../../modules/ui/slips";
import { reversalFailedGuidance, settlementLines } from "../../../modules/ui/terminal-ui";

/** 2025-01-02 03:04:05 UTC. */
const AT_MS = Date.UTC(2025, 0, 2, 3, 4, 5);
const HEADER = { terminalId: "12345678", merchantId: "898100012340003", atMs: AT_MS } as const;
const PAN_MASKED = "622202******0017";
/** A PAN's worth of digits in one run: a slip never prints one. */
const FULL_PAN = /[0-9]{12,19}/;

const sale = (kind: "sale" | "void" | "refund" = "sale", extra: { originalStan?: string } = {}): Slip => ({
  ...HEADER,
  kind,
  stan: "000002",
  batch: "000001",
  amount: 1234,
  panMasked: PAN_MASKED,
  authCode: "A1B2C3",
  rrn: "501234567890",
  ...extra,
});
const REVERSAL_FAILED: Slip = {
  ...HEADER,
  kind: "reversalFailed",
  op: "sale",
  stan: "000002",
  amount: 1234,
  attempts: 3,
  salesBlocked: false,
};
const REVERSED: Slip = { ...HEADER, kind: "reversed", op: "sale", stan: "000002", amount: 1234, attempts: 1 };
const TOTALS: BatchTotals = { saleCount: 3, saleAmount: 4500, voidCount: 1, voidAmount: 1000, refundCount: 2, refundAmount: 250 };
const settlement = (balanced: boolean, openReversals: Extract<Slip, { kind: "settlement" }>["openReversals"] = []): Slip => ({
  ...HEADER,
  kind: "settlement",
  stan: "000009",
  batch: "000001",
  balanced,
  totals: TOTALS,
  openReversals,
});

const ALL: readonly Slip[] = [
  sale("sale"),
  sale("void", { originalStan: "000002" }),
  sale("refund"),
  REVERSAL_FAILED,
  REVERSED,
  settlement(true),
  settlement(false, [{ stan: "000004", op: "refund", amount: 99, state: "failed" }]),
];

describe("renderSlip", () => {
  test.each(ALL.map((slip) => [slip.kind, slip] as const))(
    "a %s slip: header with merchant, terminal and time; no placeholder left",
    (_kind, slip) => {
      const lines = renderSlip(slip);
      expect(lines.length).toBeGreaterThan(5);
      expect(lines).toContain("商户号 MID   898100012340003");
      expect(lines).toContain("终端号 TID   12345678");
      expect(lines).toContain("日期 DATE    2025-01-02 03:04:05");
      for (const line of lines) {
        expect(typeof line).toBe("string");
        expect(line).not.toContain("{");
        expect(line).not.toContain("undefined");
      }
    },
  );

  test("a sale slip: type, batch, STAN, authorization, RRN, amount and the masked PAN only", () => {
    const lines = renderSlip(sale());
    expect(lines[0]).toContain("SALES SLIP");
    for (const line of ["卡号 CARD    622202******0017", "交易类型 TYPE 消费 SALE", "批次号 BATCH 000001", "凭证号 STAN  000002"])
      expect(lines).toContain(line);
    expect(lines).toContain("授权码 AUTH  A1B2C3");
    expect(lines).toContain("参考号 RRN   501234567890");
    expect(lines).toContain("金额 AMOUNT  RMB 12.34");
    expect(lines.filter((line) => line.includes(PAN_MASKED))).toHaveLength(1);
    // The PAN is printed as given: nothing on the slip unmasks it; the merchant number and the RRN are the only long digit runs.
    expect(lines.filter((line) => FULL_PAN.test(line))).toEqual(["商户号 MID   898100012340003", "参考号 RRN   501234567890"]);
    expect(lines.some((line) => line.includes("6222020000000017"))).toBe(false);
    expect(lines.some((line) => line.startsWith("原凭证号"))).toBe(false);
  });

  test("a void slip names the original STAN; a refund slip its type", () => {
    expect(renderSlip(sale("void", { originalStan: "000002" }))).toEqual(
      expect.arrayContaining(["交易类型 TYPE 消费撤销 VOID", "原凭证号 ORIG 000002"]),
    );
    const refund = renderSlip(sale("refund"));
    expect(refund).toContain("交易类型 TYPE 退货 REFUND");
    expect(refund).toContain("卡号 CARD    622202******0017");
  });

  test("a 冲正失败 slip: title, time, the attempts made, and the guidance in both languages", () => {
    const lines = renderSlip(REVERSAL_FAILED);
    expect(lines[0]).toContain("冲正失败");
    expect(lines[0]).toContain("REVERSAL FAILED");
    expect(lines).toContain("日期 DATE    2025-01-02 03:04:05");
    expect(lines).toContain("尝试 TRIES   3");
    expect(lines).toContain("凭证号 STAN  000002");
    expect(lines).toContain("金额 AMOUNT  RMB 12.34");
    expect(lines).toContain("交易类型 TYPE 消费 SALE");
    const screen = { kind: "reversalFailed", op: "sale", stan: "000002", amount: 1234, salesBlocked: false } as const;
    expect(lines).toEqual(expect.arrayContaining([...reversalFailedGuidance(screen, "zh"), ...reversalFailedGuidance(screen, "en")]));
    // No card data on it at all.
    expect(lines.some((line) => line.includes("CARD"))).toBe(false);
  });

  test("two 冲正失败 slips of one record differ by their time and attempts", () => {
    const later = renderSlip({ ...REVERSAL_FAILED, atMs: AT_MS + 60_000, attempts: 6 });
    expect(later).toContain("日期 DATE    2025-01-02 03:05:05");
    expect(later).toContain("尝试 TRIES   6");
    expect(later).not.toEqual(renderSlip(REVERSAL_FAILED));
  });

  test("a 冲正失败 slip while sales are paused says so", () => {
    const lines = renderSlip({ ...REVERSAL_FAILED, salesBlocked: true });
    expect(lines).toContain("冲正成功前暂停消费。");
    expect(lines).toContain("New sales wait until the cancellation goes through.");
    expect(renderSlip(REVERSAL_FAILED)).not.toContain("冲正成功前暂停消费。");
  });

  test("a reversed slip: title, time, the record, and that the customer was not charged, in both languages", () => {
    const lines = renderSlip(REVERSED);
    expect(lines[0]).toContain("冲正成功");
    expect(lines[0]).toContain("REVERSED");
    expect(lines).toContain("日期 DATE    2025-01-02 03:04:05");
    expect(lines).toContain("凭证号 STAN  000002");
    expect(lines).toContain("金额 AMOUNT  RMB 12.34");
    expect(lines).toContain("尝试 TRIES   1");
    // Printed only for a record that had its 冲正失败 slip: that slip no longer applies.
    expect(lines).toEqual(
      expect.arrayContaining(["消费 ¥12.34 (凭证号 000002) 已由银行撤销, 持卡人未被扣款。", "之前的冲正失败凭条作废。"]),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        "Sale ¥12.34 (STAN 000002) was cancelled by the bank: the customer was not charged.",
        "The earlier REVERSAL FAILED slip no longer applies.",
      ]),
    );
  });

  test("a balanced settlement slip: batch, STAN, totals by type in both languages, no open reversals", () => {
    const slip = settlement(true);
    const lines = renderSlip(slip);
    expect(lines[0]).toContain("SETTLEMENT");
    expect(lines).toContain("批次号 BATCH 000001");
    expect(lines).toContain("凭证号 STAN  000009");
    expect(lines).toEqual(
      expect.arrayContaining([
        "对账平",
        "消费 3 笔 ¥45.00",
        "撤销 1 笔 ¥10.00",
        "退货 2 笔 ¥2.50",
        "Totals agree",
        "Sales 3 ¥45.00",
        "Voids 1 ¥10.00",
        "Refunds 2 ¥2.50",
      ]),
    );
    expect(lines).toEqual(expect.arrayContaining([...settlementLines(slip as Extract<Slip, { kind: "settlement" }>, "en")]));
    expect(lines).not.toContain("未完成冲正 OPEN REVERSALS");
    expect(lines).not.toContain("Totals differed; batch uploaded");
  });

  test("an unbalanced settlement slip lists every open reversal with its state", () => {
    const open = [
      { stan: "000002", op: "sale", amount: 1234, state: "failed" },
      { stan: "000004", op: "refund", amount: 99, state: "failed" },
      { stan: "000007", op: "void", amount: 500, state: "reversalDue" },
    ] as const;
    const lines = renderSlip(settlement(false, open));
    expect(lines).toEqual(expect.arrayContaining(["对账不平, 已批上送", "Totals differed; batch uploaded"]));
    expect(lines).toEqual(expect.arrayContaining(["有 3 笔冲正失败, 请联系收单行", "3 failed cancellation(s): call the acquirer"]));
    const listed = lines.slice(lines.indexOf("未完成冲正 OPEN REVERSALS") + 1);
    expect(listed).toEqual([
      "000002 消费 SALE RMB 12.34 冲正失败 FAILED",
      "000004 退货 REFUND RMB 0.99 冲正失败 FAILED",
      "000007 消费撤销 VOID RMB 5.00 待冲正 DUE",
    ]);
  });

  test("slips are plain data in, lines out: the same slip renders the same lines", () => {
    for (const slip of ALL) expect(renderSlip(slip)).toEqual(renderSlip(slip));
  });
});
