/**
 * Byte mutations for `xspos fuzz`: bit flips, truncation, length-like values,
 * insertion, deletion, duplication and garbage, each bounded. Targets add the
 * structure-aware ones (bitmap bits, TLV lengths, journal CRCs) on top.
 */
import type { SeededRandom } from "../../modules/platform/random";

/** No mutated input grows past this (a CUP message is at most 4096 bytes; images have their own size). */
export const MUTATED_BYTES_MAX = 8192;
const INSERT_BYTES_MAX = 16;
/** Values that length prefixes and counts take at their edges (BCD and binary). */
const LENGTH_LIKE = Object.freeze([0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x99, 0xfe, 0xff, 0x10, 0x20, 0x09]);

export type Mutation = (input: Uint8Array, random: SeededRandom) => Uint8Array;

export const flipBits: Mutation = (input, random) => {
  if (input.length === 0) return input;
  const out = input.slice();
  for (let n = 1 + random.below(4); n > 0; n--) out[random.below(out.length)] ^= 1 << random.below(8);
  return out;
};

export const truncate: Mutation = (input, random) => input.slice(0, random.below(input.length + 1));

export const lengthLike: Mutation = (input, random) => {
  if (input.length === 0) return input;
  const out = input.slice();
  const at = random.below(out.length);
  out[at] = random.chance(0.5) ? random.pick(LENGTH_LIKE) : (out[at] + (random.chance(0.5) ? 1 : -1)) & 0xff;
  return out;
};

export const insert: Mutation = (input, random) => {
  const count = 1 + random.below(INSERT_BYTES_MAX);
  if (input.length + count > MUTATED_BYTES_MAX) return input;
  const at = random.below(input.length + 1);
  const extra = new Uint8Array(count);
  random.fill(extra);
  const out = new Uint8Array(input.length + count);
  out.set(input.subarray(0, at));
  out.set(extra, at);
  out.set(input.subarray(at), at + count);
  return out;
};

export const remove: Mutation = (input, random) => {
  if (input.length === 0) return input;
  const at = random.below(input.length);
  const count = 1 + random.below(Math.min(INSERT_BYTES_MAX, input.length - at));
  const out = new Uint8Array(input.length - count);
  out.set(input.subarray(0, at));
  out.set(input.subarray(at + count), at);
  return out;
};

export const duplicate: Mutation = (input, random) => {
  if (input.length === 0) return input;
  const at = random.below(input.length);
  const count = 1 + random.below(Math.min(64, input.length - at));
  if (input.length + count > MUTATED_BYTES_MAX) return input;
  const out = new Uint8Array(input.length + count);
  out.set(input.subarray(0, at + count));
  out.set(input.subarray(at), at + count);
  return out;
};

export const garbage: Mutation = (input, random) => {
  if (random.chance(0.1)) {
    const out = new Uint8Array(random.below(Math.min(MUTATED_BYTES_MAX, input.length * 2 + 2)));
    random.fill(out);
    return out;
  }
  if (input.length === 0) return input;
  const out = input.slice();
  const at = random.below(out.length);
  const chunk = new Uint8Array(1 + random.below(Math.min(32, out.length - at)));
  random.fill(chunk);
  out.set(chunk, at);
  return out;
};

export const GENERIC: readonly Mutation[] = Object.freeze([flipBits, truncate, lengthLike, insert, remove, duplicate, garbage]);

/** One to three mutations from `mutations` in a row. */
export function mutate(input: Uint8Array, random: SeededRandom, mutations: readonly Mutation[]): Uint8Array {
  let out = input;
  for (let n = 1 + random.below(3); n > 0; n--) out = random.pick(mutations)(out, random);
  return out;
}
