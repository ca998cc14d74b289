import { assertInteger } from "../base/assert";

/** Randomness enters the core only here: STAN seeds, nonces, key material in tests. */
export interface Random {
  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void;
}

/**
 * A seeded generator (xoshiro128**) for deterministic simulation. Never for
 * key material on a device: the device binds Random to the hardware RNG.
 */
export class SeededRandom implements Random {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(seed: number) {
    assertInteger(seed, 0, Number.MAX_SAFE_INTEGER, "seed");
    // splitmix32 expands the seed so that nearby seeds give unrelated streams.
    let x = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next() | 1;
  }

  /** Next 32-bit unsigned value. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.#s1 << 9) >>> 0;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform integer in [0, bound). */
  below(bound: number): number {
    assertInteger(bound, 1, 2 ** 32, "bound");
    return Math.floor((this.nextUint32() / 2 ** 32) * bound);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextUint32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.nextUint32() & 0xff;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
