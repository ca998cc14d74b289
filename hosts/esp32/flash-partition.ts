/**
 * The platform Flash on Moddable's `flash` module, opened on the journal's
 * dedicated data partition (partitions.csv). Raw NOR, as the interface
 * promises: erase sets 0xFF per 4 KiB sector, a write only clears bits.
 */
import Flash from "flash";
import { assertInteger } from "../../modules/base/assert";
import { FlashIoError, type Flash as PlatformFlash } from "../../modules/platform/flash";

export const JOURNAL_PARTITION = "xspos-journal";

export class FlashPartition implements PlatformFlash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly #flash: Flash;

  constructor(partition: string = JOURNAL_PARTITION) {
    this.#flash = new Flash(partition);
    this.blockSize = this.#flash.blockSize;
    this.byteLength = this.#flash.byteLength;
    assertInteger(this.blockSize, 256, 65536, "flash blockSize");
    assertInteger(this.byteLength / this.blockSize, 1, 4096, "flash sectors");
  }

  erase(sector: number): void {
    assertInteger(sector, 0, this.byteLength / this.blockSize - 1, "sector");
    this.#run("erase", sector * this.blockSize, () => this.#flash.erase(sector));
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#checkRange(offset, length);
    let bytes: ArrayBuffer | undefined;
    this.#run("read", offset, () => {
      bytes = this.#flash.read(offset, length) as ArrayBuffer;
    });
    return bytes as ArrayBuffer;
  }

  write(offset: number, length: number, bytes: Uint8Array): void {
    this.#checkRange(offset, length);
    assertInteger(length, 0, bytes.length, "length");
    this.#run("write", offset, () => this.#flash.write(offset, length, bytes));
  }

  #checkRange(offset: number, length: number): void {
    assertInteger(offset, 0, this.byteLength, "offset");
    assertInteger(length, 0, this.byteLength - offset, "length");
  }

  /** The flash module throws plain Errors (esp_partition_* failures); the core expects FlashIoError. */
  #run(operation: "erase" | "read" | "write", offset: number, action: () => void): void {
    try {
      action();
    } catch (error) {
      throw new FlashIoError(operation, offset, `flash ${operation} at ${offset} failed: ${(error as Error).message}`);
    }
  }
}
