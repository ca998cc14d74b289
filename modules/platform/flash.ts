/**
 * NOR flash with the semantics of Moddable's `flash` module: erase sets a whole
 * sector to 0xFF; a program (write) can only clear bits (new = old AND data).
 * Reads and writes are synchronous, as on the device.
 */
export interface Flash {
  /** Erase unit in bytes (4096 on the ESP32's SPI NOR). */
  readonly blockSize: number;
  /** Size of the partition in bytes; a multiple of blockSize. */
  readonly byteLength: number;
  /** Sets every byte of sector `sector` (offset sector * blockSize) to 0xFF. */
  erase(sector: number): void;
  /** Returns a copy of `length` bytes at `offset`. */
  read(offset: number, length: number): ArrayBuffer;
  /** Programs `length` bytes of `bytes` at `offset`: each stored byte becomes old & new. */
  write(offset: number, length: number, bytes: Uint8Array): void;
}

/** Raised by a Flash implementation when the hardware reports a failure. */
export class FlashIoError extends Error {
  override readonly name = "FlashIoError";
  constructor(
    readonly operation: "erase" | "read" | "write",
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}
