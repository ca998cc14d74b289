import { CardError, type Apdu } from "../../../modules/card/apdu";
import { EmvKernel, type TerminalData } from "../../../modules/card/emv";
import { luhnValid } from "../../../modules/crypto/pan";
import { Mfrc522 } from "../../../modules/card/mfrc522";
import { Pn532 } from "../../../modules/card/pn532";
import { findTestCard, TEST_CARDS } from "../../../modules/card/test-cards";
import { EmvCardEmulator, simulatedCryptogram } from "../../../modules/emulators/emv-card";
import { Mfrc522Emulator } from "../../../modules/emulators/mfrc522";
import { Pn532Emulator } from "../../../modules/emulators/pn532";
import { decodeTlv } from "../../../modules/iso8583/tlv";
import { toHex } from "../../../modules/base/hex";

const TERMINAL: TerminalData = {
  amountMinor: 1234,
  currency: "156",
  country: "156",
  date: "260115",
  transactionType: 0x00,
  unpredictableNumber: Uint8Array.of(0x11, 0x22, 0x33, 0x44),
  ifdSerial: "XSPOS001",
  sequenceCounter: 7,
};

function card(name: string): EmvCardEmulator {
  return new EmvCardEmulator(findTestCard(name)!);
}

/** The card wired straight to the kernel (the reader layers have their own suites). */
function direct(emulator: EmvCardEmulator): Apdu {
  return {
    transceive: (command) => {
      const response = emulator.respond(command);
      if (response === undefined) throw new CardError("timeout", "the card did not answer");
      return response;
    },
  };
}

function tags(f55: Uint8Array): string[] {
  return decodeTlv(f55).map((item) => item.tag.toString(16).toUpperCase());
}

describe("test card catalogue", () => {
  test("PANs are Luhn-valid and distinct, names unique, the contract's cards present", () => {
    expect(TEST_CARDS.every((c) => luhnValid(c.pan))).toBe(true);
    expect(new Set(TEST_CARDS.map((c) => c.pan)).size).toBe(TEST_CARDS.length);
    for (const name of [
      "visa-msr",
      "unionpay-msr",
      "unionpay-chip",
      "visa-contactless",
      "chip-declines-after-approval",
      "insufficient-funds",
    ])
      expect(findTestCard(name)).toBeDefined();
    expect(Object.isFrozen(TEST_CARDS) && Object.isFrozen(TEST_CARDS[0])).toBe(true);
  });
});

describe("EMV kernel-lite, contact flow", () => {
  test("PSE, AID, GPO, records, ARQC then TC", () => {
    const emulator = card("unionpay-chip");
    const trace: string[] = [];
    const kernel = new EmvKernel({ apdu: direct(emulator), contactless: false, onExchange: (e) => trace.push(e.command.slice(0, 4)) });
    const app = kernel.readApplication(TERMINAL);
    expect(app).toMatchObject({
      aid: "A0000003330101",
      label: "UnionPay Debit",
      pan: "6228480000000023",
      expiry: "3012",
      serviceCode: "220",
      panSequence: "001",
    });
    expect(String.fromCharCode(...app.track2)).toBe("6228480000000023D30122200000000000");
    expect(trace).toEqual(["00A4", "00B2", "00B2", "00A4", "80A8", "00B2", "00B2"]);
    const first = kernel.generateFirstAc();
    expect(first.cryptogram).toBe("ARQC");
    expect(tags(first.f55)).toEqual([
      "9F26",
      "9F27",
      "9F10",
      "9F37",
      "9F36",
      "95",
      "9A",
      "9C",
      "9F02",
      "5F2A",
      "82",
      "9F1A",
      "9F03",
      "9F33",
      "9F34",
      "9F35",
      "9F1E",
      "84",
      "9F09",
      "9F41",
    ]);
    const items = decodeTlv(first.f55);
    const value = (tag: number): string => toHex(items.find((i) => i.tag === tag)!.value);
    expect(value(0x9f02)).toBe("000000001234");
    expect(value(0x9f37)).toBe("11223344");
    expect(value(0x84)).toBe("A0000003330101");
    // The cryptogram is the simulated one over the CDOL1 data the terminal sent.
    const cdol1 = emulator.commands[emulator.commands.length - 1].slice(10, -2);
    expect(value(0x9f26)).toBe(toHex(simulatedCryptogram("6228480000000023", 0x11, fromHexText(cdol1))));
    const second = kernel.generateSecondAc({ approved: true, responseCode: "00" });
    expect(second.cryptogram).toBe("TC");
    kernel.wipe();
  });

  test("a card that declines the second GENERATE AC after the host approved", () => {
    const kernel = new EmvKernel({ apdu: direct(card("chip-declines-after-approval")), contactless: false });
    kernel.readApplication(TERMINAL);
    expect(kernel.generateFirstAc().cryptogram).toBe("ARQC");
    expect(kernel.generateSecondAc({ approved: true, responseCode: "00" }).cryptogram).toBe("AAC");
  });

  test("a host decline asks for (and gets) an AAC", () => {
    const kernel = new EmvKernel({ apdu: direct(card("unionpay-chip")), contactless: false });
    kernel.readApplication(TERMINAL);
    kernel.generateFirstAc();
    expect(kernel.generateSecondAc({ approved: false, responseCode: "51" }).cryptogram).toBe("AAC");
  });

  test("a card removed mid-transaction is a timeout", () => {
    const kernel = new EmvKernel({ apdu: direct(card("chip-removed-mid-transaction")), contactless: false });
    expect(() => kernel.readApplication(TERMINAL)).toThrow(CardError);
  });

  test("bad card answers are typed errors", () => {
    const silent: Apdu = { transceive: () => Uint8Array.of(0x6d, 0x00) };
    expect(() => new EmvKernel({ apdu: silent, contactless: false }).readApplication(TERMINAL)).toThrow("SELECT answered 6D00");
    const garbage: Apdu = { transceive: () => Uint8Array.of(0x6f, 0x09, 0x84, 0x90, 0x00) };
    expect(() => new EmvKernel({ apdu: garbage, contactless: true }).readApplication(TERMINAL)).toThrow("not valid BER-TLV");
  });
});

function fromHexText(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

describe("EMV over the contactless readers", () => {
  test.each([["pn532"], ["mfrc522"]])("visa-contactless through %s: PPSE, qVSDC GPO, no GENERATE AC", (reader) => {
    const emulator = card("visa-contactless");
    let apdu: Apdu;
    if (reader === "pn532") {
      const chip = new Pn532Emulator({ exchangeChunkMax: 48 });
      chip.place(emulator);
      const driver = new Pn532({ spi: chip });
      driver.begin();
      driver.activate();
      apdu = driver;
    } else {
      const chip = new Mfrc522Emulator();
      chip.place(emulator);
      const driver = new Mfrc522({ spi: chip });
      driver.begin();
      driver.activate();
      apdu = driver;
    }
    const kernel = new EmvKernel({ apdu, contactless: true });
    const app = kernel.readApplication(TERMINAL);
    expect(app).toMatchObject({ aid: "A0000000031010", pan: "4761730000000029", expiry: "3012", panSequence: "001" });
    const first = kernel.generateFirstAc();
    expect(first.cryptogram).toBe("ARQC");
    expect(tags(first.f55)).toContain("9F26");
    expect(emulator.commands.map((c) => c.slice(0, 4))).toEqual(["00A4", "00A4", "80A8", "00B2"]);
    expect(kernel.generateSecondAc({ approved: true, responseCode: "00" }).cryptogram).toBe("TC");
  });
});
