/**
 * `xspos card read --profile NAME [--reader pn532|mfrc522]`: reads a test card
 * (modules/card/test-cards) through the real drivers against emulated reader
 * chips, and prints the read result (PAN masked) with the APDU trace, track
 * data in it masked too (docs/contracts.md "Card reading").
 */
import { UsageError, parseOptions, type Command } from "../command";
import { CardError } from "../../../modules/card/apdu";
import { ContactReader } from "../../../modules/card/contact";
import type { ApduTraceEntry, TerminalData } from "../../../modules/card/emv";
import { maskPan } from "../../../modules/crypto/pan";
import { Mfrc522 } from "../../../modules/card/mfrc522";
import { MsrCapture } from "../../../modules/card/msr-capture";
import { MsrError } from "../../../modules/card/msr";
import { Pn532 } from "../../../modules/card/pn532";
import { CardReader, type CardRead } from "../../../modules/card/reader";
import { findTestCard, TEST_CARDS, track2Text, type TestCard } from "../../../modules/card/test-cards";
import { toHex } from "../../../modules/base/hex";
import { ContactReaderEmulator } from "../../../modules/emulators/contact-reader";
import { EmvCardEmulator } from "../../../modules/emulators/emv-card";
import { Mfrc522Emulator } from "../../../modules/emulators/mfrc522";
import { MsrReaderEmulator } from "../../../modules/emulators/msr-reader";
import { Pn532Emulator } from "../../../modules/emulators/pn532";

const READERS = ["pn532", "mfrc522"] as const;
const MSR_PINS = Object.freeze({ cls: 25, strobe: 26, data: 27 });

const TERMINAL: TerminalData = {
  amountMinor: 100,
  currency: "156",
  country: "156",
  date: "260101",
  transactionType: 0x00,
  unpredictableNumber: Uint8Array.of(0x12, 0x34, 0x56, 0x78),
  ifdSerial: "XSPOS001",
  sequenceCounter: 1,
};

function swipe(card: TestCard): CardRead {
  const emulator = new MsrReaderEmulator(MSR_PINS);
  const reader = new CardReader({});
  let read: CardRead | undefined;
  new MsrCapture({ open: emulator.open, pins: MSR_PINS, onSwipe: (bits, count) => (read = reader.readSwipe(bits, count)) });
  emulator.swipe(track2Text(card));
  if (!read) throw new Error("the emulated swipe produced nothing");
  return read;
}

function chipReader(card: TestCard, readerName: (typeof READERS)[number], onExchange: (entry: ApduTraceEntry) => void): CardReader {
  const emulated = new EmvCardEmulator(card);
  if (card.entry === "chip") {
    const link = new ContactReaderEmulator();
    link.insert(emulated);
    return new CardReader({ contact: new ContactReader({ link }), onExchange });
  }
  if (readerName === "pn532") {
    const chip = new Pn532Emulator();
    chip.place(emulated);
    const driver = new Pn532({ spi: chip });
    driver.begin();
    return new CardReader({ contactless: driver, onExchange });
  }
  const chip = new Mfrc522Emulator();
  chip.place(emulated);
  const driver = new Mfrc522({ spi: chip });
  driver.begin();
  return new CardReader({ contactless: driver, onExchange });
}

/** Hides the PAN and the track 2 equivalent wherever they appear in the trace's hex. */
function masker(read: CardRead | undefined, card: TestCard): (hex: string) => string {
  const pan = read?.pan ?? card.pan;
  const track2 = read ? String.fromCharCode(...read.track2) : `${card.pan}D${card.expiry}${card.serviceCode}${card.discretionary}`;
  const maskedTrack2 = `${maskPan(pan)}D${"*".repeat(track2.length - pan.length - 1)}`;
  return (hex) => hex.split(track2).join(maskedTrack2).split(pan).join(maskPan(pan));
}

export const command: Command = {
  summary: "read a test card through the drivers and emulated reader chips",
  usage: [`card read --profile NAME [--reader ${READERS.join("|")}]    NAME: ${TEST_CARDS.map((c) => c.name).join(", ")}`],
  run(args) {
    const [verb, ...rest] = args;
    if (verb !== "read")
      throw new UsageError(`card: unknown verb ${JSON.stringify(verb ?? "")}; try: tools/xspos card read --profile NAME`);
    const { values, positionals } = parseOptions(rest, { profile: { type: "string" }, reader: { type: "string" } }, false);
    if (positionals.length > 0 || values.profile === undefined) throw new UsageError("card read: --profile NAME is required");
    const card = findTestCard(values.profile);
    if (!card)
      throw new UsageError(
        `card read: unknown profile ${JSON.stringify(values.profile)}; profiles: ${TEST_CARDS.map((c) => c.name).join(", ")}`,
      );
    const readerName = values.reader ?? "pn532";
    if (!(READERS as readonly string[]).includes(readerName)) throw new UsageError(`card read: --reader must be ${READERS.join(" or ")}`);
    const reader = card.entry === "swipe" ? "msr" : card.entry === "chip" ? "contact" : readerName;

    const trace: ApduTraceEntry[] = [];
    let read: CardRead | undefined;
    let failure: CardError | MsrError | undefined;
    try {
      read =
        card.entry === "swipe"
          ? swipe(card)
          : chipReader(card, readerName as (typeof READERS)[number], (e) => trace.push(e)).readCard(card.entry, TERMINAL);
    } catch (error) {
      if (!(error instanceof CardError) && !(error instanceof MsrError)) throw error;
      failure = error;
    }
    const mask = masker(read, card);
    const out = {
      profile: card.name,
      reader,
      ...(read
        ? {
            entryMode: read.entryMode,
            pan: maskPan(read.pan),
            expiry: read.expiry,
            serviceCode: read.serviceCode,
            ...(read.panSequence ? { panSequence: read.panSequence } : {}),
            ...(read.aid ? { aid: read.aid, cryptogram: read.cryptogram, f55: toHex(read.f55) } : {}),
          }
        : { error: { reason: failure!.reason, message: failure!.message } }),
      trace: trace.map((e) => ({ command: mask(e.command), response: mask(e.response) })),
    };
    read?.wipe();
    console.log(JSON.stringify(out));
    return read ? 0 : 1;
  },
};
