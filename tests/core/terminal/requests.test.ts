/**
 * Requests the engine refuses before a STAN or a byte is spent (TxnRequestError), through the terminal's
 * scripted operations: amounts outside 1 fen to 999 999 999.99 yuan (the F4 field's range), a card
 * operation without a card, a void of anything but an approved sale neither voided nor refunded yet, a refund
 * of a voided sale or past its amount; and the STAN's wrap.
 * The scenario files cannot express the amounts (their parser bounds them): this is the only test of the
 * engine's own amount check. In Node and in XS.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { resolveParameters } from "../../../modules/terminal/parameters";
import { STATE_SECTORS, type Terminal, type TerminalEvent } from "../../../modules/terminal/terminal";
import { TxnRequestError } from "../../../modules/txn/engine";
import type { Key } from "../../../modules/ui/terminal-ui";
import { FlashRegion } from "../../../modules/txn/flash-region";
import { FlashStateStore } from "../../../modules/txn/flash-state";
import { CardDesk } from "../../../tools/scenario/card-desk";
import { terminalOnNetwork } from "./network-terminal";

const AMOUNT_MAX = 99_999_999_999;

function signedOnTerminal(): { terminal: Terminal; cards: CardDesk; events: TerminalEvent[]; drain: () => void } {
  const events: TerminalEvent[] = [];
  const { terminal, clock, random, wallClock } = terminalOnNetwork({
    parameters: resolveParameters({ amountMaxMinor: AMOUNT_MAX }),
    onEvent: (event) => events.push(event),
  });
  const drain = () => clock.advance(30_000);
  terminal.boot();
  terminal.run("signOn");
  drain();
  const cards = new CardDesk({ ifdSerial: "XSPOS001", random, nowMs: () => wallClock.nowMs() });
  return { terminal, cards, events, drain };
}

function refusal(action: () => void): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("requests refused before anything is spent", () => {
  test.each([0, -1, 1.5, AMOUNT_MAX + 1, Number.NaN])("a sale or refund of %d minor units is refused: no STAN, nothing sent", (amount) => {
    const { terminal, cards, events, drain } = signedOnTerminal();
    const sent = events.filter((e) => e.ev === "send").length;
    for (const op of ["sale", "refund"] as const) {
      const error = refusal(() => terminal.run(op, { amount, card: cards.present("unionpay-msr", op, 100), pin: "1234" }));
      expect(error).toBeInstanceOf(TxnRequestError);
      expect(error).toMatchObject({
        name: "TxnRequestError",
        field: "amount",
        message: `amount: must be an integer of minor units from 1 to ${AMOUNT_MAX}, got ${amount}`,
      });
    }
    drain();
    expect(events.filter((e) => e.ev === "send").length).toBe(sent);
    terminal.run("sale", { amount: 1, card: cards.present("unionpay-msr", "sale", 1), pin: "1234" });
    drain();
    // The next sale takes the STAN after the sign-on's: the refusals spent none.
    expect(events.filter((e) => e.ev === "send").map((e) => `${e.mti} ${e.stan}`)).toEqual(["0800 000001", "0200 000002"]);
  });

  test("1 fen and the largest amount F4 carries are taken", () => {
    const { terminal, cards, events, drain } = signedOnTerminal();
    terminal.run("sale", { amount: 1, card: cards.present("unionpay-msr", "sale", 1), pin: "1234" });
    drain();
    terminal.run("refund", { amount: AMOUNT_MAX, card: cards.present("unionpay-msr", "refund", AMOUNT_MAX), pin: "1234" });
    drain();
    expect(events.filter((e) => e.ev === "result").map((e) => `${e.op} ${e.outcome} ${e.amount}`)).toEqual([
      "signOn approved undefined",
      "sale approved 1",
      `refund approved ${AMOUNT_MAX}`,
    ]);
  });

  test("a card operation without a card is refused", () => {
    const { terminal } = signedOnTerminal();
    for (const op of ["sale", "refund", "balance"] as const)
      expect(() => terminal.run(op, { amount: 100 })).toThrow(new TxnRequestError("card", `${op} needs a card`));
  });
});

/** A signed-on terminal whose card operations run to their end: `present` runs one and drains. */
function tradingTerminal() {
  const { terminal, cards, events, drain } = signedOnTerminal();
  const present = (op: "sale" | "refund", amount: number, stan?: string) => {
    terminal.run(op, { amount, card: cards.present("unionpay-msr", op, amount), pin: "1234", stan });
    drain();
  };
  const voidSale = (stan: string) => {
    terminal.run("void", { stan });
    drain();
  };
  const results = () =>
    events
      .filter((e) => e.ev === "result")
      .filter((e) => e.op !== "signOn")
      .map((e) => `${e.op} ${e.stan} ${e.outcome} ${e.amount}`);
  const sentCount = () => events.filter((e) => e.ev === "send").length;
  return { terminal, cards, drain, present, voidSale, results, sentCount };
}

/** Sales 000002 (300) and 000003 (400); refund 000004 of 100 naming 000002; 000003 voided by 000005. */
function refundedAndVoided(): ReturnType<typeof tradingTerminal> {
  const trading = tradingTerminal();
  trading.present("sale", 300);
  trading.present("sale", 400);
  trading.present("refund", 100, "000002");
  trading.voidSale("000003");
  return trading;
}

/** Types `stan` (leading zeros left out, as a merchant does) and ENTER, then `amount` and ENTER when given. */
function keyIn(terminal: Terminal, stan: string, amount?: string): void {
  for (const digit of stan.replace(/^0+/, "")) terminal.press(digit as Key);
  terminal.press("enter");
  if (amount === undefined) return;
  for (const digit of amount) terminal.press(digit as Key);
  terminal.press("enter");
}

describe("a void names an approved sale of the open batch, once, and none a refund has paid back", () => {
  const refused = (terminal: Terminal, stan: string, why: string) => {
    const error = refusal(() => terminal.run("void", { stan }));
    expect(error).toBeInstanceOf(TxnRequestError);
    expect(error).toMatchObject({ name: "TxnRequestError", field: "stan", message: `stan: ${why} (STAN ${stan})` });
  };

  test("each sale is voided by its own STAN and amount; a second void of it, a refund's STAN or an unknown STAN is refused", () => {
    const { terminal, present, voidSale, results } = tradingTerminal();
    present("sale", 100);
    present("sale", 200);
    present("refund", 50);
    voidSale("000003");
    const notFound = "no approved sale with this STAN in the open batch";
    refused(terminal, "000003", "the sale is voided already");
    refused(terminal, "000004", notFound);
    refused(terminal, "000099", notFound);
    voidSale("000002");
    refused(terminal, "000002", "the sale is voided already");
    expect(results()).toEqual([
      "sale 000002 approved 100",
      "sale 000003 approved 200",
      "refund 000004 approved 50",
      "void 000005 approved 200",
      "void 000006 approved 100",
    ]);
  });

  test("a sale partly refunded in the open batch is not voided (the customer would get the refund and the whole sale back); a refund naming another sale leaves it voidable", () => {
    const { terminal, drain, present, voidSale, results, sentCount } = tradingTerminal();
    present("sale", 300);
    present("sale", 400);
    present("refund", 100, "000002");
    const sent = sentCount();
    refused(terminal, "000002", "the sale has a refund in the open batch: a void would pay the customer twice");
    drain();
    expect(sentCount()).toBe(sent);
    voidSale("000003");
    expect(results()).toEqual([
      "sale 000002 approved 300",
      "sale 000003 approved 400",
      "refund 000004 approved 100",
      "void 000005 approved 400",
    ]);
  });

  test.each([
    ["000002", "noticeVoidRefunded"],
    ["000003", "noticeVoidAlreadyVoided"],
    ["000004", "noticeVoidNotFound"],
  ] as const)("on the keypad, STAN %s is refused with %s over the STAN screen, nothing sent", (stan, notice) => {
    const { terminal, drain, sentCount } = refundedAndVoided();
    const sent = sentCount();
    terminal.menu("void");
    keyIn(terminal, stan);
    expect(terminal.ui.notice).toBe(notice);
    expect(terminal.screen).toMatchObject({ kind: "stanEntry", purpose: "void" });
    drain();
    expect(sentCount()).toBe(sent);
  });
});

describe("refunds naming a sale of the open batch come to no more than it, and none follows its void", () => {
  test("refunds up to the sale's amount run; one more fen is refused, and any refund of a voided sale; a refund naming no sale of the batch is the host's to judge", () => {
    const { terminal, cards, present, results } = refundedAndVoided();
    const refused = (amount: number, stan: string, why: string) => {
      const error = refusal(() =>
        terminal.run("refund", { amount, card: cards.present("unionpay-msr", "refund", amount), pin: "1234", stan }),
      );
      expect(error).toBeInstanceOf(TxnRequestError);
      expect(error).toMatchObject({ field: "originalStan", message: `originalStan: ${why} (STAN ${stan}, refund ${amount})` });
    };
    const over = "the refunds of the open batch naming the sale would come to more than the sale";
    refused(201, "000002", over);
    present("refund", 200, "000002");
    refused(1, "000002", over);
    refused(1, "000003", "the sale is voided already: the void gave its whole amount back");
    present("refund", 5000, "000099");
    present("refund", 5000);
    expect(results()).toEqual([
      "sale 000002 approved 300",
      "sale 000003 approved 400",
      "refund 000004 approved 100",
      "void 000005 approved 400",
      "refund 000006 approved 200",
      "refund 000007 approved 5000",
      "refund 000008 approved 5000",
    ]);
  });

  test("on the keypad: the sale's STAN brings what it has left to the amount screen, which refuses more; a voided or wholly refunded sale is a notice over the STAN; nothing sent", () => {
    const { terminal, drain, present, sentCount } = refundedAndVoided();
    const sent = sentCount();
    terminal.menu("refund");
    keyIn(terminal, "000002", "201");
    expect(terminal.ui.notice).toBe("noticeRefundOverSale");
    expect(terminal.screen).toEqual({ kind: "amount", op: "refund", originalStan: "000002", leftAmount: 200, digits: "201" });
    terminal.press("cancel");
    terminal.press("enter");
    terminal.menu("refund");
    keyIn(terminal, "000003");
    expect(terminal.ui.notice).toBe("noticeRefundVoided");
    expect(terminal.screen).toEqual({ kind: "stanEntry", purpose: "refund", digits: "3" });
    terminal.press("cancel");
    terminal.press("enter");
    drain();
    expect(sentCount()).toBe(sent);
    present("refund", 200, "000002");
    terminal.menu("refund");
    keyIn(terminal, "000002");
    expect(terminal.ui.notice).toBe("noticeRefundedInFull");
    // A sale this batch does not have (an earlier batch's): no limit here, the acquirer judges it.
    terminal.press("cancel");
    terminal.press("enter");
    terminal.menu("refund");
    keyIn(terminal, "000099");
    expect(terminal.screen).toEqual({ kind: "amount", op: "refund", originalStan: "000099", digits: "" });
  });
});

test("STAN 999999 is followed by 000001 (the counter wraps, kept on flash)", () => {
  const flash = new NorFlash({ sectorCount: 8 + STATE_SECTORS, blockSize: 4096, seed: 3 });
  const state = new FlashStateStore(new FlashRegion(flash, 8, STATE_SECTORS));
  state.load();
  state.save({ stanNext: 999_998, batch: "000001", signedOn: false });
  const events: TerminalEvent[] = [];
  const { terminal, clock, random, wallClock } = terminalOnNetwork({ flash, onEvent: (event) => events.push(event) });
  const cards = new CardDesk({ ifdSerial: "XSPOS001", random, nowMs: () => wallClock.nowMs() });
  terminal.boot();
  terminal.run("signOn");
  clock.advance(30_000);
  for (const amount of [100, 200]) {
    terminal.run("sale", { amount, card: cards.present("unionpay-msr", "sale", amount), pin: "1234" });
    clock.advance(30_000);
  }
  expect(events.filter((e) => e.ev === "send").map((e) => `${e.mti} ${e.stan}`)).toEqual(["0800 999998", "0200 999999", "0200 000001"]);
});

test("the terminal is not idle while its only operation runs, nor while another waits behind it; idle again once both end", () => {
  const { terminal, cards, events, drain } = signedOnTerminal();
  expect(terminal.idle).toBe(true);
  terminal.run("sale", { amount: 100, card: cards.present("unionpay-msr", "sale", 100), pin: "1234" });
  // The sale has started (connecting) and nothing is queued behind it: an operation still runs.
  expect(terminal.idle).toBe(false);
  terminal.run("echo");
  expect(terminal.idle).toBe(false);
  drain();
  expect(terminal.idle).toBe(true);
  expect(events.filter((e) => e.ev === "result").map((e) => `${e.op} ${e.outcome}`)).toEqual([
    "signOn approved",
    "sale approved",
    "echo approved",
  ]);
});
