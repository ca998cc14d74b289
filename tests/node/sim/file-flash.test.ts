import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FileFlash } from "../../../hosts/sim/file-flash";
import { FlashIoError } from "../../../modules/platform/flash";

describe("FileFlash", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-flash-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a new image is erased, and a program only clears bits", () => {
    const flash = new FileFlash({ path: path.join(dir, "f.bin"), blockSize: 4096, byteLength: 8192 });
    expect(new Uint8Array(flash.read(0, 4))).toEqual(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    flash.write(10, 2, new Uint8Array([0x0f, 0xf0]));
    flash.write(10, 2, new Uint8Array([0xf3, 0x3f]));
    expect(new Uint8Array(flash.read(10, 2))).toEqual(new Uint8Array([0x03, 0x30]));
    flash.close();
  });

  test("the image survives reopening; erase restores a sector to 0xFF", () => {
    const file = path.join(dir, "f.bin");
    const first = new FileFlash({ path: file, byteLength: 8192 });
    first.write(4100, 1, new Uint8Array([0x12]));
    first.close();
    const second = new FileFlash({ path: file, byteLength: 8192 });
    expect(new Uint8Array(second.read(4100, 1))[0]).toBe(0x12);
    second.erase(1);
    expect(new Uint8Array(second.read(4100, 1))[0]).toBe(0xff);
    second.close();
  });

  test("out-of-range access and a wrong-sized image are typed errors", () => {
    const file = path.join(dir, "f.bin");
    const flash = new FileFlash({ path: file, byteLength: 8192 });
    expect(() => flash.read(8190, 4)).toThrow(FlashIoError);
    expect(() => flash.erase(2)).toThrow(FlashIoError);
    flash.close();
    expect(() => new FileFlash({ path: file, byteLength: 4096 })).toThrow("expected 4096");
  });
});
