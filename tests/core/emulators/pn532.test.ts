import { CardError } from "../../../modules/card/apdu";
import { Pn532 } from "../../../modules/card/pn532";
import { Pn532Emulator } from "../../../modules/emulators/pn532";
import { echoCard } from "./picc-fixture";

const SELECT = Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x07, 0xa0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x00]);

function setup(options: { busyPolls?: number; exchangeChunkMax?: number } = {}): { chip: Pn532Emulator; driver: Pn532 } {
  const chip = new Pn532Emulator(options);
  const driver = new Pn532({ spi: chip, pollsMax: 50 });
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

describe("PN532 driver against the emulated chip", () => {
  test("begin reads the firmware version and configures SAM and retries", () => {
    const { chip, driver } = setup();
    expect(Array.from(driver.begin())).toEqual([0x32, 0x01, 0x06, 0x07]);
    expect(chip.commands).toEqual([0x02, 0x14, 0x32]);
  });

  test("activate returns UID, ATQA, SAK and ATS", () => {
    const { chip, driver } = setup();
    chip.place(echoCard([1, 2, 3, 4], 4));
    const target = driver.activate();
    expect(Array.from(target.uid)).toEqual([1, 2, 3, 4]);
    expect(target).toMatchObject({ atqa: 0x0004, sak: 0x20 });
    expect(Array.from(target.ats)).toEqual([0x05, 0x78, 0x80, 0x70, 0x02]);
  });

  test("no card, and two cards (collision)", () => {
    const { chip, driver } = setup();
    expect(reason(() => driver.activate())).toBe("noCard");
    chip.place(echoCard([1, 2, 3, 4], 4), echoCard([5, 6, 7, 8], 4));
    expect(reason(() => driver.activate())).toBe("collision");
  });

  test("an APDU exchange, short and chained both ways", () => {
    const { chip, driver } = setup({ exchangeChunkMax: 40 });
    const card = echoCard([1, 2, 3, 4], 250);
    chip.place(card);
    driver.activate();
    const short = driver.transceive(SELECT);
    expect(short).toHaveLength(252);
    expect(short[0]).toBe(0xa4);
    expect(Array.from(short.subarray(250))).toEqual([0x90, 0x00]);
    expect(short[100]).toBe(100);
    // A 261-byte command goes out in two frames with Tg's MI bit on the first.
    const long = new Uint8Array(261);
    long.set([0x80, 0xae, 0x80, 0x00, 0xff]);
    for (let i = 5; i < 260; i++) long[i] = i & 0xff;
    expect(driver.transceive(long)).toHaveLength(252);
    expect(Array.from(card.received[1])).toEqual(Array.from(long));
  });

  test("exchange errors: timeout, CRC, a chip that never answers, a removed card", () => {
    const { chip, driver } = setup();
    const card = echoCard([1, 2, 3, 4], 2);
    chip.place(card);
    driver.activate();
    chip.fault("timeout");
    expect(reason(() => driver.transceive(SELECT))).toBe("timeout");
    chip.fault("crc");
    expect(reason(() => driver.transceive(SELECT))).toBe("crc");
    chip.fault("mute");
    expect(reason(() => driver.transceive(SELECT))).toBe("timeout");
    expect(driver.transceive(SELECT)).toHaveLength(4);
    card.removed = true;
    expect(reason(() => driver.transceive(SELECT))).toBe("timeout");
  });

  test("status polling waits through busy reads, within the poll budget", () => {
    const slow = new Pn532Emulator({ busyPolls: 30 });
    expect(Array.from(new Pn532({ spi: slow, pollsMax: 40 }).begin())).toHaveLength(4);
    expect(reason(() => new Pn532({ spi: new Pn532Emulator({ busyPolls: 30 }), pollsMax: 10 }).begin())).toBe("timeout");
  });

  test("bad APDU lengths are refused before the bus", () => {
    const { chip, driver } = setup();
    chip.place(echoCard([1, 2, 3, 4], 2));
    driver.activate();
    expect(reason(() => driver.transceive(new Uint8Array(3)))).toBe("protocol");
    expect(reason(() => driver.transceive(new Uint8Array(262)))).toBe("protocol");
  });
});
