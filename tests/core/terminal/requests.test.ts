/**
 * Requests the engine refuses before a STAN or a byte is spent (TxnRequestError), through the terminal's
 * scripted operations: amounts outside 1 fen to 999 999 999.99 yuan (the F4 field's range), and a card
 * operation without a card. The scenario files cannot express these (their parser bounds the amount), so
 * this is the only test of the engine's own amount check. In Node and in XS.
 */
import { resolveParameters } from "../../../modules/terminal/parameters";
import type { Terminal, TerminalEvent } from "../../../modules/terminal/terminal";
import { TxnRequestError } from "../../../modules/txn/engine";
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
