import { CardError, crcA } from "../../../modules/card/apdu";
import { Mfrc522 } from "../../../modules/card/mfrc522";
import { Mfrc522Emulator } from "../../../modules/emulators/mfrc522";
import { echoCard } from "./picc-fixture";

const SELECT = Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x07, 0xa0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x00]);

function setup(busyPolls = 1): { chip: Mfrc522Emulator; driver: Mfrc522 } {
  const chip = new Mfrc522Emulator({ busyPolls });
  const driver = new Mfrc522({ spi: chip, pollsMax: 20 });
  driver.begin();
  return { chip, driver };
}

function reason(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof CardError) return error.reason;
    throw error;
  }
  return "none";
}

describe("CRC_A", () => {
  test("ISO/IEC 14443-3 values", () => {
    expect(crcA(Uint8Array.from([0x00, 0x00]), 0, 2)).toBe(0x1ea0);
    expect(crcA(Uint8Array.from([0x12, 0x34]), 0, 2)).toBe(0xcf26);
    expect(crcA(Uint8Array.from([0x50, 0x00]), 0, 2)).toBe(0xcd57); // HLTA is sent as 50 00 57 CD
  });
});

describe("MFRC522 driver against the emulated chip", () => {
  test("begin reads VersionReg", () => {
    expect(new Mfrc522({ spi: new Mfrc522Emulator() }).begin()).toBe(0x92);
    expect(reason(() => new Mfrc522({ spi: new Mfrc522Emulator({ version: 0 }) }).begin())).toBe("protocol");
  });

  test("REQA, anticollision, SELECT and RATS for a 4-byte UID", () => {
    const { chip, driver } = setup();
    chip.place(echoCard([0xde, 0xad, 0xbe, 0xef], 2));
    const target = driver.activate();
    expect(Array.from(target.uid)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(target).toMatchObject({ atqa: 0x0004, sak: 0x20 });
    expect(Array.from(target.ats)).toEqual([0x05, 0x78, 0x80, 0x70, 0x02]);
    expect(chip.sent.slice(0, 2)).toEqual([[0x26], [0x93, 0x20]]);
    expect(chip.sent[2].slice(0, 7)).toEqual([0x93, 0x70, 0xde, 0xad, 0xbe, 0xef, 0xde ^ 0xad ^ 0xbe ^ 0xef]);
    const crc = crcA(Uint8Array.from([0xe0, 0x50]), 0, 2);
    expect(chip.sent[3]).toEqual([0xe0, 0x50, crc & 0xff, crc >> 8]);
  });

  test("a 7-byte UID through two cascade levels", () => {
    const { chip, driver } = setup();
    chip.place(echoCard([0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66], 2));
    expect(Array.from(driver.activate().uid)).toEqual([0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
    expect(chip.sent.map((f) => f[0])).toEqual([0x26, 0x93, 0x93, 0x95, 0x95, 0xe0]);
  });

  test("APDUs as I-blocks, chained both ways", () => {
    const { chip, driver } = setup(3);
    const card = echoCard([1, 2, 3, 4], 200);
    chip.place(card);
    driver.activate();
    const response = driver.transceive(SELECT);
    expect(response).toHaveLength(202);
    expect(response[0]).toBe(0xa4);
    expect(response[150]).toBe(150);
    expect(Array.from(response.subarray(200))).toEqual([0x90, 0x00]);
    const long = new Uint8Array(200);
    long.set([0x80, 0xae, 0x80, 0x00, 194]);
    for (let i = 5; i < 199; i++) long[i] = i;
    driver.transceive(long);
    expect(Array.from(card.received[1])).toEqual(Array.from(long));
    // Every frame fits the 64-byte FIFO.
    expect(Math.max(...chip.sent.map((f) => f.length))).toBeLessThanOrEqual(64);
    expect(driver.transceive(SELECT)).toHaveLength(202);
  });

  test("no card, two cards, CRC error, timeout, card removed", () => {
    const { chip, driver } = setup();
    expect(reason(() => driver.activate())).toBe("noCard");
    chip.place(echoCard([1, 2, 3, 4], 2), echoCard([1, 2, 7, 4], 2));
    expect(reason(() => driver.activate())).toBe("collision");
    const card = echoCard([1, 2, 3, 4], 2);
    chip.place(card);
    driver.activate();
    chip.fault("crc");
    expect(reason(() => driver.transceive(SELECT))).toBe("crc");
    chip.place(card);
    driver.activate();
    chip.fault("timeout");
    expect(reason(() => driver.transceive(SELECT))).toBe("timeout");
    chip.place(card);
    driver.activate();
    expect(driver.transceive(SELECT)).toHaveLength(4);
    card.removed = true;
    expect(reason(() => driver.transceive(SELECT))).toBe("timeout");
  });

  test("a CRC error during SELECT, and a chip whose IRQ never comes within the poll budget", () => {
    const { chip, driver } = setup();
    chip.place(echoCard([1, 2, 3, 4], 2));
    chip.fault("crc");
    // ATQA carries no check; the fault corrupts the anticollision answer's BCC.
    expect(reason(() => driver.activate())).toBe("crc");
    const slow = new Mfrc522Emulator({ busyPolls: 50 });
    const impatient = new Mfrc522({ spi: slow, pollsMax: 10 });
    impatient.begin();
    slow.place(echoCard([1, 2, 3, 4], 2));
    expect(reason(() => impatient.activate())).toBe("timeout");
  });

  test("transceive before an ISO 14443-4 activation is refused", () => {
    const { driver } = setup();
    expect(reason(() => driver.transceive(SELECT))).toBe("protocol");
  });
});
