/**
 * A run of whole sectors of a Flash, seen as a Flash of its own: the journal
 * and the terminal state record share one partition (one emulated chip in the
 * simulator, so a fault counted "at the N-th flash operation" spans both).
 */
import { assert, assertInteger } from "../base/assert";
import type { Flash } from "../platform/flash";

export class FlashRegion implements Flash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly #flash: Flash;
  readonly #firstSector: number;
  readonly #baseBytes: number;

  constructor(flash: Flash, firstSector: number, sectorCount: number) {
    const sectorsTotal = flash.byteLength / flash.blockSize;
    assertInteger(firstSector, 0, sectorsTotal - 1, "firstSector");
    assertInteger(sectorCount, 1, sectorsTotal - firstSector, "sectorCount");
    this.#flash = flash;
    this.#firstSector = firstSector;
    this.#baseBytes = firstSector * flash.blockSize;
    this.blockSize = flash.blockSize;
    this.byteLength = sectorCount * flash.blockSize;
  }

  erase(sector: number): void {
    assertInteger(sector, 0, this.byteLength / this.blockSize - 1, "sector");
    this.#flash.erase(this.#firstSector + sector);
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#check(offset, length);
    return this.#flash.read(this.#baseBytes + offset, length);
  }

  write(offset: number, length: number, bytes: Uint8Array): void {
    this.#check(offset, length);
    this.#flash.write(this.#baseBytes + offset, length, bytes);
  }

  #check(offset: number, length: number): void {
    assert(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0, "FlashRegion: bad offset or length");
    // The message is built only on failure (every journal read and write comes through here).
    if (offset + length > this.byteLength) assert(false, `FlashRegion: range ${offset}+${length} beyond ${this.byteLength}`);
  }
}
