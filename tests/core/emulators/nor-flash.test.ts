import { AssertionError } from "../../../modules/base/assert";
import { NorFlash, PowerCut } from "../../../modules/emulators/nor-flash";
import { FlashIoError } from "../../../modules/platform/flash";

function bytes(length: number, value: number): Uint8Array {
  return new Uint8Array(length).fill(value);
}

function read(flash: NorFlash, offset: number, length: number): Uint8Array {
  return new Uint8Array(flash.read(offset, length));
}

describe("NorFlash semantics", () => {
  test("erase sets FF, a program ANDs, erase counts per sector", () => {
    const flash = new NorFlash({ sectorCount: 3, blockSize: 512, seed: 1 });
    expect(flash.byteLength).toBe(1536);
    flash.write(10, 2, new Uint8Array([0xf0, 0x0f]));
    expect(read(flash, 9, 4)).toEqual(new Uint8Array([0xff, 0xf0, 0x0f, 0xff]));
    flash.write(10, 1, new Uint8Array([0x30]));
    expect(read(flash, 10, 1)[0]).toBe(0x30);
    flash.erase(0);
    flash.erase(0);
    flash.erase(2);
    expect(read(flash, 10, 1)[0]).toBe(0xff);
    expect(flash.eraseCounts()).toEqual([2, 0, 1]);
    expect(flash.stats.writes).toBe(2);
    expect(flash.stats.bytesWritten).toBe(3);
  });

  test("programming a 0 back to 1 fails the test", () => {
    const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 1 });
    flash.write(0, 1, new Uint8Array([0x0f]));
    expect(() => flash.write(0, 1, new Uint8Array([0x1f]))).toThrow(AssertionError);
  });

  test("image export and import round-trip", () => {
    const flash = new NorFlash({ sectorCount: 2, blockSize: 512, seed: 1 });
    flash.write(600, 3, new Uint8Array([1, 2, 3]));
    const copy = new NorFlash({ sectorCount: 2, blockSize: 512, seed: 2, image: flash.exportImage() });
    expect(read(copy, 600, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(() => new NorFlash({ sectorCount: 3, blockSize: 512, seed: 2, image: flash.exportImage() })).toThrow(AssertionError);
  });

  test("out-of-range access is a bug", () => {
    const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 1 });
    expect(() => flash.read(500, 20)).toThrow(AssertionError);
    expect(() => flash.erase(1)).toThrow(AssertionError);
  });
});

describe("NorFlash faults", () => {
  test("cut before a program: nothing written, power stays off until a power cycle", () => {
    const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 1 });
    flash.schedule({ atOperation: 0, kind: "cutBefore" });
    expect(() => flash.write(0, 4, bytes(4, 0))).toThrow(PowerCut);
    expect(flash.fired).toMatchObject({ kind: "cutBefore", operation: "write", offset: 0, length: 4 });
    expect(() => flash.read(0, 4)).toThrow(PowerCut);
    flash.powerCycle();
    expect(read(flash, 0, 4)).toEqual(bytes(4, 0xff));
  });

  test("cut after a program: written, but the call never returns", () => {
    const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 1 });
    flash.schedule({ atOperation: 0, kind: "cutAfter" });
    expect(() => flash.write(0, 4, bytes(4, 0))).toThrow(PowerCut);
    flash.powerCycle();
    expect(read(flash, 0, 4)).toEqual(bytes(4, 0));
  });

  test("cut inside a program leaves a byte prefix and one torn byte", () => {
    const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 7 });
    flash.schedule({ atOperation: 0, kind: "cutInside" });
    expect(() => flash.write(0, 64, bytes(64, 0))).toThrow(PowerCut);
    flash.powerCycle();
    const image = read(flash, 0, 64);
    const firstNonZero = image.findIndex((b) => b !== 0);
    expect(firstNonZero).toBeGreaterThanOrEqual(0);
    for (let i = firstNonZero + 1; i < 64; i++) expect(image[i]).toBe(0xff);
  });

  test("torn bits are a subset of the bits being cleared, and weak ones re-sample at every boot", () => {
    const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 3 });
    flash.write(0, 128, bytes(128, 0xf0));
    flash.schedule({ atOperation: 1, kind: "tornBits" });
    expect(() => flash.write(0, 128, bytes(128, 0x00))).toThrow(PowerCut);
    expect(flash.weakBitCount()).toBeGreaterThan(0);
    const samples = new Set<string>();
    for (let boot = 0; boot < 4; boot++) {
      flash.powerCycle();
      const image = read(flash, 0, 128);
      for (const b of image) expect(b & 0x0f).toBe(0); // already-zero bits never come back
      samples.add(image.join(","));
      flash.cutPower();
    }
    expect(samples.size).toBeGreaterThan(1);
    flash.powerCycle();
    flash.write(0, 128, bytes(128, 0));
    expect(flash.weakBitCount()).toBe(0);
    expect(flash.isStable(0, 128)).toBe(true);
  });

  test("a torn erase leaves a mix or weak bits, a later erase cleans it", () => {
    const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 11 });
    flash.write(0, 512, bytes(512, 0));
    flash.schedule({ atOperation: 1, kind: "cutInside" });
    expect(() => flash.erase(0)).toThrow(PowerCut);
    flash.powerCycle();
    const image = read(flash, 0, 512);
    expect(image.every((b) => b === 0xff) && flash.weakBitCount() === 0).toBe(false);
    flash.erase(0);
    expect(read(flash, 0, 512).every((b) => b === 0xff)).toBe(true);
    expect(flash.weakBitCount()).toBe(0);
  });

  test("a lost write returns but changes nothing; a misdirected one lands elsewhere", () => {
    const flash = new NorFlash({ sectorCount: 2, blockSize: 512, seed: 5 });
    flash.schedule({ atOperation: 0, kind: "lost" });
    flash.write(0, 4, bytes(4, 0));
    expect(read(flash, 0, 4)).toEqual(bytes(4, 0xff));
    flash.schedule({ atOperation: 1, kind: "misdirect" });
    flash.write(128, 4, bytes(4, 0));
    expect(read(flash, 128, 4)).toEqual(bytes(4, 0xff));
    const image = flash.exportImage();
    expect(image.filter((b) => b === 0).length).toBe(4);
  });

  test("an I/O error throws FlashIoError and changes nothing", () => {
    const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 5 });
    flash.schedule({ atOperation: 0, kind: "ioError" });
    expect(() => flash.write(0, 4, bytes(4, 0))).toThrow(FlashIoError);
    expect(read(flash, 0, 4)).toEqual(bytes(4, 0xff));
  });

  test("bit rot flips programmed bits only, deterministically per seed", () => {
    const run = (): Uint8Array => {
      const flash = new NorFlash({ sectorCount: 1, blockSize: 512, seed: 9 });
      flash.write(0, 16, bytes(16, 0x55));
      expect(flash.rot(3)).toHaveLength(3);
      return flash.exportImage();
    };
    const a = run();
    expect(a).toEqual(run());
    expect(a.subarray(16).every((b) => b === 0xff)).toBe(true);
    expect(a.subarray(0, 16).some((b) => b !== 0x55)).toBe(true);
  });
});
