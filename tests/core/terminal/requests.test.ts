/**
 * Requests the engine refuses before a STAN or a byte is spent (TxnRequestError), through the terminal's
 * scripted operations: amounts outside 1 fen to 999 999 999.99 yuan (the F4 field's range), a card
 * operation without a card, a void of anything but an approved sale not voided yet; and the STAN's wrap.
 * The scenario files cannot express the amounts (their parser bounds them): this is the only test of the
 * engine's own amount check. In Node and in XS.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { resolveParameters } from "../../../modules/terminal/parameters";
import { STATE_SECTORS, type Terminal, type TerminalEvent } from "../../../modules/terminal/terminal";
import { TxnRequestError } from "../../../modules/txn/engine";
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

describe("a void names an approved sale of the open batch, once", () => {
  test("each sale is voided by its own STAN and amount; a second void of it, a refund's STAN or an unknown STAN is refused", () => {
    const { terminal, cards, events, drain } = signedOnTerminal();
    const present = (op: "sale" | "refund", amount: number) =>
      terminal.run(op, { amount, card: cards.present("unionpay-msr", op, amount), pin: "1234" });
    present("sale", 100);
    drain();
    present("sale", 200);
    drain();
    present("refund", 50);
    drain();
    terminal.run("void", { stan: "000003" });
    drain();
    const refused = (stan: string) => {
      const error = refusal(() => terminal.run("void", { stan }));
      expect(error).toBeInstanceOf(TxnRequestError);
      expect(error).toMatchObject({
        name: "TxnRequestError",
        field: "stan",
        message: `stan: no approved sale ${stan} to void in the open batch`,
      });
    };
    refused("000003");
    refused("000004");
    refused("000099");
    terminal.run("void", { stan: "000002" });
    drain();
    refused("000002");
    expect(
      events
        .filter((e) => e.ev === "result")
        .filter((e) => e.op !== "signOn")
        .map((e) => `${e.op} ${e.stan} ${e.outcome} ${e.amount}`),
    ).toEqual([
      "sale 000002 approved 100",
      "sale 000003 approved 200",
      "refund 000004 approved 50",
      "void 000005 approved 200",
      "void 000006 approved 100",
    ]);
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
