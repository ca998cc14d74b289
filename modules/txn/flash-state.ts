/**
 * The terminal state record (next STAN, batch, signed on, settlement
 * progress) on its own flash region, with the journal's torn-write
 * discipline (docs/transactions.md "Terminal state on flash"):
 *
 * - an append-only log of 32-byte slots over two sectors; each save programs
 *   one slot (magic, seq, state, CRC-32) and reads it back;
 * - load takes the valid slot with the highest seq; then, before anything is
 *   believed further, it voids a torn tail (magic programmed to 0), re-programs
 *   the newest slot with what was read (pins weak zeros) and burns the first
 *   blank slot (an append cut there may read FF now and something else later);
 * - when the active sector is full the other one is erased, blank-checked and
 *   written from slot 0; the full sector keeps the newest state until then.
 * - a downloaded parameter block (docs/tms.md) rides along: it is written as
 *   parameter slots ("XSP1": seq, index, block length, 18 bytes of the block,
 *   CRC-32), then the state slot that names the set (first seq and length)
 *   commits it. A cut before that state slot leaves the previous state and
 *   its block. The set is written again only when it changes, and first in a
 *   fresh sector, so the sector of the newest state always holds its block.
 *   Every slot takes a seq, and load resumes after the highest seq of any
 *   slot, so an uncommitted set's seqs are never reused.
 */
import { assert } from "../base/assert";
import { crc32 } from "../base/crc32";
import type { Flash } from "../platform/flash";
import { STATE_PARAMETER_BYTES_MAX, type SettlementProgress, type TerminalState, type TerminalStateStore } from "./ports";

const SLOT_BYTES = 32;
const MAGIC = Object.freeze([0x58, 0x53, 0x54, 0x31]); // "XST1"
const CRC_OFFSET = 28;
const WRITE_TRIES = 3;
const FLAG_SIGNED_ON = 1;
const FLAG_SETTLEMENT = 2;
const FLAG_PHASE_END = 4;
const FLAG_PARAMETERS = 8;
const PARAMETER_MAGIC = Object.freeze([0x58, 0x53, 0x50, 0x31]); // "XSP1"
/** Block bytes per parameter slot: bytes 10..27. */
const PARAMETER_SLOT_BYTES = 18;
const STAN_MAX = 999_999;
const UPLOAD_INDEX_MAX = 0xffff;

/** The state region does not keep what is written (a failing chip): the terminal must stop. */
export class StateWriteError extends Error {
  override readonly name = "StateWriteError";
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export class FlashStateStore implements TerminalStateStore {
  readonly #flash: Flash;
  readonly #slotsPerSector: number;
  readonly #slot = new Uint8Array(SLOT_BYTES);
  readonly #zero = new Uint8Array(4);
  #loaded = false;
  #seq = 0;
  /** Where the next slot goes; sector -1: nothing valid yet (the next save erases sector 0). */
  #sector = -1;
  #next = 0;
  /** The parameter block the newest state names, and where its set starts (undefined: none). */
  #set: { readonly block: Uint8Array; readonly firstSeq: number } | undefined;

  constructor(flash: Flash) {
    assert(flash.byteLength === 2 * flash.blockSize, "FlashStateStore: the region is two sectors");
    assert(flash.blockSize % SLOT_BYTES === 0, "FlashStateStore: sectors hold whole slots");
    this.#flash = flash;
    this.#slotsPerSector = flash.blockSize / SLOT_BYTES;
  }

  /** Recovery, then the newest state (undefined on a blank region). Writes to flash (heal, void, burn). */
  load(): TerminalState | undefined {
    let newest: { sector: number; slot: number; seq: number; state: TerminalState; set?: ParameterSetRef } | undefined;
    const lastUsed = [-1, -1];
    const images: Uint8Array[] = [];
    let seqMax = 0;
    for (let sector = 0; sector < 2; sector++) {
      const image = new Uint8Array(this.#flash.read(sector * this.#flash.blockSize, this.#flash.blockSize));
      images.push(image);
      for (let slot = 0; slot < this.#slotsPerSector; slot++) {
        const at = slot * SLOT_BYTES;
        if (!isBlank(image, at)) lastUsed[sector] = slot;
        const parameterSeq = parameterSlotSeq(image, at);
        if (parameterSeq !== undefined) seqMax = Math.max(seqMax, parameterSeq);
        const decoded = decodeSlot(image, at);
        if (decoded === undefined) continue;
        seqMax = Math.max(seqMax, decoded.seq);
        if (newest === undefined || decoded.seq > newest.seq) newest = { sector, slot, ...decoded };
      }
    }
    this.#loaded = true;
    if (newest === undefined) return undefined;
    this.#seq = seqMax;
    this.#sector = newest.sector;
    const tail = lastUsed[newest.sector];
    const base = newest.sector * this.#flash.blockSize;
    if (tail > newest.slot && !isVoid(images[newest.sector], tail * SLOT_BYTES)) this.#flash.write(base + tail * SLOT_BYTES, 4, this.#zero);
    this.#flash.write(base + newest.slot * SLOT_BYTES, SLOT_BYTES, images[newest.sector].subarray(newest.slot * SLOT_BYTES));
    let state = newest.state;
    this.#set = undefined;
    if (newest.set !== undefined) {
      // Written before the state slot that names it, in the same sector: pinned like the state slot.
      const block = readSet(this.#flash, images[newest.sector], base, newest.set);
      if (block !== undefined) {
        state = { ...state, parameters: block };
        this.#set = { block, firstSeq: newest.set.firstSeq };
      }
    }
    this.#next = tail + 1;
    if (this.#next < this.#slotsPerSector) this.#flash.write(base + this.#next++ * SLOT_BYTES, 4, this.#zero);
    return state;
  }

  /** Durable when it returns. */
  save(state: TerminalState): void {
    assert(this.#loaded, "FlashStateStore.save before load");
    const block = state.parameters;
    assert(block === undefined || (block.length >= 1 && block.length <= STATE_PARAMETER_BYTES_MAX), "parameter block of 1..128 bytes");
    const changed = block !== undefined && (this.#set === undefined || !sameBlock(block, this.#set.block));
    const setSlots = block === undefined ? 0 : parameterSlots(block.length);
    // A set and its state go to one sector: when they do not fit, a fresh sector takes the set again, then the state.
    for (let round = 0; round < 2; round++) {
      if (this.#sector < 0 || this.#next + (changed ? setSlots : 0) + 1 > this.#slotsPerSector || round > 0) this.#switchSector();
      const writeSet = block !== undefined && (changed || this.#next === 0);
      const firstSeq = writeSet ? this.#seq + 1 : (this.#set?.firstSeq ?? 0);
      const count = (writeSet ? setSlots : 0) + 1;
      // Each slot is programmed and read back; one that does not read back is voided and the next place tried.
      let done = 0;
      let failures = 0;
      while (done < count && this.#next < this.#slotsPerSector) {
        if (done < count - 1) parameterSlot(block!, firstSeq, done, this.#slot);
        else encodeSlot(state, this.#seq + 1, this.#slot, block === undefined ? undefined : { firstSeq, length: block.length });
        const offset = this.#sector * this.#flash.blockSize + this.#next++ * SLOT_BYTES;
        this.#flash.write(offset, SLOT_BYTES, this.#slot);
        if (sameBytes(new Uint8Array(this.#flash.read(offset, SLOT_BYTES)), this.#slot)) {
          this.#seq++;
          done++;
          continue;
        }
        this.#flash.write(offset, 4, this.#zero);
        if (++failures >= WRITE_TRIES) break;
      }
      if (failures >= WRITE_TRIES) break;
      if (done < count) continue; // the sector ran out of room: a fresh one
      this.#set = block === undefined ? undefined : { block: block.slice(), firstSeq };
      return;
    }
    throw new StateWriteError(this.#sector * this.#flash.blockSize, "the terminal state region does not keep what is written");
  }

  #switchSector(): void {
    const target = this.#sector < 0 ? 0 : 1 - this.#sector;
    for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
      this.#flash.erase(target);
      if (isAllFf(new Uint8Array(this.#flash.read(target * this.#flash.blockSize, this.#flash.blockSize)))) {
        this.#sector = target;
        this.#next = 0;
        return;
      }
    }
    throw new StateWriteError(target * this.#flash.blockSize, `state sector ${target} does not erase`);
  }
}

/** Where a state's parameter set is: its first slot's seq and the block's length. */
interface ParameterSetRef {
  readonly firstSeq: number;
  readonly length: number;
}

function parameterSlots(blockBytes: number): number {
  return Math.ceil(blockBytes / PARAMETER_SLOT_BYTES);
}

function sameBlock(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sameBytes(a, b);
}

/** The seq of a valid parameter slot at `at`, else undefined. */
function parameterSlotSeq(image: Uint8Array, at: number): number | undefined {
  for (let i = 0; i < 4; i++) if (image[at + i] !== PARAMETER_MAGIC[i]) return undefined;
  if (readU32(image, at + CRC_OFFSET) !== crc32(image, at, at + CRC_OFFSET)) return undefined;
  return readU32(image, at + 4);
}

/**
 * The set's block from `image` (re-programming its slots, as load does the newest state slot), or undefined
 * when a slot is missing (a damaged sector: the provisioned parameters apply). Module functions, not methods,
 * for the set: XS gives every instance a slot per private method.
 */
function readSet(flash: Flash, image: Uint8Array, base: number, set: ParameterSetRef): Uint8Array | undefined {
  const count = parameterSlots(set.length);
  const block = new Uint8Array(set.length);
  const found: number[] = [];
  for (let slot = 0; slot < image.length / SLOT_BYTES && found.length < count; slot++) {
    const at = slot * SLOT_BYTES;
    const seq = parameterSlotSeq(image, at);
    if (seq === undefined || seq < set.firstSeq || seq >= set.firstSeq + count) continue;
    const index = seq - set.firstSeq;
    if (image[at + 8] !== index || image[at + 9] !== set.length) continue;
    const start = index * PARAMETER_SLOT_BYTES;
    block.set(image.subarray(at + 10, at + 10 + Math.min(PARAMETER_SLOT_BYTES, set.length - start)), start);
    found.push(slot);
  }
  if (found.length !== count) return undefined;
  for (const slot of found) flash.write(base + slot * SLOT_BYTES, SLOT_BYTES, image.subarray(slot * SLOT_BYTES));
  return block;
}

/** Parameter slot `index` of `block` (seq firstSeq + index) into `out`. */
function parameterSlot(block: Uint8Array, firstSeq: number, index: number, out: Uint8Array): void {
  out.fill(0xff);
  out.set(PARAMETER_MAGIC, 0);
  writeU32(out, 4, firstSeq + index);
  out[8] = index;
  out[9] = block.length;
  const start = index * PARAMETER_SLOT_BYTES;
  out.set(block.subarray(start, Math.min(start + PARAMETER_SLOT_BYTES, block.length)), 10);
  writeU32(out, CRC_OFFSET, crc32(out, 0, CRC_OFFSET));
}

function encodeSlot(state: TerminalState, seq: number, out: Uint8Array, set: ParameterSetRef | undefined): void {
  assert(Number.isInteger(state.stanNext) && state.stanNext >= 1 && state.stanNext <= STAN_MAX, "stanNext out of range");
  out.fill(0xff);
  out.set(MAGIC, 0);
  writeU32(out, 4, seq);
  writeU32(out, 8, state.stanNext);
  writeBcd6(out, 12, state.batch);
  const settlement = state.settlement;
  out[15] =
    (state.signedOn ? FLAG_SIGNED_ON : 0) |
    (settlement !== undefined ? FLAG_SETTLEMENT : 0) |
    (settlement?.phase === "end" ? FLAG_PHASE_END : 0) |
    (set !== undefined ? FLAG_PARAMETERS : 0);
  if (settlement !== undefined) {
    assert(Number.isInteger(settlement.next) && settlement.next >= 0 && settlement.next <= UPLOAD_INDEX_MAX, "upload index out of range");
    writeBcd6(out, 16, settlement.batch);
    out[19] = settlement.next & 0xff;
    out[20] = settlement.next >>> 8;
  }
  if (set !== undefined) {
    writeU32(out, 21, set.firstSeq);
    out[25] = set.length;
  }
  writeU32(out, CRC_OFFSET, crc32(out, 0, CRC_OFFSET));
}

function decodeSlot(image: Uint8Array, at: number): { seq: number; state: TerminalState; set?: ParameterSetRef } | undefined {
  for (let i = 0; i < 4; i++) if (image[at + i] !== MAGIC[i]) return undefined;
  if (readU32(image, at + CRC_OFFSET) !== crc32(image, at, at + CRC_OFFSET)) return undefined;
  const flags = image[at + 15];
  const batch = readBcd6(image, at + 12);
  const stanNext = readU32(image, at + 8);
  if (batch === undefined || stanNext < 1 || stanNext > STAN_MAX) return undefined;
  let settlement: SettlementProgress | undefined;
  if ((flags & FLAG_SETTLEMENT) !== 0) {
    const settlementBatch = readBcd6(image, at + 16);
    if (settlementBatch === undefined) return undefined;
    settlement = {
      batch: settlementBatch,
      phase: (flags & FLAG_PHASE_END) !== 0 ? "end" : "upload",
      next: image[at + 19] | (image[at + 20] << 8),
    };
  }
  const state: TerminalState = { stanNext, batch, signedOn: (flags & FLAG_SIGNED_ON) !== 0, ...(settlement ? { settlement } : {}) };
  const seq = readU32(image, at + 4);
  if ((flags & FLAG_PARAMETERS) === 0) return { seq, state };
  const set = { firstSeq: readU32(image, at + 21), length: image[at + 25] };
  if (set.length < 1 || set.length > STATE_PARAMETER_BYTES_MAX || set.firstSeq + parameterSlots(set.length) > seq) return undefined;
  return { seq, state, set };
}

function isBlank(image: Uint8Array, at: number): boolean {
  for (let i = at; i < at + SLOT_BYTES; i++) if (image[i] !== 0xff) return false;
  return true;
}

function isVoid(image: Uint8Array, at: number): boolean {
  return image[at] === 0 && image[at + 1] === 0 && image[at + 2] === 0 && image[at + 3] === 0;
}

function isAllFf(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0xff) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function writeBcd6(bytes: Uint8Array, at: number, digits: string): void {
  assert(/^[0-9]{6}$/.test(digits), "a batch number is 6 digits");
  for (let i = 0; i < 3; i++) bytes[at + i] = (Number(digits[2 * i]) << 4) | Number(digits[2 * i + 1]);
}

function readBcd6(bytes: Uint8Array, at: number): string | undefined {
  let out = "";
  for (let i = 0; i < 3; i++) {
    const high = bytes[at + i] >> 4;
    const low = bytes[at + i] & 0xf;
    if (high > 9 || low > 9) return undefined;
    out += String(high) + String(low);
  }
  return out;
}
