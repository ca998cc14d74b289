// A run of sectors seen as a Flash of its own: offsets map into the run, and nothing reaches outside it.
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { FlashRegion } from "../../../modules/txn/flash-region";

const BLOCK = 256;

function chip(): NorFlash {
  return new NorFlash({ sectorCount: 5, blockSize: BLOCK, seed: 3 });
}

describe("FlashRegion", () => {
  test("offsets, reads, writes and erases map onto its own sectors of the chip", () => {
    const flash = chip();
    for (let sector = 0; sector < 5; sector++) flash.erase(sector);
    const region = new FlashRegion(flash, 2, 2);
    expect(region.blockSize).toBe(BLOCK);
    expect(region.byteLength).toBe(2 * BLOCK);
    region.write(BLOCK + 4, 3, Uint8Array.of(1, 2, 3));
    expect(Array.from(new Uint8Array(flash.read(3 * BLOCK + 4, 3)))).toEqual([1, 2, 3]);
    expect(Array.from(new Uint8Array(region.read(BLOCK + 3, 5)))).toEqual([0xff, 1, 2, 3, 0xff]);
    region.erase(1);
    expect(flash.eraseCounts()).toEqual([1, 1, 1, 2, 1]);
    expect(Array.from(new Uint8Array(region.read(BLOCK + 4, 3)))).toEqual([0xff, 0xff, 0xff]);
  });

  test("the last sector of the chip can be a region; the last byte of a region can be read and written", () => {
    const flash = chip();
    flash.erase(4);
    const region = new FlashRegion(flash, 4, 1);
    region.write(BLOCK - 1, 1, Uint8Array.of(0x5a));
    expect(new Uint8Array(region.read(BLOCK - 1, 1))[0]).toBe(0x5a);
    expect(region.read(BLOCK, 0).byteLength).toBe(0);
    region.erase(0);
    expect(flash.eraseCounts()[4]).toBe(2);
  });

  test("a region beyond the chip, or of no sectors, is refused with what was wrong", () => {
    const flash = chip();
    expect(() => new FlashRegion(flash, 5, 1)).toThrow("firstSector must be an integer in [0, 4], got 5");
    expect(() => new FlashRegion(flash, -1, 1)).toThrow("firstSector");
    expect(() => new FlashRegion(flash, 3, 3)).toThrow("sectorCount must be an integer in [1, 2], got 3");
    expect(() => new FlashRegion(flash, 3, 0)).toThrow("sectorCount must be an integer in [1, 2], got 0");
  });

  test("an erase, read or write outside the region is refused before it reaches the chip", () => {
    const flash = chip();
    const region = new FlashRegion(flash, 1, 2);
    const before = flash.operations;
    expect(() => region.erase(2)).toThrow("sector must be an integer in [0, 1], got 2");
    expect(() => region.erase(-1)).toThrow("sector must be an integer in [0, 1], got -1");
    expect(() => region.read(2 * BLOCK - 4, 5)).toThrow(`FlashRegion: range ${2 * BLOCK - 4}+5 beyond ${2 * BLOCK}`);
    expect(() => region.write(2 * BLOCK, 1, Uint8Array.of(0))).toThrow("beyond");
    expect(() => region.read(-1, 1)).toThrow("FlashRegion: bad offset or length");
    expect(() => region.read(0, -1)).toThrow("FlashRegion: bad offset or length");
    expect(() => region.read(0.5, 1)).toThrow("FlashRegion: bad offset or length");
    expect(() => region.write(0, 1.5, Uint8Array.of(0, 0))).toThrow("FlashRegion: bad offset or length");
    expect(flash.operations).toBe(before);
  });
});
