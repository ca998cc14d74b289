/**
 * The terminal's card readers in a scenario: the real drivers of modules/card
 * (MSR capture and decoder, contact reader IC, PN532, EMV kernel) on emulated
 * reader hardware (modules/emulators), each test card of
 * modules/card/test-cards.ts played by the card emulator. A card becomes the
 * engine's PresentedCard; a chip card's second GENERATE AC runs through the
 * kernel when the engine completes it.
 */
import { fromHex, toHex } from "../../modules/base/hex";
import { CardError } from "../../modules/card/apdu";
import { ContactReader } from "../../modules/card/contact";
import type { TerminalData } from "../../modules/card/emv";
import { MsrCapture } from "../../modules/card/msr-capture";
import { MsrError } from "../../modules/card/msr";
import { Pn532 } from "../../modules/card/pn532";
import { CardReader, type CardRead } from "../../modules/card/reader";
import { findTestCard, TEST_CARDS, track2Text, type TestCard } from "../../modules/card/test-cards";
import { ContactReaderEmulator } from "../../modules/emulators/contact-reader";
import { EmvCardEmulator } from "../../modules/emulators/emv-card";
import { MsrReaderEmulator } from "../../modules/emulators/msr-reader";
import { Pn532Emulator } from "../../modules/emulators/pn532";
import { decodeTlv, findTlv } from "../../modules/iso8583/tlv";
import type { Random } from "../../modules/platform/random";
import type { PresentedCard } from "../../modules/txn/ports";

const MSR_PINS = Object.freeze({ cls: 25, strobe: 26, data: 27 });
/** EMV 9C of each operation. */
const TRANSACTION_TYPES = Object.freeze({ sale: 0x00, balance: 0x31, refund: 0x20 });

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
  readonly #options: CardDeskOptions;
  readonly #msr = new MsrReaderEmulator(MSR_PINS);
  readonly #msrReader = new CardReader({});
  readonly #contactLink = new ContactReaderEmulator();
  readonly #contactReader: CardReader;
  readonly #field = new Pn532Emulator();
  readonly #contactlessReader: CardReader;
  readonly #unpredictable = new Uint8Array(4);
  #swiped: CardRead | undefined;
  #sequenceCounter = 0;

  constructor(options: CardDeskOptions) {
    this.#options = options;
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
  present(name: string, op: keyof typeof TRANSACTION_TYPES, amountMinor: number): PresentedCard {
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
    const track2 = String.fromCharCode(...read.track2);
    read.wipe();
    return { entryMode: read.entryMode, pan: read.pan, expiry: read.expiry, track2, domestic: card.scheme === "unionpay" };
  }

  #chip(card: TestCard, op: keyof typeof TRANSACTION_TYPES, amountMinor: number): PresentedCard {
    const emulated = new EmvCardEmulator(card);
    const contactless = card.entry === "contactless";
    if (contactless) this.#field.place(emulated);
    else this.#contactLink.insert(emulated);
    const reader = contactless ? this.#contactlessReader : this.#contactReader;
    this.#options.random.fill(this.#unpredictable);
    this.#sequenceCounter = (this.#sequenceCounter % 99_999_999) + 1;
    const read = reader.readCard(contactless ? "contactless" : "chip", this.#terminalData(op, amountMinor));
    const f55 = toHex(read.f55);
    read.wipe();
    return {
      entryMode: read.entryMode,
      pan: read.pan,
      expiry: read.expiry,
      ...(read.panSequence !== undefined ? { cardSequence: read.panSequence.padStart(3, "0") } : {}),
      f55,
      domestic: card.scheme === "unionpay",
      completeChip: (f39, issuerData) => {
        const issuerAuthenticationData = issuerAuthentication(issuerData);
        const second = reader.completeChip({
          approved: f39 === "00",
          responseCode: f39,
          ...(issuerAuthenticationData !== undefined ? { issuerAuthenticationData } : {}),
        });
        if (contactless) this.#field.remove();
        else this.#contactLink.remove();
        return { accepted: second.approved, f55: toHex(second.f55) };
      },
    };
  }

  #terminalData(op: keyof typeof TRANSACTION_TYPES, amountMinor: number): TerminalData {
    const d = new Date(this.#options.nowMs());
    const two = (n: number) => String(n).padStart(2, "0");
    return {
      amountMinor,
      currency: "156",
      country: "156",
      date: two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()),
      transactionType: TRANSACTION_TYPES[op],
      unpredictableNumber: this.#unpredictable,
      ifdSerial: this.#options.ifdSerial,
      sequenceCounter: this.#sequenceCounter,
    };
  }
}

/** Tag 91 out of the answer's F55 (hex), when the issuer sent one. */
function issuerAuthentication(f55: string | undefined): Uint8Array | undefined {
  return f55 === undefined ? undefined : findTlv(decodeTlv(fromHex(f55)), 0x91);
}
