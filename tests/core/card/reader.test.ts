import { CardError, type Apdu } from "../../../modules/card/apdu";
import { ContactReader, parseAtr } from "../../../modules/card/contact";
import type { TerminalData } from "../../../modules/card/emv";
import { MsrCapture } from "../../../modules/card/msr-capture";
import { Mfrc522 } from "../../../modules/card/mfrc522";
import { MsrError } from "../../../modules/card/msr";
import { Pn532 } from "../../../modules/card/pn532";
import { CardReader, type CardRead } from "../../../modules/card/reader";
import { findTestCard, track2Text } from "../../../modules/card/test-cards";
import { ContactReaderEmulator, EMULATED_ATR } from "../../../modules/emulators/contact-reader";
import { EmvCardEmulator } from "../../../modules/emulators/emv-card";
import { Mfrc522Emulator } from "../../../modules/emulators/mfrc522";
import { MsrReaderEmulator } from "../../../modules/emulators/msr-reader";
import { Pn532Emulator } from "../../../modules/emulators/pn532";

const TERMINAL: TerminalData = {
  amountMinor: 5000,
  currency: "156",
  country: "156",
  date: "260115",
  transactionType: 0,
  unpredictableNumber: Uint8Array.of(1, 2, 3, 4),
  ifdSerial: "XSPOS001",
  sequenceCounter: 1,
};

function text(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function contactSetup(name: string, bytesPerRead = 3): { reader: CardReader; chip: ContactReaderEmulator; card: EmvCardEmulator } {
  const chip = new ContactReaderEmulator({ bytesPerRead });
  const card = new EmvCardEmulator(findTestCard(name)!);
  chip.insert(card);
  return { reader: new CardReader({ contact: new ContactReader({ link: chip }) }), chip, card };
}

describe("ATR", () => {
  test("the emulated card's ATR: direct convention, T=0, 8 historical bytes", () => {
    const atr = parseAtr(Uint8Array.from(EMULATED_ATR));
    expect(atr).toMatchObject({ convention: "direct", protocols: [0] });
    expect(text(atr.historical)).toBe("XSPOSEMV");
  });

  test("TA1 and a T=1 offer with TCK", () => {
    // T0 = 95: TA1 = 18, TD1 = 81 (T=1, TD2 follows), TD2 = 01 (T=1), 5 historical bytes, TCK.
    const body = [0x3b, 0x95, 0x18, 0x81, 0x01, 0x41, 0x42, 0x43, 0x44, 0x45];
    const tck = body.slice(1).reduce((x, b) => x ^ b, 0);
    const atr = parseAtr(Uint8Array.from([...body, tck]));
    expect(atr).toMatchObject({ ta1: 0x18, protocols: [1, 1] });
    expect(() => parseAtr(Uint8Array.from([...body, tck ^ 1]))).toThrow("ATR TCK mismatch");
    expect(() => parseAtr(Uint8Array.of(0x3c, 0x00))).toThrow(CardError);
    expect(() => parseAtr(Uint8Array.of(0x3b, 0x62, 0x00))).toThrow("truncated");
  });
});

describe("contact chip through the reader IC (T=0)", () => {
  test("61xx and 6Cxx procedure bytes", () => {
    const chip = new ContactReaderEmulator();
    chip.insert(new EmvCardEmulator(findTestCard("unionpay-chip")!));
    const reader = new ContactReader({ link: chip });
    reader.powerUp();
    const select = Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x0e, ...Array.from("1PAY.SYS.DDF01", (c) => c.charCodeAt(0)), 0x00);
    const fci = reader.transceive(select);
    expect(fci[0]).toBe(0x6f);
    expect(Array.from(fci.subarray(-2))).toEqual([0x90, 0x00]);
    const record = reader.transceive(Uint8Array.of(0x00, 0xb2, 0x01, 0x0c, 0x00));
    expect(record[0]).toBe(0x70);
    // SELECT went as a case 3 TPDU then GET RESPONSE; READ RECORD first with P3 00, then again with the 6C length.
    expect(chip.tpdus.map((t) => t.slice(0, 4))).toEqual(["00A4", "00C0", "00B2", "00B2"]);
    expect(chip.tpdus[1]).toBe(`00C00000${(fci.length - 2).toString(16).toUpperCase().padStart(2, "0")}`);
    expect(chip.tpdus[2]).toBe("00B2010C00");
  });

  test("full read, ARQC, TC, power off", () => {
    const { reader } = contactSetup("unionpay-chip", 1);
    const read = reader.readCard("chip", TERMINAL);
    expect(read).toMatchObject({
      entryMode: "051",
      pan: "6228480000000023",
      expiry: "3012",
      serviceCode: "220",
      panSequence: "001",
      cryptogram: "ARQC",
    });
    expect(text(read.track2)).toBe("6228480000000023D30122200000000000");
    expect(read.f55.length).toBeGreaterThan(100);
    const done = reader.completeChip({ approved: true, responseCode: "00" });
    expect(done.approved).toBe(true);
    read.wipe();
    expect(read.track2.every((b) => b === 0)).toBe(true);
  });

  test("the chip declines after the host approved: not approved, with a fresh F55", () => {
    const { reader } = contactSetup("chip-declines-after-approval");
    const read = reader.readCard("chip", TERMINAL);
    const done = reader.completeChip({ approved: true, responseCode: "00" });
    expect(done.approved).toBe(false);
    expect(done.f55).not.toEqual(read.f55);
  });

  test("no card, and a card removed mid-transaction", () => {
    const chip = new ContactReaderEmulator();
    const reader = new CardReader({ contact: new ContactReader({ link: chip }) });
    expect(() => reader.readCard("chip", TERMINAL)).toThrow("no card in the contact reader");
    const removed = contactSetup("chip-removed-mid-transaction");
    let error: unknown;
    try {
      removed.reader.readCard("chip", TERMINAL);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CardError);
    expect((error as CardError).reason).toBe("timeout");
  });
});

describe("CardReader", () => {
  test("a swipe becomes a read with entry mode 021 and D-separated track 2", () => {
    const pins = { cls: 1, strobe: 2, data: 3 };
    const emulator = new MsrReaderEmulator(pins);
    const reader = new CardReader({});
    const reads: (CardRead | MsrError)[] = [];
    new MsrCapture({
      open: emulator.open,
      pins,
      onSwipe: (bits, count) => {
        try {
          reads.push(reader.readSwipe(bits, count));
        } catch (e) {
          if (e instanceof MsrError) reads.push(e);
          else throw e;
        }
      },
    });
    const card = findTestCard("visa-msr")!;
    emulator.swipe(track2Text(card), { reverse: true });
    emulator.swipe(track2Text(card), { fraction: 0.3 });
    const read = reads[0] as CardRead;
    expect(read).toMatchObject({ entryMode: "021", pan: card.pan, expiry: "3012", serviceCode: "101", cryptogram: "" });
    expect(text(read.track2)).toBe("4761730000000011D30121011234567890");
    expect(reads[1]).toBeInstanceOf(MsrError);
  });

  test.each([["pn532"], ["mfrc522"]])("contactless through %s: entry mode 071, no second GENERATE AC on the card", (name) => {
    const card = new EmvCardEmulator(findTestCard("visa-contactless")!);
    let device: Apdu & { activate(): unknown };
    if (name === "pn532") {
      const chip = new Pn532Emulator();
      chip.place(card);
      const driver = new Pn532({ spi: chip });
      driver.begin();
      device = driver;
    } else {
      const chip = new Mfrc522Emulator();
      chip.place(card);
      const driver = new Mfrc522({ spi: chip });
      driver.begin();
      device = driver;
    }
    const reader = new CardReader({ contactless: device as never });
    const read = reader.readCard("contactless", TERMINAL);
    expect(read).toMatchObject({ entryMode: "071", pan: "4761730000000029", cryptogram: "ARQC", aid: "A0000000031010" });
    expect(reader.completeChip({ approved: true, responseCode: "00" }).approved).toBe(true);
    expect(card.commands).toHaveLength(4);
  });

  test("no reader configured, no card in the field", () => {
    expect(() => new CardReader({}).readCard("chip", TERMINAL)).toThrow("no chip reader configured");
    const chip = new Pn532Emulator();
    const driver = new Pn532({ spi: chip });
    expect(() => new CardReader({ contactless: driver }).readCard("contactless", TERMINAL)).toThrow("no card in the field");
  });
});
