/**
 * The printed slips, in 中文 then English on one roll: what each says is
 * decided here, for every host (the device's printer, the simulator's page).
 * The PAN is masked before it reaches a slip; no track data, PIN or key ever
 * does. A reversal slip carries the time and the attempts made, so two slips
 * of one record are never mistaken for one another.
 */
import type { BatchTotals, OpenReversal } from "../txn/events";
import type { FinancialOp } from "../txn/ports";
import { reversalFailedGuidance, reversedNoticeText, settlementLines } from "./terminal-ui";
import { formatAmount } from "./texts";

interface SlipHeader {
  readonly terminalId: string;
  readonly merchantId: string;
  /** Wall-clock milliseconds since 1970 (UTC). */
  readonly atMs: number;
}

export type Slip =
  | (SlipHeader & {
      readonly kind: FinancialOp;
      readonly stan: string;
      readonly batch: string;
      readonly amount: number;
      /** First 6 and last 4 digits. */
      readonly panMasked: string;
      readonly authCode: string;
      readonly rrn: string;
      readonly originalStan?: string;
    })
  | (SlipHeader & {
      readonly kind: "reversalFailed";
      readonly op: FinancialOp;
      readonly stan: string;
      readonly amount: number;
      readonly attempts: number;
      readonly salesBlocked: boolean;
      /** Whom to call (the hotlineText parameter); absent: no line. */
      readonly hotline?: string;
    })
  | (SlipHeader & {
      readonly kind: "reversed";
      readonly op: FinancialOp;
      readonly stan: string;
      readonly amount: number;
      /** The attempt that went through, counted in its episode. */
      readonly attempts: number;
    })
  | (SlipHeader & {
      readonly kind: "settlement";
      readonly stan: string;
      readonly batch: string;
      readonly balanced: boolean;
      readonly totals: BatchTotals;
      readonly openReversals: readonly OpenReversal[];
    });

const RULE = "--------------------------------";
const OP_NAMES: Readonly<Record<FinancialOp, string>> = Object.freeze({ sale: "消费 SALE", void: "消费撤销 VOID", refund: "退货 REFUND" });

function time(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 19).replace("T", " ");
}

function header(title: string, slip: SlipHeader): string[] {
  return [title, RULE, `商户号 MID   ${slip.merchantId}`, `终端号 TID   ${slip.terminalId}`, `日期 DATE    ${time(slip.atMs)}`];
}

/** The slip as printed lines. */
export function renderSlip(slip: Slip): string[] {
  switch (slip.kind) {
    case "sale":
    case "void":
    case "refund": {
      const lines = [
        ...header("      POS 签购单 SALES SLIP", slip),
        `卡号 CARD    ${slip.panMasked}`,
        `交易类型 TYPE ${OP_NAMES[slip.kind]}`,
        `批次号 BATCH ${slip.batch}`,
        `凭证号 STAN  ${slip.stan}`,
      ];
      if (slip.originalStan !== undefined) lines.push(`原凭证号 ORIG ${slip.originalStan}`);
      lines.push(
        `授权码 AUTH  ${slip.authCode}`,
        `参考号 RRN   ${slip.rrn}`,
        RULE,
        `金额 AMOUNT  RMB ${formatAmount(slip.amount)}`,
        RULE,
        "持卡人签名 CARDHOLDER SIGNATURE",
        "",
        "本人确认以上交易 I accept this transaction",
      );
      return lines;
    }
    case "reversalFailed":
      return [
        ...header("   *** 冲正失败 REVERSAL FAILED ***", slip),
        `交易类型 TYPE ${OP_NAMES[slip.op]}`,
        `凭证号 STAN  ${slip.stan}`,
        `金额 AMOUNT  RMB ${formatAmount(slip.amount)}`,
        `尝试 TRIES   ${slip.attempts}`,
        RULE,
        ...reversalFailedGuidance(slip, "zh"),
        "",
        ...reversalFailedGuidance(slip, "en"),
        ...(slip.hotline !== undefined ? [RULE, `客服热线 HOTLINE ${slip.hotline}`] : []),
      ];
    case "reversed":
      return [
        ...header("   *** 冲正成功 REVERSED ***", slip),
        `交易类型 TYPE ${OP_NAMES[slip.op]}`,
        `凭证号 STAN  ${slip.stan}`,
        `金额 AMOUNT  RMB ${formatAmount(slip.amount)}`,
        `尝试 TRIES   ${slip.attempts}`,
        RULE,
        // Printed only for a record that had its 冲正失败 slip (modules/terminal).
        ...reversedNoticeText({ ...slip, wasFailed: true }, "zh"),
        "",
        ...reversedNoticeText({ ...slip, wasFailed: true }, "en"),
      ];
    case "settlement": {
      const lines = [...header("    结算单 SETTLEMENT", slip), `批次号 BATCH ${slip.batch}`, `凭证号 STAN  ${slip.stan}`, RULE];
      lines.push(...settlementLines(slip, "zh"), "", ...settlementLines(slip, "en"));
      if (slip.openReversals.length > 0) {
        lines.push(RULE, "未完成冲正 OPEN REVERSALS");
        for (const r of slip.openReversals)
          lines.push(
            `${r.stan} ${OP_NAMES[r.op]} RMB ${formatAmount(r.amount)} ${r.state === "failed" ? "冲正失败 FAILED" : "待冲正 DUE"}`,
          );
      }
      return lines;
    }
  }
}
