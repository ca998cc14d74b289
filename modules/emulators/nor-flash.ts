/**
 * An emulated SPI NOR partition (the `Flash` of modules/platform/flash.ts) with
 * the faults real chips show under power loss, for the journal's tests and
 * torture runs (docs/journal-format.md §1). Not part of the device build.
 *
 * - Erase sets a sector to FF; a program ANDs bytes in. Programming a 0 back to
 *   1 is a bug in the caller: it fails with AssertionError.
 * - One fault can be scheduled at a mutating operation (erase or write, counted
 *   from 0 since construction): power cut before, after or inside it (a byte
 *   prefix plus one torn byte, or a random subset of the bits being cleared),
 *   a torn erase, a lost or misdirected write, or an I/O error. Bits caught by
 *   a cut are weak: they read as a fresh random value after every power cycle
 *   until they are programmed to 0 or erased.
 * - `rot` flips bits at rest. Everything is drawn from one seeded generator,
 *   so a seed replays a run exactly.
 */
import { assert, assertInteger } from "../base/assert";
import { type Flash, FlashIoError } from "../platform/flash";
import { SeededRandom } from "../platform/random";

export type FlashFaultKind = "cutBefore" | "cutAfter" | "cutInside" | "tornBits" | "lost" | "misdirect" | "ioError";

export interface ScheduledFault {
  /** Index of the mutating operation (erase or write) the fault hits. */
  readonly atOperation: number;
  readonly kind: FlashFaultKind;
}

/** What a scheduled fault did, for reports and replays. */
export interface FiredFault {
  readonly kind: FlashFaultKind;
  readonly operation: "erase" | "write";
  readonly operationIndex: number;
  readonly offset: number;
  readonly length: number;
}

/** Thrown by every call from the cut until the next `powerCycle()`. */
export class PowerCut extends Error {
  override readonly name = "PowerCut";
}

export interface NorFlashOptions {
  readonly sectorCount: number;
  /** Erase unit; 4096 as on the ESP32, smaller in tests for GC pressure. */
  readonly blockSize?: number;
  readonly seed: number;
  /** Initial contents (e.g. ./var/flash.bin); length must be sectorCount * blockSize. */
  readonly image?: Uint8Array;
}

export interface FlashStats {
  erases: number;
  writes: number;
  bytesWritten: number;
  reads: number;
  bytesRead: number;
}

const SECTORS_MAX = 256;
/** Misdirected writes land on a different slot-aligned address (journal slots are 128 bytes). */
const MISDIRECT_ALIGN_BYTES = 128;
/** Probability that a bit caught by a cut is left weak rather than settled. */
const WEAK_PROBABILITY = 0.35;

export class NorFlash implements Flash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly stats: FlashStats = { erases: 0, writes: 0, bytesWritten: 0, reads: 0, bytesRead: 0 };
  readonly #image: Uint8Array<ArrayBuffer>;
  /** Per byte, the bits that are metastable. */
  readonly #weak: Uint8Array;
  /** Offsets of bytes with weak bits, so a power cycle re-samples only those. */
  readonly #weakOffsets = new Set<number>();
  readonly #eraseCounts: Uint32Array;
  readonly #random: SeededRandom;
  #operations = 0;
  #powered = true;
  #fault: ScheduledFault | undefined;
  #fired: FiredFault | undefined;

  constructor(options: NorFlashOptions) {
    const blockSize = options.blockSize ?? 4096;
    assertInteger(options.sectorCount, 1, SECTORS_MAX, "sectorCount");
    assertInteger(blockSize, MISDIRECT_ALIGN_BYTES, 65536, "blockSize");
    assert(blockSize % MISDIRECT_ALIGN_BYTES === 0, "blockSize must be a multiple of 128");
    this.blockSize = blockSize;
    this.byteLength = options.sectorCount * blockSize;
    this.#random = new SeededRandom(options.seed);
    this.#image = new Uint8Array(this.byteLength).fill(0xff);
    if (options.image !== undefined) {
      assert(options.image.length === this.byteLength, "image length must be sectorCount * blockSize");
      this.#image.set(options.image);
    }
    this.#weak = new Uint8Array(this.byteLength);
    this.#eraseCounts = new Uint32Array(options.sectorCount);
  }

  get sectorCount(): number {
    return this.#eraseCounts.length;
  }

  /** Mutating operations (erase + write) issued so far, including faulted ones. */
  get operations(): number {
    return this.#operations;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** The fault that fired since it was scheduled, if any. */
  get fired(): FiredFault | undefined {
    return this.#fired;
  }

  /** Arms one fault (replacing any armed one); `undefined` disarms. */
  schedule(fault: ScheduledFault | undefined): void {
    if (fault !== undefined) assertInteger(fault.atOperation, this.#operations, Number.MAX_SAFE_INTEGER, "atOperation");
    this.#fault = fault;
    this.#fired = undefined;
  }

  /** Power comes back: every weak bit reads as a fresh random value. */
  powerCycle(): void {
    this.#powered = true;
    for (const offset of this.#weakOffsets) {
      const weak = this.#weak[offset];
      this.#image[offset] = (this.#image[offset] & ~weak) | (this.#random.nextUint32() & weak);
    }
  }

  /** Simulates a cut between operations (nothing in flight). */
  cutPower(): void {
    this.#powered = false;
  }

  weakBitCount(): number {
    let count = 0;
    for (const offset of this.#weakOffsets) count += popcount(this.#weak[offset]);
    return count;
  }

  /** True when no byte of `[offset, offset + length)` has a weak bit. */
  isStable(offset: number, length: number): boolean {
    for (let i = offset; i < offset + length; i++) if (this.#weak[i] !== 0) return false;
    return true;
  }

  /** Flips `bits` random bits among the programmed (non-FF) bytes; returns the offsets hit. */
  rot(bits: number): number[] {
    assertInteger(bits, 0, 1024, "bits");
    const hit: number[] = [];
    for (let n = 0; n < bits; n++) {
      for (let tries = 0; tries < 64; tries++) {
        const offset = this.#random.below(this.byteLength);
        if (this.#image[offset] === 0xff) continue;
        this.#image[offset] ^= 1 << this.#random.below(8);
        hit.push(offset);
        break;
      }
    }
    return hit;
  }

  eraseCounts(): readonly number[] {
    return Array.from(this.#eraseCounts);
  }

  exportImage(): Uint8Array {
    return this.#image.slice();
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#checkPower();
    this.#checkRange(offset, length);
    this.stats.reads++;
    this.stats.bytesRead += length;
    // The image owns its whole buffer (byteOffset 0): one copy, no view in between.
    return this.#image.buffer.slice(offset, offset + length);
  }

  erase(sector: number): void {
    this.#checkPower();
    assertInteger(sector, 0, this.sectorCount - 1, "sector");
    const offset = sector * this.blockSize;
    const fault = this.#take("erase", offset, this.blockSize);
    if (fault === "ioError") throw new FlashIoError("erase", offset, "erase failed");
    if (fault === "cutBefore") this.#cut();
    this.stats.erases++;
    this.#eraseCounts[sector]++;
    // A misdirected erase is modelled as lost: the wrong sector is not touched.
    if (fault === "lost" || fault === "misdirect") return;
    if (fault === "cutInside" || fault === "tornBits") {
      this.#tornErase(offset);
      this.#cut();
    }
    this.#image.fill(0xff, offset, offset + this.blockSize);
    this.#clearWeak(offset, this.blockSize);
    if (fault === "cutAfter") this.#cut();
  }

  write(offset: number, length: number, bytes: Uint8Array): void {
    this.#checkPower();
    this.#checkRange(offset, length);
    assert(bytes.length >= length, "write: buffer shorter than length");
    const fault = this.#take("write", offset, length);
    if (fault === "ioError") throw new FlashIoError("write", offset, "write failed");
    if (fault === "cutBefore") this.#cut();
    for (let i = 0; i < length; i++) {
      // The message is built only on failure: this loop runs for every byte the journal writes.
      if ((~this.#image[offset + i] & bytes[i] & 0xff) !== 0) assert(false, `programmed a 0 back to 1 at offset ${offset + i}`);
    }
    this.stats.writes++;
    this.stats.bytesWritten += length;
    if (fault === "lost") return;
    if (fault === "misdirect") {
      this.#program(this.#misdirectTarget(offset, length), length, bytes, length);
      return;
    }
    if (fault === "cutInside") {
      // Byte-granular: a prefix programmed, one byte torn, the rest untouched.
      const torn = this.#random.below(length);
      this.#program(offset, torn, bytes, torn);
      this.#tearByte(offset + torn, bytes[torn]);
      this.#cut();
    }
    if (fault === "tornBits") {
      // Bits programmed in no particular order: each bit being cleared lands, stays or goes weak.
      for (let i = 0; i < length; i++) this.#tearByte(offset + i, bytes[i]);
      this.#cut();
    }
    this.#program(offset, length, bytes, length);
    if (fault === "cutAfter") this.#cut();
  }

  #program(offset: number, length: number, bytes: Uint8Array, count: number): void {
    for (let i = 0; i < count && i < length; i++) {
      const at = offset + i;
      this.#image[at] &= bytes[i];
      // A bit programmed to 0 is solid from now on.
      const weak = this.#weak[at] & bytes[i];
      if (weak !== this.#weak[at]) this.#setWeak(at, weak);
    }
  }

  #tearByte(at: number, data: number): void {
    const clearing = this.#image[at] & ~data & 0xff;
    let landed = 0;
    let weak = 0;
    for (let bit = 1; bit < 0x100; bit <<= 1) {
      if ((clearing & bit) === 0) continue;
      const draw = this.#random.nextUint32() / 2 ** 32;
      if (draw < 0.4) landed |= bit;
      else if (draw < 0.4 + WEAK_PROBABILITY) weak |= bit;
    }
    this.#image[at] &= ~landed & 0xff;
    this.#setWeak(at, (this.#weak[at] & ~landed) | weak);
  }

  #tornErase(offset: number): void {
    // Either a random 0/1 mix, or all FF with weak bits where zeros were: both happen on real parts.
    const readsErased = this.#random.chance(0.5);
    for (let i = offset; i < offset + this.blockSize; i++) {
      const zeros = ~this.#image[i] & 0xff;
      if (zeros === 0) continue;
      const mask = this.#random.nextUint32() & zeros;
      this.#image[i] = readsErased ? 0xff : this.#image[i] | mask;
      this.#setWeak(i, this.#weak[i] | (readsErased ? mask : zeros & ~mask & (this.#random.nextUint32() & 0xff)));
    }
  }

  #misdirectTarget(offset: number, length: number): number {
    const slots = this.byteLength / MISDIRECT_ALIGN_BYTES;
    for (let tries = 0; tries < 16; tries++) {
      const shift = (1 + this.#random.below(slots - 1)) * MISDIRECT_ALIGN_BYTES;
      const target = (offset + shift) % this.byteLength;
      if (target + length <= this.byteLength) return target;
    }
    return offset < MISDIRECT_ALIGN_BYTES ? offset : offset % MISDIRECT_ALIGN_BYTES;
  }

  #setWeak(at: number, weak: number): void {
    this.#weak[at] = weak;
    if (weak === 0) this.#weakOffsets.delete(at);
    else this.#weakOffsets.add(at);
  }

  #clearWeak(offset: number, length: number): void {
    for (const at of this.#weakOffsets) {
      if (at >= offset && at < offset + length) {
        this.#weak[at] = 0;
        this.#weakOffsets.delete(at);
      }
    }
  }

  #take(operation: "erase" | "write", offset: number, length: number): FlashFaultKind | undefined {
    const index = this.#operations++;
    const fault = this.#fault;
    if (fault === undefined || fault.atOperation !== index) return undefined;
    this.#fault = undefined;
    this.#fired = { kind: fault.kind, operation, operationIndex: index, offset, length };
    return fault.kind;
  }

  #cut(): never {
    this.#powered = false;
    throw new PowerCut("power cut");
  }

  #checkPower(): void {
    if (!this.#powered) throw new PowerCut("flash unpowered");
  }

  #checkRange(offset: number, length: number): void {
    assert(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0, "flash: bad offset or length");
    if (offset + length > this.byteLength) assert(false, `flash: range ${offset}+${length} beyond ${this.byteLength}`);
  }
}

function popcount(byte: number): number {
  let count = 0;
  for (let b = byte; b !== 0; b &= b - 1) count++;
  return count;
}
