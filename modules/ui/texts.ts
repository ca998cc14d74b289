/**
 * Every text the terminal shows, in 中文 and English, as frozen tables. The
 * English title is also what the scenario runner reports as the `screen` event.
 * Placeholders `{name}` are filled by `fill`; nothing else is interpolated.
 */
export type Language = "zh" | "en";

export interface TextPair {
  readonly zh: string;
  readonly en: string;
}

function pair(zh: string, en: string): TextPair {
  return Object.freeze({ zh, en });
}

export const TEXTS = Object.freeze({
  idle: pair("欢迎使用", "WELCOME"),
  idleHint: pair("请输入金额或按功能键", "Enter an amount or press a function key"),
  amount: pair("请输入金额", "ENTER AMOUNT"),
  presentCard: pair("请刷卡/插卡/挥卡", "PRESENT CARD"),
  amountLine: pair("金额: ¥{amount}", "Amount: ¥{amount}"),
  pin: pair("请输入密码", "ENTER PIN"),
  pinHint: pair("无密码请按确认键", "No PIN: press ENTER"),
  processing: pair("处理中, 请稍候", "PROCESSING"),
  remaining: pair("剩余 {seconds} 秒", "{seconds} s left"),
  connecting: pair("正在连接银行", "CONNECTING"),
  approved: pair("交易成功", "APPROVED"),
  declined: pair("交易失败", "DECLINED"),
  declinedCode: pair("应答码 {code}: {reason}", "Response {code}: {reason}"),
  timeout: pair("交易超时", "TIMED OUT"),
  timeoutHint: pair("银行无应答, 请稍后重试", "No answer from the bank; try again later"),
  refused: pair("无法连接银行, 交易未发送", "NOT SENT"),
  refusedHint: pair("交易未发出, 未扣款, 请稍后重试", "Nothing was sent, nothing was charged. Try again later."),
  failed: pair("交易失败", "FAILED"),
  failedHint: pair("交易未完成, 请稍后重试", "Not completed; try again later"),
  blocked: pair("有未完成冲正, 暂停消费", "SALES PAUSED"),
  blockedHint: pair(
    "未扣款。须先完成冲正, 终端会自动重试; 请检查网络, 如持续失败请致电收单行客服。",
    "Nothing was charged. A cancellation must reach the bank first; the terminal keeps retrying it. Check the network; if it persists, call the acquirer hotline.",
  ),
  journalFull: pair("交易存储已满, 请先结算", "JOURNAL FULL — SETTLE FIRST"),
  journalFullHint: pair(
    "交易未发出, 未扣款。请先结算 (未完成的冲正会先上送), 再做交易。",
    "Nothing was sent, nothing was charged. Settle the batch (pending cancellations go first), then try again.",
  ),
  stanLine: pair("凭证号 {stan}", "STAN {stan}"),
  reversalAttempt: pair("第 {attempt}/{attempts} 次, 凭证号 {stan}", "Attempt {attempt} of {attempts}, STAN {stan}"),
  reversalFailed: pair("冲正失败", "REVERSAL FAILED"),
  reversalFailedWhat: pair(
    "银行未确认撤销{op} ¥{amount} (凭证号 {stan}), {consequence}",
    "The bank did not confirm the cancellation of {op} ¥{amount} (STAN {stan}). {consequence}",
  ),
  /** What an unconfirmed cancellation may have left behind, by operation (the end of reversalFailedWhat). */
  mayHaveChargedSale: pair("持卡人可能已被扣款。", "The customer may have been charged."),
  mayHaveCreditedRefund: pair("卡可能已入账。", "The card may have been credited."),
  mayHaveVoidedSale: pair("撤销可能已生效, 原消费可能已取消。", "The void may have taken effect: the sale may be cancelled."),
  reversalFailedWhatToDo: pair(
    "请保留此凭条; 终端会自动重试, 每笔交易前也会重试; 如仍失败, 请持凭证号致电收单行客服。",
    "Keep this slip; the terminal keeps retrying by itself, and before each transaction; if it persists, call the acquirer hotline with the STAN.",
  ),
  reversalFailedSalesBlocked: pair("冲正成功前暂停消费。", "New sales wait until the cancellation goes through."),
  reversalFailedAcknowledge: pair("请按确认键知悉", "Press ENTER to acknowledge"),
  refundAmount: pair("退货: 请输入金额", "REFUND AMOUNT"),
  originalStanLine: pair("原凭证号 {stan}", "Original STAN {stan}"),
  refundLeftLine: pair("最多可退 ¥{amount}", "At most ¥{amount} to refund"),
  voidStan: pair("消费撤销: 请输入原凭证号", "VOID: ORIGINAL STAN"),
  voidStanHint: pair("输入原交易凭证号后按确认键", "Type the sale's STAN, then ENTER"),
  refundStan: pair("退货: 请输入原凭证号", "REFUND: ORIGINAL STAN"),
  refundStanHint: pair("无原凭证号请直接按确认键", "No original STAN: press ENTER"),
  pendingReversals: pair("未完成冲正", "PENDING REVERSALS"),
  pendingNone: pair("无, 所有冲正均已完成", "None: every reversal went through"),
  pendingLine: pair("{stan} {op} ¥{amount} {state}{reason} 已试{attempts}次", "{stan} {op} ¥{amount} {state}{reason}, {attempts} tries"),
  pendingMore: pair("另有 {count} 笔", "{count} more"),
  pendingHint: pair("按任意键返回", "Any key to go back"),
  pendingStateDue: pair("待冲正", "due"),
  pendingStateFailed: pair("冲正失败", "FAILED"),
  reason98: pair("无应答", "no answer"),
  reasonA0: pair("MAC错", "bad MAC"),
  reason06: pair("批准后失败", "failed after approval"),
  settlement: pair("结算中", "SETTLEMENT"),
  settlementTotals: pair("上送总额", "Sending totals"),
  settlementUpload: pair("批上送 {done}/{total}", "Uploading batch {done}/{total}"),
  settlementDone: pair("结算完成", "SETTLEMENT DONE"),
  settlementUnbalanced: pair("对账不平, 已批上送", "Totals differed; batch uploaded"),
  settlementPendingReversals: pair("有 {count} 笔冲正失败, 请联系收单行", "{count} failed cancellation(s): call the acquirer"),
  opSale: pair("消费", "sale"),
  opVoid: pair("消费撤销", "void"),
  opRefund: pair("退货", "refund"),
  opBalance: pair("余额查询", "balance"),
  opSignOn: pair("签到", "sign-on"),
  opSignOff: pair("签退", "sign-off"),
  opEcho: pair("回响测试", "echo"),
  opSettle: pair("结算", "settlement"),
  balanceLine: pair("余额: ¥{amount}", "Balance: ¥{amount}"),
  idlePending: pair("欢迎使用 · 待冲正 {count} 笔", "WELCOME - {count} REVERSAL(S) PENDING"),
  idlePendingHint: pair("联网后自动冲正; 菜单可查看明细", "They go out automatically once the bank is reachable; the menu lists them"),
  reversing: pair("冲正中", "REVERSING"),
  reversingHint: pair("正在撤销银行交易, 请勿关机", "Cancelling it with the bank; do not switch off"),
  reversed: pair("已冲正", "REVERSED"),
  reversedSale: pair("银行已撤销该笔消费, 持卡人未被扣款", "The bank cancelled the sale: the customer was not charged"),
  reversedRefund: pair("银行已撤销该笔退货, 卡未入账", "The bank cancelled the refund: the card was not credited"),
  reversedVoid: pair("撤销未生效, 原消费仍有效", "The void was cancelled with the bank: the original sale stands"),
  reversedRetry: pair("如需交易请重新办理", "Do it again if the customer still wants it"),
  reversedNotice: pair("冲正成功 凭证号 {stan}", "REVERSED: STAN {stan}"),
  reversedNoticeSale: pair(
    "{op} ¥{amount} (凭证号 {stan}) 已由银行撤销, 持卡人未被扣款。",
    "{op} ¥{amount} (STAN {stan}) was cancelled by the bank: the customer was not charged.",
  ),
  reversedNoticeRefund: pair(
    "{op} ¥{amount} (凭证号 {stan}) 已由银行撤销, 卡未入账。",
    "{op} ¥{amount} (STAN {stan}) was cancelled by the bank: the card was not credited.",
  ),
  reversedNoticeVoid: pair(
    "{op} ¥{amount} (凭证号 {stan}) 已由银行撤销: 撤销未生效, 原消费仍有效。",
    "{op} ¥{amount} (STAN {stan}) was cancelled by the bank: the void did not take effect, the original sale stands.",
  ),
  reversedNoticeSlipVoid: pair("之前的冲正失败凭条作废。", "The earlier REVERSAL FAILED slip no longer applies."),
  acknowledge: pair("请按确认键", "Press ENTER"),
  nextTry: pair("{seconds} 秒后重试", "next try in {seconds} s"),
  reversalPendingTitle: pair("待冲正", "REVERSAL PENDING"),
  reversalPendingWhat: pair(
    "银行无应答, 撤销请求因网络不通未能发出; 网络恢复后终端自动冲正。",
    "No answer from the bank, and the cancellation could not be sent: no network. The terminal sends it by itself once the link is back.",
  ),
  reversalPendingWhatToDo: pair(
    "冲正完成前持卡人可能已被扣款, 请勿交付商品; 请检查网络连接。",
    "Until then the customer may have been charged: do not hand over the goods; check the network connection.",
  ),
  reversalPendingWhatToDoRefund: pair(
    "冲正完成前卡可能已入账, 请勿以其他方式退款; 请检查网络连接。",
    "Until then the card may have been credited: do not refund it another way; check the network connection.",
  ),
  reversalPendingWhatToDoVoid: pair(
    "冲正完成前撤销可能已生效; 冲正后原消费仍有效, 如需撤销请重新办理; 请检查网络连接。",
    "Until then the void may have taken effect; once cancelled, the sale stands: void it again if still needed; check the network connection.",
  ),
  noNetwork: pair("网络不通, 交易未发送", "NO NETWORK — NOT SENT"),
  noNetworkHint: pair(
    "有待冲正交易须先上送, 但无法连接银行; 未扣款。请检查网络连接, 恢复后终端自动冲正。",
    "A cancellation must reach the bank first and the bank cannot be reached; nothing was charged. Check the network: the terminal retries by itself.",
  ),
  opNetworkCheck: pair("网络检测", "network check"),
  networkCheckOk: pair("网络检测: 正常", "NETWORK CHECK: OK"),
  networkCheckFailed: pair("网络检测: 失败", "NETWORK CHECK: FAILED"),
  linkUp: pair("网络已连接", "Link up"),
  linkUpRssi: pair("Wi-Fi 已连接, 信号 {rssi} dBm", "Wi-Fi up, signal {rssi} dBm"),
  linkDown: pair("网络未连接, 请检查 Wi-Fi/网线", "Link down: check Wi-Fi or the cable"),
  networkTimings: pair("连接+握手 {connect} ms, 应答 {answer} ms", "Connect+TLS {connect} ms, answer {answer} ms"),
  networkAnswerBadMac: pair("主机应答MAC错, 请重新签到", "Host answer: bad MAC, sign on again"),
  networkAnswerRefused: pair("主机应答 {code}, 请联系收单机构", "Host answered {code}: call the acquirer"),
  networkFailure: pair("{time} 连接失败: {failure}", "{time} link failure: {failure}"),
  readerMagstripe: pair("磁条", "Magstripe"),
  readerContactless: pair("非接", "Contactless"),
  readerContact: pair("芯片", "Chip"),
  readerLine: pair("{reader}: 最近 {reads} 次读卡失败 {failed} 次", "{reader}: {failed} of the last {reads} reads failed"),
  noticeCleanMagstripe: pair("磁条读卡常失败: 请清洁刷卡槽", "Swipes often fail: clean the card slot"),
  noticeCleanContactless: pair("非接读卡常失败: 请擦拭感应区", "Taps often fail: wipe the contactless reader"),
  noticeCleanContact: pair("芯片读卡常失败: 请清洁插卡槽", "Chip reads often fail: clean the chip slot"),
  cleanedHint: pair("清洁完成后按清除键", "Cleaned? Press CLEAR"),
  noticeReadersCleaned: pair("已记录清洁, 读卡统计重新开始", "Cleaning noted: read counts start again"),
  noticeParametersApplied: pair("参数已更新", "Parameters updated"),
  noticeParametersRefused: pair("参数有误已拒绝, 沿用原参数", "Parameters refused: the current ones stay"),
  noticeParametersCurrent: pair("参数已是最新", "Parameters are up to date"),
  noticeParametersFailed: pair("参数下载失败, 请稍后再试", "Parameter download failed: try again later"),
  cancelled: pair("交易取消", "CANCELLED"),
  cancelledHint: pair("交易未发出, 未扣款", "Nothing was sent, nothing was charged"),
  signedOn: pair("签到成功", "SIGNED ON"),
  signedOff: pair("签退成功", "SIGNED OFF"),
  echoOk: pair("通讯正常", "LINK OK"),
  balanceResult: pair("余额查询成功", "BALANCE"),
  notSignedOn: pair("请先签到", "SIGN ON FIRST"),
  notSignedOnHint: pair("交易未发出; 请按签到键", "Nothing was sent; press SIGN ON"),
  amountLimit: pair("超过单笔限额", "OVER THE LIMIT"),
  amountLimitHint: pair(
    "金额超过终端单笔限额, 交易未发出",
    "The amount is above this terminal's single-transaction limit; nothing was sent",
  ),
  batchLimit: pair("批次已满, 请先结算", "BATCH FULL — SETTLE FIRST"),
  batchLimitHint: pair(
    "本批次笔数或金额已达上限, 交易未发出; 请先结算",
    "The batch reached its count or amount limit; nothing was sent. Settle first.",
  ),
  pinAmountLine: pair("{op} ¥{amount}", "{op} ¥{amount}"),
  voidConfirm: pair("消费撤销: 请确认", "VOID: CONFIRM"),
  voidConfirmLine: pair("原交易 凭证号 {stan} ¥{amount}", "Original STAN {stan} ¥{amount}"),
  voidConfirmCard: pair("卡号 {pan}", "Card {pan}"),
  voidConfirmHint: pair("确认键撤销, 取消键返回", "ENTER to void, CANCEL to go back"),
  settlementBalanced: pair("对账平", "Totals agree"),
  settlementSales: pair("消费 {count} 笔 ¥{amount}", "Sales {count} ¥{amount}"),
  settlementVoids: pair("撤销 {count} 笔 ¥{amount}", "Voids {count} ¥{amount}"),
  settlementRefunds: pair("退货 {count} 笔 ¥{amount}", "Refunds {count} ¥{amount}"),
  noticeAmountZero: pair("金额须大于 0", "Enter an amount above 0"),
  noticeAmountTooLong: pair("金额最多 {digits} 位", "At most {digits} digits"),
  noticeBusy: pair("请先完成、取消或确认当前界面", "Finish, cancel or acknowledge the screen first"),
  noticeNoCardNeeded: pair("现在无需刷卡, 请先输入金额", "No card needed now: enter an amount first"),
  noticeCardUnreadable: pair("读卡失败, 请重新刷卡/插卡/挥卡", "Card not read: present it again"),
  noticeNoSlip: pair("无可重打印的凭条", "No slip to reprint"),
  noticeVoidNotFound: pair("本批次无此凭证号的可撤销消费", "No sale with this STAN to void in the open batch"),
  noticeVoidAlreadyVoided: pair("原交易已撤销, 不能再次撤销", "This sale is voided already: it cannot be voided again"),
  noticeVoidRefunded: pair(
    "原交易已有退货, 不能撤销; 余额可做退货",
    "This sale has a refund: it cannot be voided. A refund can give back what is left",
  ),
  noticeRefundVoided: pair(
    "原交易已撤销, 款项已全额退回, 无需退货",
    "This sale is voided: the whole amount went back already. No refund needed",
  ),
  noticeRefundOverSale: pair("退货总额不能超过原交易金额, 请改小金额", "Refunds cannot come to more than the sale: lower the amount"),
  noticeRefundedInFull: pair("原交易已全额退货", "This sale is refunded in full already"),
  noticeStanEmpty: pair("请输入凭证号", "Type a STAN"),
  noticeUpdateWaiting: pair("有未完成的冲正: 软件更新等冲正完成后进行", "A reversal is still owed: the software update waits for it"),
  noticeUpdateRejected: pair("软件更新未通过校验, 当前版本继续使用", "Software update refused: this version stays"),
  noticeUpdateRestarting: pair("软件更新: 正在重启", "Software update: restarting"),
  noticeUpdateInstalled: pair("软件已更新", "Software updated"),
  noticeUpdateRolledBack: pair(
    "新版本启动失败, 已恢复原版本, 请联系收单机构",
    "The new version failed to start: the previous one runs. Call the acquirer",
  ),
});

export type TextId = keyof typeof TEXTS;

/** Reasons for the common response codes; others show the code alone. */
export const RESPONSE_REASONS: Readonly<Record<string, TextPair>> = Object.freeze({
  "05": pair("不予承兑", "do not honour"),
  "12": pair("无效交易", "invalid transaction"),
  "13": pair("无效金额", "invalid amount"),
  "14": pair("无效卡号", "invalid card"),
  "25": pair("找不到原始交易", "original not found"),
  "51": pair("余额不足", "insufficient funds"),
  "54": pair("卡已过期", "expired card"),
  "55": pair("密码错误", "incorrect PIN"),
  "64": pair("原始金额不符", "original amount differs"),
  "94": pair("重复交易", "duplicate transaction"),
  "96": pair("系统故障", "system malfunction"),
  A0: pair("MAC 校验错", "MAC error"),
});

/** The text in `language` with its `{name}` placeholders filled; a missing value is a bug. */
export function fill(id: TextId, language: Language, values: Readonly<Record<string, string>> = {}): string {
  // A fresh RegExp per call: a module-level /g one is frozen by preload and replace() cannot reset its lastIndex.
  return TEXTS[id][language].replace(/\{([a-z]+)\}/g, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new RangeError(`text ${id} needs a value for {${name}}`);
    return value;
  });
}

/** Minor units as yuan with two decimals: 1234 → "12.34", -150 → "-1.50" (a balance in debit). */
export function formatAmount(minorUnits: number): string {
  const magnitude = Math.abs(minorUnits);
  const whole = Math.floor(magnitude / 100);
  const cents = magnitude % 100;
  return `${minorUnits < 0 ? "-" : ""}${whole}.${cents < 10 ? "0" : ""}${cents}`;
}
