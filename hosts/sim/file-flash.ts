/**
 * The platform Flash on a file, with NOR semantics: erase sets a sector to
 * 0xFF, a program can only clear bits. The simulator keeps the terminal's
 * journal in ./var/flash.bin so it survives restarts, like the device's partition.
 */
import fs from "node:fs";
import path from "node:path";
import { FlashIoError, type Flash } from "../../modules/platform/flash";

export interface FileFlashOptions {
  readonly path: string;
  readonly blockSize?: number;
  readonly byteLength?: number;
}

export class FileFlash implements Flash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly #fd: number;

  constructor(options: FileFlashOptions) {
    this.blockSize = options.blockSize ?? 4096;
    this.byteLength = options.byteLength ?? 64 * 1024;
    if (this.byteLength % this.blockSize !== 0) throw new RangeError("flash byteLength must be a multiple of blockSize");
    fs.mkdirSync(path.dirname(options.path), { recursive: true });
    if (!fs.existsSync(options.path)) fs.writeFileSync(options.path, Buffer.alloc(this.byteLength, 0xff));
    const size = fs.statSync(options.path).size;
    if (size !== this.byteLength)
      throw new FlashIoError("read", 0, `flash image ${options.path} is ${size} bytes, expected ${this.byteLength}`);
    this.#fd = fs.openSync(options.path, "r+");
  }

  #check(operation: "erase" | "read" | "write", offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.byteLength) {
      throw new FlashIoError(operation, offset, `${operation} of ${length} bytes at ${offset} is outside the partition`);
    }
  }

  erase(sector: number): void {
    this.#check("erase", sector * this.blockSize, this.blockSize);
    fs.writeSync(this.#fd, Buffer.alloc(this.blockSize, 0xff), 0, this.blockSize, sector * this.blockSize);
    fs.fsyncSync(this.#fd);
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#check("read", offset, length);
    const out = new Uint8Array(length);
    fs.readSync(this.#fd, out, 0, length, offset);
    return out.buffer;
  }

  write(offset: number, length: number, bytes: Uint8Array): void {
    this.#check("write", offset, length);
    if (bytes.length < length) throw new FlashIoError("write", offset, `write of ${length} bytes given only ${bytes.length}`);
    const current = new Uint8Array(this.read(offset, length));
    for (let i = 0; i < length; i++) current[i] &= bytes[i];
    fs.writeSync(this.#fd, current, 0, length, offset);
    fs.fsyncSync(this.#fd);
  }

  close(): void {
    fs.closeSync(this.#fd);
  }
}
