/**
 * The platform Flash of the Linux terminal: the journal partition as a file
 * with NOR semantics, every operation durable before it returns
 * (file-flash.c). Same geometry as the ESP32's journal partition
 * (partitions.csv → the build's config). `cutAtOperation` k > 0 cuts the
 * power inside the k-th erase or program (the kill soak).
 */
import { assertInteger } from "../../modules/base/assert";
import { FlashIoError, type Flash } from "../../modules/platform/flash";

export interface FileFlashOptions {
  readonly path: string;
  readonly byteLength: number;
  readonly blockSize: number;
  /** 0: never. */
  readonly cutAtOperation?: number;
}

class NativeFileFlash extends Native("xs_xspos_file_flash_destructor") {
  constructor(path: string, byteLength: number, blockSize: number, cutAtOperation: number) {
    super();
    native("xs_xspos_file_flash").call(this, path, byteLength, blockSize, cutAtOperation);
  }
  erase(sector: number): void {
    native("xs_xspos_file_flash_erase").call(this, sector);
  }
  read(offset: number, length: number): ArrayBuffer {
    return native("xs_xspos_file_flash_read").call(this, offset, length) as ArrayBuffer;
  }
  write(offset: number, length: number, bytes: Uint8Array): void {
    native("xs_xspos_file_flash_write").call(this, offset, length, bytes);
  }
  get operations(): number {
    return native("xs_xspos_file_flash_get_operations").call(this) as number;
  }
  cutAfter(count: number): void {
    native("xs_xspos_file_flash_cut_after").call(this, count);
  }
}

export class FileFlash implements Flash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly #native: NativeFileFlash;

  constructor(options: FileFlashOptions) {
    assertInteger(options.blockSize, 256, 65536, "flash blockSize");
    assertInteger(options.byteLength / options.blockSize, 1, 4096, "flash sectors");
    assertInteger(options.cutAtOperation ?? 0, 0, 2 ** 31 - 1, "cutAtOperation");
    this.blockSize = options.blockSize;
    this.byteLength = options.byteLength;
    this.#native = new NativeFileFlash(options.path, options.byteLength, options.blockSize, options.cutAtOperation ?? 0);
  }

  /** Erases and programs so far in this process. */
  get operations(): number {
    return this.#native.operations;
  }

  /** Cuts the power inside the `count`-th erase or program from now. */
  cutAfter(count: number): void {
    assertInteger(count, 1, 1_000_000, "cut after flash operations");
    this.#native.cutAfter(count);
  }

  erase(sector: number): void {
    assertInteger(sector, 0, this.byteLength / this.blockSize - 1, "sector");
    this.#run("erase", sector * this.blockSize, () => this.#native.erase(sector));
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#checkRange(offset, length);
    let bytes: ArrayBuffer | undefined;
    this.#run("read", offset, () => {
      bytes = this.#native.read(offset, length);
    });
    return bytes as ArrayBuffer;
  }

  write(offset: number, length: number, bytes: Uint8Array): void {
    this.#checkRange(offset, length);
    assertInteger(length, 0, bytes.length, "length");
    this.#run("write", offset, () => this.#native.write(offset, length, bytes));
  }

  #checkRange(offset: number, length: number): void {
    assertInteger(offset, 0, this.byteLength, "offset");
    assertInteger(length, 0, this.byteLength - offset, "length");
  }

  /** The file's errors arrive as plain Errors; the core expects FlashIoError. */
  #run(operation: "erase" | "read" | "write", offset: number, action: () => void): void {
    try {
      action();
    } catch (error) {
      throw new FlashIoError(operation, offset, `flash ${operation} at ${offset} failed: ${(error as Error).message}`);
    }
  }
}
