/**
 * Presenting a test card (modules/card/test-cards.ts) to the simulator
 * terminal: a swipe goes through the emulated magnetic head, the strobe
 * capture and the track decoder; an inserted chip through the emulated
 * contact reader IC and the EMV kernel; a tap through the emulated PN532 and
 * its driver. What comes out is the engine's PresentedCard (modules/txn/ports.ts).
 */
import { toAscii, toHex } from "../../modules/base/hex";
import { CardError } from "../../modules/card/apdu";
import { ContactReader } from "../../modules/card/contact";
import type { TerminalData } from "../../modules/card/emv";
import { MsrError } from "../../modules/card/msr";
import { MsrCapture } from "../../modules/card/msr-capture";
import { Pn532 } from "../../modules/card/pn532";
import { CardReader, type CardRead } from "../../modules/card/reader";
import { findTestCard, TEST_CARDS, track2Text, type TestCard } from "../../modules/card/test-cards";
import { ContactReaderEmulator } from "../../modules/emulators/contact-reader";
import { EmvCardEmulator } from "../../modules/emulators/emv-card";
import { MsrReaderEmulator } from "../../modules/emulators/msr-reader";
import { Pn532Emulator } from "../../modules/emulators/pn532";
import type { PresentedCard } from "../../modules/txn/ports";

export type Presentation = "swipe" | "insert" | "tap";

/** The card cannot be presented that way, or the read failed (shown to the operator, nothing is sent). */
export class CardPresentError extends Error {
  override readonly name = "CardPresentError";
  constructor(
    readonly card: string,
    detail: string,
  ) {
    super(`${card}: ${detail}`);
  }
}

const MSR_PINS = Object.freeze({ cls: 1, strobe: 2, data: 3 });

/** The presentations a card allows: every card has a stripe; chips insert, contactless cards tap. */
export function presentations(card: TestCard): Presentation[] {
  if (card.entry === "chip") return ["insert", "swipe"];
  if (card.entry === "contactless") return ["tap", "swipe"];
  return ["swipe"];
}

export function cardCatalogue(): { name: string; entry: string; presentations: Presentation[] }[] {
  return TEST_CARDS.map((card) => ({ name: card.name, entry: card.entry, presentations: presentations(card) }));
}

export interface ReadOptions {
  readonly amount: number;
  /** 9C: 00 purchase, 31 balance, 20 refund. */
  readonly transactionType: number;
  readonly unpredictableNumber: Uint8Array;
  readonly sequenceCounter: number;
  readonly date: Date;
}

/** Reads `name` through the reader drivers on emulated hardware. */
export function presentCard(name: string, how: Presentation, options: ReadOptions): PresentedCard {
  const card = findTestCard(name);
  if (card === undefined) throw new CardPresentError(name, `unknown card; cards: ${TEST_CARDS.map((c) => c.name).join(", ")}`);
  if (!presentations(card).includes(how)) throw new CardPresentError(name, `cannot be presented by ${how}`);
  try {
    return how === "swipe" ? swipe(card) : chip(card, how, options);
  } catch (error) {
    if (error instanceof CardError || error instanceof MsrError) throw new CardPresentError(name, `card read failed: ${error.message}`);
    throw error;
  }
}

function swipe(card: TestCard): PresentedCard {
  const head = new MsrReaderEmulator(MSR_PINS);
  const reader = new CardReader({});
  let read: CardRead | undefined;
  new MsrCapture({ open: head.open, pins: MSR_PINS, onSwipe: (bits, count) => (read = reader.readSwipe(bits, count)) });
  head.swipe(track2Text(card));
  if (read === undefined) throw new CardPresentError(card.name, "the swipe produced no track");
  const track2 = toAscii(read.track2);
  read.wipe();
  return { entryMode: read.entryMode, pan: read.pan, expiry: read.expiry, track2, domestic: read.pan.startsWith("62") };
}

function chip(card: TestCard, how: "insert" | "tap", options: ReadOptions): PresentedCard {
  const emulated = new EmvCardEmulator(card);
  let reader: CardReader;
  if (how === "insert") {
    const ic = new ContactReaderEmulator();
    ic.insert(emulated);
    reader = new CardReader({ contact: new ContactReader({ link: ic }) });
  } else {
    const ic = new Pn532Emulator();
    ic.place(emulated);
    const driver = new Pn532({ spi: ic });
    driver.begin();
    reader = new CardReader({ contactless: driver });
  }
  const d = options.date;
  const terminal: TerminalData = {
    amountMinor: options.amount,
    currency: "156",
    country: "156",
    date: `${String(d.getFullYear() % 100).padStart(2, "0")}${String(d.getMonth() + 1).padStart(2, "0")}${String(d.getDate()).padStart(2, "0")}`,
    transactionType: options.transactionType,
    unpredictableNumber: options.unpredictableNumber,
    ifdSerial: "XSPOSSIM",
    sequenceCounter: options.sequenceCounter,
  };
  const read = reader.readCard(how === "insert" ? "chip" : "contactless", terminal);
  read.wipe(); // track 2 equivalent is not needed: F55 and F2/F14/F23 carry a chip transaction
  return {
    entryMode: read.entryMode,
    pan: read.pan,
    expiry: read.expiry,
    cardSequence: read.panSequence,
    f55: toHex(read.f55),
    domestic: read.pan.startsWith("62"),
    completeChip: (f39) => {
      const done = reader.completeChip({ approved: f39 === "00", responseCode: f39 });
      return { accepted: done.approved, f55: toHex(done.f55) };
    },
  };
}
