/**
 * DES (FIPS 46-3) and Triple DES EDE (2-key and 3-key), table-driven on 32-bit
 * halves. The S-boxes and the P permutation are merged at load into one
 * frozen SP table (8 boxes x 64 entries); the initial and final permutations
 * are the classic five bit-swap steps. A block costs 16 rounds of 8 table
 * look-ups and allocates nothing: each cipher owns its key schedules and a
 * two-word scratch (at the end of its encryption schedule's array).
 */
import { assert } from "../base/assert";
import type { BlockCipher } from "./block-cipher";
import { CryptoInputError } from "./errors";

// prettier-ignore
const S_BOXES: readonly (readonly number[])[] = Object.freeze([
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
    4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
    0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
    13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
    10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
    4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
    9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
    1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
    7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
].map((box) => Object.freeze(box)));

// prettier-ignore
const P = Object.freeze([16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25]);

// prettier-ignore
const PC1 = Object.freeze([
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
]);

// prettier-ignore
const PC2 = Object.freeze([
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
]);

const SHIFTS = Object.freeze([1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1]);

/** SP[box * 64 + six bits] = P(S-box output placed at the box's nibble), as a signed 32-bit integer. */
function buildSpTable(): readonly number[] {
  const table: number[] = [];
  for (let box = 0; box < 8; box++) {
    for (let six = 0; six < 64; six++) {
      const row = ((six >> 4) & 2) | (six & 1);
      const column = (six >> 1) & 15;
      const beforeP = S_BOXES[box][row * 16 + column] << (28 - 4 * box);
      let out = 0;
      for (let k = 0; k < 32; k++) out |= ((beforeP >>> (32 - P[k])) & 1) << (31 - k);
      table.push(out | 0);
    }
  }
  return Object.freeze(table);
}

const SP = buildSpTable();

/** Words per DES key schedule: 16 rounds x (even-box subkey word, odd-box subkey word). */
const SCHEDULE_WORDS = 32;

/**
 * One round's two subkey words from the rotated 28-bit halves C and D: the
 * 6-bit groups of boxes 1,3,5,7 (and 2,4,6,8) at bit offsets 26, 18, 10, 2,
 * lined up with the expansion the round function makes by rotation. PC2's
 * first 24 positions all pick from C and the last 24 from D. Bit by bit: it
 * only builds the tables below, at load.
 */
function subkeyWord(c: number, d: number, odd: number): number {
  let fromC = 0;
  let fromD = 0;
  for (let k = 0; k < 24; k++) {
    fromC = (fromC << 1) | ((c >> (28 - PC2[k])) & 1);
    fromD = (fromD << 1) | ((d >> (56 - PC2[k + 24])) & 1);
  }
  // Groups 1-4 are fromC's four 6-bit fields, groups 5-8 fromD's.
  if (odd === 0)
    return (((fromC >> 18) & 63) << 26) | (((fromC >> 6) & 63) << 18) | (((fromD >> 18) & 63) << 10) | (((fromD >> 6) & 63) << 2);
  return (((fromC >> 12) & 63) << 26) | ((fromC & 63) << 18) | (((fromD >> 12) & 63) << 10) | ((fromD & 63) << 2);
}

/** Nibbles in a 28-bit key half. */
const HALF_NIBBLES = 7;

/**
 * PC2 by nibble: PC2_NIBBLES[((half * 2 + odd) * 7 + nibble) * 16 + value] is
 * what that nibble of C (half 0) or D (half 1), counted from the top, puts in
 * the round's even (odd 0) or odd subkey word. A round's words are the OR of
 * 14 look-ups each, instead of 48 single-bit moves (448 entries, fewer than SP).
 */
function buildPc2Nibbles(): readonly number[] {
  const table: number[] = [];
  for (let half = 0; half < 2; half++)
    for (let odd = 0; odd < 2; odd++) {
      // Each bit of the half alone, then every nibble value as the OR of its bits (112 subkeyWord calls, not 448).
      const byBit: number[] = [];
      for (let bit = 0; bit < 28; bit++) byBit.push(half === 0 ? subkeyWord(1 << bit, 0, odd) : subkeyWord(0, 1 << bit, odd));
      for (let nibble = 0; nibble < HALF_NIBBLES; nibble++)
        for (let value = 0; value < 16; value++) {
          let word = 0;
          for (let b = 0; b < 4; b++) if ((value >> b) & 1) word |= byBit[24 - 4 * nibble + b];
          table.push(word);
        }
    }
  return Object.freeze(table);
}

const PC2_NIBBLES = buildPc2Nibbles();
/** Offsets of the four parts of PC2_NIBBLES: C even, C odd, D even, D odd. */
const PC2_C_EVEN = 0;
const PC2_C_ODD = HALF_NIBBLES * 16;
const PC2_D_EVEN = 2 * HALF_NIBBLES * 16;
const PC2_D_ODD = 3 * HALF_NIBBLES * 16;

/**
 * The tables a cipher reads for each block (SP) and each key (PC1, SHIFTS,
 * PC2_NIBBLES): by default the frozen module tables (on the device they stay
 * in flash, preloaded). V8 reads a frozen Array several times slower than a
 * typed array (a 3DES block 3.7 µs instead of 0.6 µs on Node 20), so a host
 * on V8 (simulators, chaos) hands each cipher typed copies from `desTables()`
 * through `typedSoftwareCiphers()` (ciphers.ts).
 */
export interface DesTables {
  readonly sp: ArrayLike<number>;
  readonly pc1: ArrayLike<number>;
  readonly shifts: ArrayLike<number>;
  readonly pc2: ArrayLike<number>;
}

const FROZEN_TABLES: DesTables = Object.freeze({ sp: SP, pc1: PC1, shifts: SHIFTS, pc2: PC2_NIBBLES });

/** Typed copies of the tables, made at each call (the caller keeps them: once per host is enough). */
export function desTables(): DesTables {
  return { sp: Int32Array.from(SP), pc1: Int32Array.from(PC1), shifts: Int32Array.from(SHIFTS), pc2: Int32Array.from(PC2_NIBBLES) };
}

/**
 * Fills `out[offset, +32)` with the encryption-order round subkeys of the
 * 8-byte DES key at `key[keyOffset]` (words as `subkeyWord` makes them, through
 * PC2_NIBBLES). No closures, no allocation: a terminal makes ciphers at every
 * boot and sign-on, the simulators at every one of theirs.
 */
function desSchedule(key: Uint8Array, keyOffset: number, out: Int32Array, offset: number, tables: DesTables): void {
  const pc1 = tables.pc1;
  let c = 0;
  let d = 0;
  for (let i = 0; i < 28; i++) {
    const ci = pc1[i] - 1;
    const di = pc1[i + 28] - 1;
    c = (c << 1) | ((key[keyOffset + (ci >> 3)] >> (7 - (ci & 7))) & 1);
    d = (d << 1) | ((key[keyOffset + (di >> 3)] >> (7 - (di & 7))) & 1);
  }
  const t = tables.pc2;
  const shifts = tables.shifts;
  for (let round = 0; round < 16; round++) {
    const shift = shifts[round];
    c = ((c << shift) | (c >>> (28 - shift))) & 0x0fffffff;
    d = ((d << shift) | (d >>> (28 - shift))) & 0x0fffffff;
    let even = 0;
    let odd = 0;
    for (let nibble = 0, at = 0; nibble < HALF_NIBBLES; nibble++, at += 16) {
      const cv = (c >>> (24 - 4 * nibble)) & 15;
      const dv = (d >>> (24 - 4 * nibble)) & 15;
      even |= t[PC2_C_EVEN + at + cv] | t[PC2_D_EVEN + at + dv];
      odd |= t[PC2_C_ODD + at + cv] | t[PC2_D_ODD + at + dv];
    }
    out[offset + 2 * round] = even;
    out[offset + 2 * round + 1] = odd;
  }
}

/** The decryption schedule is the encryption one with its rounds in reverse order. */
function reverseSchedule(src: Int32Array, srcOffset: number, dst: Int32Array, dstOffset: number): void {
  for (let round = 0; round < 16; round++) {
    dst[dstOffset + 2 * (15 - round)] = src[srcOffset + 2 * round];
    dst[dstOffset + 2 * (15 - round) + 1] = src[srcOffset + 2 * round + 1];
  }
}

/**
 * 16 rounds on the permuted halves in `halves[at]` (L) and `halves[at + 1]` (R);
 * leaves the pre-output (R16, L16) there, which is the input the next
 * DES of an EDE chain expects (its IP undoes this one's FP).
 */
function desRounds(halves: Int32Array, at: number, schedule: Int32Array, offset: number, sp: ArrayLike<number>): void {
  let l = halves[at];
  let r = halves[at + 1];
  for (let i = 0; i < SCHEDULE_WORDS; i += 2) {
    const a = ((r >>> 1) | (r << 31)) ^ schedule[offset + i];
    const b = ((r << 3) | (r >>> 29)) ^ schedule[offset + i + 1];
    const f =
      sp[(a >> 26) & 63] |
      sp[64 + ((b >> 26) & 63)] |
      sp[128 + ((a >> 18) & 63)] |
      sp[192 + ((b >> 18) & 63)] |
      sp[256 + ((a >> 10) & 63)] |
      sp[320 + ((b >> 10) & 63)] |
      sp[384 + ((a >> 2) & 63)] |
      sp[448 + ((b >> 2) & 63)];
    const next = l ^ f;
    l = r;
    r = next;
  }
  halves[at] = r;
  halves[at + 1] = l;
}

/** Loads a block and applies the initial permutation into `halves[at, +2)`. */
function loadPermuted(src: Uint8Array, o: number, halves: Int32Array, at: number): void {
  let left = (src[o] << 24) | (src[o + 1] << 16) | (src[o + 2] << 8) | src[o + 3];
  let right = (src[o + 4] << 24) | (src[o + 5] << 16) | (src[o + 6] << 8) | src[o + 7];
  let t = ((left >>> 4) ^ right) & 0x0f0f0f0f;
  right ^= t;
  left ^= t << 4;
  t = ((left >>> 16) ^ right) & 0x0000ffff;
  right ^= t;
  left ^= t << 16;
  t = ((right >>> 2) ^ left) & 0x33333333;
  left ^= t;
  right ^= t << 2;
  t = ((right >>> 8) ^ left) & 0x00ff00ff;
  left ^= t;
  right ^= t << 8;
  t = ((left >>> 1) ^ right) & 0x55555555;
  right ^= t;
  left ^= t << 1;
  halves[at] = left;
  halves[at + 1] = right;
}

/** Applies the final permutation (the swaps of IP in reverse order) and stores the block. */
function storePermuted(halves: Int32Array, at: number, dst: Uint8Array, o: number): void {
  let left = halves[at];
  let right = halves[at + 1];
  let t = ((left >>> 1) ^ right) & 0x55555555;
  right ^= t;
  left ^= t << 1;
  t = ((right >>> 8) ^ left) & 0x00ff00ff;
  left ^= t;
  right ^= t << 8;
  t = ((right >>> 2) ^ left) & 0x33333333;
  left ^= t;
  right ^= t << 2;
  t = ((left >>> 16) ^ right) & 0x0000ffff;
  right ^= t;
  left ^= t << 16;
  t = ((left >>> 4) ^ right) & 0x0f0f0f0f;
  right ^= t;
  left ^= t << 4;
  dst[o] = left >>> 24;
  dst[o + 1] = left >>> 16;
  dst[o + 2] = left >>> 8;
  dst[o + 3] = left;
  dst[o + 4] = right >>> 24;
  dst[o + 5] = right >>> 16;
  dst[o + 6] = right >>> 8;
  dst[o + 7] = right;
}

function checkBlockRange(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number, blockBytes: number): void {
  assert(srcOffset >= 0 && srcOffset + blockBytes <= src.length, "block cipher: source range out of bounds");
  assert(dstOffset >= 0 && dstOffset + blockBytes <= dst.length, "block cipher: destination range out of bounds");
}

/** Single DES with an 8-byte key (parity bits ignored). */
export class Des implements BlockCipher {
  readonly blockBytes = 8;
  /** The encryption schedule, then the two-word half-block scratch (one typed array fewer per cipher). */
  readonly #encrypt = new Int32Array(SCHEDULE_WORDS + 2);
  readonly #decrypt = new Int32Array(SCHEDULE_WORDS);
  readonly #sp: ArrayLike<number>;

  /** `tables`: the frozen module tables unless a V8 host hands typed copies (`desTables()`). */
  constructor(key: Uint8Array, tables: DesTables = FROZEN_TABLES) {
    if (key.length !== 8) throw new CryptoInputError("key", `des key must be 8 bytes, got ${key.length}`);
    this.#sp = tables.sp;
    desSchedule(key, 0, this.#encrypt, 0, tables);
    reverseSchedule(this.#encrypt, 0, this.#decrypt, 0);
  }

  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    checkBlockRange(src, srcOffset, dst, dstOffset, 8);
    const halves = this.#encrypt;
    loadPermuted(src, srcOffset, halves, SCHEDULE_WORDS);
    desRounds(halves, SCHEDULE_WORDS, this.#encrypt, 0, this.#sp);
    storePermuted(halves, SCHEDULE_WORDS, dst, dstOffset);
  }

  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    checkBlockRange(src, srcOffset, dst, dstOffset, 8);
    const halves = this.#encrypt;
    loadPermuted(src, srcOffset, halves, SCHEDULE_WORDS);
    desRounds(halves, SCHEDULE_WORDS, this.#decrypt, 0, this.#sp);
    storePermuted(halves, SCHEDULE_WORDS, dst, dstOffset);
  }

  /** Overwrites the key schedule; the cipher is unusable afterwards. */
  wipe(): void {
    this.#encrypt.fill(0);
    this.#decrypt.fill(0);
  }

  toString(): string {
    return "Des([redacted])";
  }
  toJSON(): string {
    return "[redacted]";
  }
}

/**
 * Triple DES EDE: encrypt = E_K3(D_K2(E_K1(x))). A 16-byte key is K1 K2 with
 * K3 = K1 (2-key); a 24-byte key is K1 K2 K3. The three schedules are kept in
 * encryption order (E K1, D K2, E K3) and decryption order (D K3, E K2, D K1).
 */
export class TripleDes implements BlockCipher {
  readonly blockBytes = 8;
  /** The encryption schedules, then the two-word half-block scratch (one typed array fewer per cipher). */
  readonly #encrypt = new Int32Array(3 * SCHEDULE_WORDS + 2);
  readonly #decrypt = new Int32Array(3 * SCHEDULE_WORDS);
  readonly #sp: ArrayLike<number>;

  /** `tables`: the frozen module tables unless a V8 host hands typed copies (`desTables()`). */
  constructor(key: Uint8Array, tables: DesTables = FROZEN_TABLES) {
    if (key.length !== 16 && key.length !== 24) throw new CryptoInputError("key", `tdes key must be 16 or 24 bytes, got ${key.length}`);
    this.#sp = tables.sp;
    const k3Offset = key.length === 24 ? 16 : 0;
    const e = this.#encrypt;
    const d = this.#decrypt;
    // Three key schedules (two for a 2-key 3DES), each reversed for the other direction.
    desSchedule(key, 0, e, 0, tables);
    desSchedule(key, 8, d, SCHEDULE_WORDS, tables);
    if (k3Offset === 0) e.copyWithin(2 * SCHEDULE_WORDS, 0, SCHEDULE_WORDS);
    else desSchedule(key, k3Offset, e, 2 * SCHEDULE_WORDS, tables);
    reverseSchedule(d, SCHEDULE_WORDS, e, SCHEDULE_WORDS);
    reverseSchedule(e, 2 * SCHEDULE_WORDS, d, 0);
    reverseSchedule(e, 0, d, 2 * SCHEDULE_WORDS);
  }

  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    this.#run(this.#encrypt, src, srcOffset, dst, dstOffset);
  }

  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    this.#run(this.#decrypt, src, srcOffset, dst, dstOffset);
  }

  #run(schedule: Int32Array, src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    checkBlockRange(src, srcOffset, dst, dstOffset, 8);
    const halves = this.#encrypt;
    const at = 3 * SCHEDULE_WORDS;
    loadPermuted(src, srcOffset, halves, at);
    const sp = this.#sp;
    desRounds(halves, at, schedule, 0, sp);
    desRounds(halves, at, schedule, SCHEDULE_WORDS, sp);
    desRounds(halves, at, schedule, 2 * SCHEDULE_WORDS, sp);
    storePermuted(halves, at, dst, dstOffset);
  }

  /** Overwrites the key schedules; the cipher is unusable afterwards. */
  wipe(): void {
    this.#encrypt.fill(0);
    this.#decrypt.fill(0);
  }

  toString(): string {
    return "TripleDes([redacted])";
  }
  toJSON(): string {
    return "[redacted]";
  }
}
