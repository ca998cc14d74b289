/**
 * SHA-256 (FIPS 180-4) in TypeScript for the firmware update: the image's
 * digest and the manifest digest the signature covers. Incremental, so an image
 * of megabytes is hashed block by block as it is read back from its slot; one
 * instance owns its buffers (64-byte block, 64-word schedule) and reuses them
 * across `reset()`, so hashing allocates nothing per block.
 */
import { assert, assertInteger } from "../base/assert";

export const SHA256_BYTES = 32;
const BLOCK_BYTES = 64;
/** 2^53 bits is far beyond any image; the length field's high word stays below 2^21. */
const MESSAGE_BYTES_MAX = Number.MAX_SAFE_INTEGER / 8;

const K = Object.freeze([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = Object.freeze([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

export class Sha256 {
  readonly #state = new Uint32Array(8);
  readonly #schedule = new Uint32Array(64);
  readonly #block = new Uint8Array(BLOCK_BYTES);
  #blockFill = 0;
  #messageBytes = 0;
  #finished = false;

  constructor() {
    this.reset();
  }

  reset(): this {
    this.#state.set(INITIAL);
    this.#blockFill = 0;
    this.#messageBytes = 0;
    this.#finished = false;
    return this;
  }

  /** Adds `bytes[offset, offset + length)` to the message. */
  update(bytes: Uint8Array, offset = 0, length = bytes.length - offset): this {
    assert(!this.#finished, "sha256: update after digest (reset first)");
    assertInteger(offset, 0, bytes.length, "sha256 offset");
    assertInteger(length, 0, bytes.length - offset, "sha256 length");
    assert(this.#messageBytes + length <= MESSAGE_BYTES_MAX, "sha256: message too long");
    this.#messageBytes += length;
    let at = offset;
    const end = offset + length;
    if (this.#blockFill > 0) {
      const take = Math.min(BLOCK_BYTES - this.#blockFill, end - at);
      this.#block.set(bytes.subarray(at, at + take), this.#blockFill);
      this.#blockFill += take;
      at += take;
      if (this.#blockFill < BLOCK_BYTES) return this;
      this.#compress(this.#block, 0);
      this.#blockFill = 0;
    }
    for (; at + BLOCK_BYTES <= end; at += BLOCK_BYTES) this.#compress(bytes, at);
    if (at < end) {
      this.#block.set(bytes.subarray(at, end), 0);
      this.#blockFill = end - at;
    }
    return this;
  }

  /** The 32-byte digest, into `out` (a new array by default). The instance must be reset before reuse. */
  digest(out: Uint8Array = new Uint8Array(SHA256_BYTES)): Uint8Array {
    assert(!this.#finished, "sha256: digest taken twice (reset first)");
    assert(out.length >= SHA256_BYTES, "sha256: digest buffer holds 32 bytes");
    this.#finished = true;
    const bits = this.#messageBytes * 8;
    const block = this.#block;
    block[this.#blockFill] = 0x80;
    block.fill(0, this.#blockFill + 1);
    if (this.#blockFill + 1 > BLOCK_BYTES - 8) {
      this.#compress(block, 0);
      block.fill(0);
    }
    const high = Math.floor(bits / 0x100000000);
    const low = bits >>> 0;
    writeU32Be(block, 56, high);
    writeU32Be(block, 60, low);
    this.#compress(block, 0);
    for (let i = 0; i < 8; i++) writeU32Be(out, i * 4, this.#state[i]);
    return out;
  }

  #compress(bytes: Uint8Array, at: number): void {
    const w = this.#schedule;
    for (let i = 0; i < 16; i++) {
      const j = at + i * 4;
      w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    const s = this.#state;
    let a = s[0];
    let b = s[1];
    let c = s[2];
    let d = s[3];
    let e = s[4];
    let f = s[5];
    let g = s[6];
    let h = s[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
    s[4] += e;
    s[5] += f;
    s[6] += g;
    s[7] += h;
  }
}

/** SHA-256 of one buffer. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Sha256().update(bytes).digest();
}

function writeU32Be(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}
