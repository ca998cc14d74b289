import type { NorFlash } from "../../../modules/emulators/nor-flash";
import type { Flash } from "../../../modules/platform/flash";

/** Hands every operation to an emulated flash; a test double overrides only the operations it watches or breaks. */
export class ForwardingFlash implements Flash {
  constructor(readonly inner: NorFlash) {}
  get blockSize(): number {
    return this.inner.blockSize;
  }
  get byteLength(): number {
    return this.inner.byteLength;
  }
  erase(sector: number): void {
    this.inner.erase(sector);
  }
  read(offset: number, length: number): ArrayBuffer {
    return this.inner.read(offset, length);
  }
  write(offset: number, length: number, bytes: Uint8Array): void {
    this.inner.write(offset, length, bytes);
  }
}
