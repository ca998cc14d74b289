/**
 * The terminal's card readers in a scenario: the real drivers of modules/card
 * (MSR capture and decoder, contact reader IC, PN532, EMV kernel) on emulated
 * reader hardware (modules/emulators), each test card of
 * modules/card/test-cards.ts played by the card emulator. A read becomes the
 * engine's PresentedCard through the device's own glue (modules/terminal/cards.ts);
 * a chip card's second GENERATE AC runs through the kernel when the engine
 * completes it.
 */
import { CardError } from "../../modules/card/apdu";
import { ContactReader } from "../../modules/card/contact";
import { MsrCapture } from "../../modules/card/msr-capture";
import { MsrError } from "../../modules/card/msr";
import { Pn532 } from "../../modules/card/pn532";
import { CardReader, type CardRead } from "../../modules/card/reader";
import { findTestCard, TEST_CARDS, track2Text, type TestCard } from "../../modules/card/test-cards";
import { ContactReaderEmulator } from "../../modules/emulators/contact-reader";
import { EmvCardEmulator } from "../../modules/emulators/emv-card";
import { MsrReaderEmulator } from "../../modules/emulators/msr-reader";
import { Pn532Emulator } from "../../modules/emulators/pn532";
import type { Random } from "../../modules/platform/random";
import { chipCard, EmvTerminalData, swipedCard } from "../../modules/terminal/cards";
import type { PresentedCard } from "../../modules/txn/ports";

const MSR_PINS = Object.freeze({ cls: 25, strobe: 26, data: 27 });

/** The card could not be read (unknown name, a reader or card failure). */
export class CardPresentError extends Error {
  override readonly name = "CardPresentError";
  constructor(
    readonly card: string,
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
  }
}

export interface CardDeskOptions {
  /** 9F1E: the terminal's IFD serial (the journal's identity carries the same). */
  readonly ifdSerial: string;
  /** 9F37 unpredictable numbers. */
  readonly random: Random;
  /** Wall clock, for 9A (YYMMDD). */
  readonly nowMs: () => number;
}

export class CardDesk {
  readonly #msr = new MsrReaderEmulator(MSR_PINS);
  readonly #msrReader = new CardReader({});
  readonly #contactLink = new ContactReaderEmulator();
  readonly #contactReader: CardReader;
  readonly #field = new Pn532Emulator();
  readonly #contactlessReader: CardReader;
  readonly #terminalData: EmvTerminalData;
  #swiped: CardRead | undefined;

  constructor(options: CardDeskOptions) {
    this.#terminalData = new EmvTerminalData(options);
    new MsrCapture({
      open: this.#msr.open,
      pins: MSR_PINS,
      onSwipe: (bits, count) => (this.#swiped = this.#msrReader.readSwipe(bits, count)),
    });
    this.#contactReader = new CardReader({ contact: new ContactReader({ link: this.#contactLink }) });
    const pn532 = new Pn532({ spi: this.#field });
    pn532.begin();
    this.#contactlessReader = new CardReader({ contactless: pn532 });
  }

  /** Names of the cards a scenario may present. */
  static names(): string[] {
    return TEST_CARDS.map((card) => card.name);
  }

  /** Swipes, inserts or taps the named test card and reads it through the drivers. Throws CardPresentError. */
  present(name: string, op: "sale" | "balance" | "refund", amountMinor: number): PresentedCard {
    const card = findTestCard(name);
    if (card === undefined) throw new CardPresentError(name, "unknown", `unknown card ${JSON.stringify(name)}`);
    try {
      return card.entry === "swipe" ? this.#swipe(card) : this.#chip(card, op, amountMinor);
    } catch (error) {
      if (error instanceof CardError || error instanceof MsrError) throw new CardPresentError(name, error.reason, error.message);
      throw error;
    }
  }

  #swipe(card: TestCard): PresentedCard {
    this.#swiped = undefined;
    this.#msr.swipe(track2Text(card));
    const read = this.#swiped as CardRead | undefined;
    if (read === undefined) throw new CardPresentError(card.name, "noSwipe", "the swipe produced no read");
    return swipedCard(read);
  }

  #chip(card: TestCard, op: "sale" | "balance" | "refund", amountMinor: number): PresentedCard {
    const emulated = new EmvCardEmulator(card);
    const contactless = card.entry === "contactless";
    if (contactless) this.#field.place(emulated);
    else this.#contactLink.insert(emulated);
    const reader = contactless ? this.#contactlessReader : this.#contactReader;
    const read = reader.readCard(contactless ? "contactless" : "chip", this.#terminalData.next(op, amountMinor));
    // The card leaves the field (or the slot) once the second GENERATE AC is done, as at a real terminal.
    return chipCard(read, reader, () => (contactless ? this.#field.remove() : this.#contactLink.remove()));
  }
}
