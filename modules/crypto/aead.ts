/**
 * Authenticated encryption at rest for the PAN and other allowed-but-sensitive
 * data the journal keeps: GCM (NIST SP 800-38D) over SM4, i.e. SM4-GCM as in
 * RFC 8998, so the terminal carries one 128-bit cipher. Checked against the
 * RFC 8998 appendix A.1 vector.
 *
 * Nonces (12 bytes) are the caller's: one must never repeat under one key (a
 * repeat leaks the XOR of two plaintexts and lets a tag be forged). The one
 * user, the journal, builds its nonce from its partition epoch and record seq
 * (modules/journal/format.ts `writePanNonce`, docs/journal-format.md §4).
 *
 * Allocation-free when the caller passes `out`: counter, keystream and GHASH
 * state live in the instance.
 */
import { assert } from "../base/assert";
import type { BlockCipher } from "./block-cipher";
import { AuthenticationError, CryptoInputError } from "./errors";
import type { SecretKey } from "./keys";
import { macEqual } from "./mac";

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Largest plaintext or associated data accepted: the journal seals at most a few dozen bytes. */
export const SEAL_BYTES_MAX = 4096;

export class Gcm {
  readonly #cipher: BlockCipher;
  /** Hash key H = E(0^128) as four big-endian words. */
  readonly #h = new Int32Array(4);
  /** GHASH accumulator Y. */
  readonly #y = new Int32Array(4);
  readonly #counter = new Uint8Array(16);
  readonly #stream = new Uint8Array(16);

  constructor(cipher: BlockCipher) {
    assert(cipher.blockBytes === 16, "Gcm needs a 128-bit block cipher");
    this.#cipher = cipher;
    const zero = new Uint8Array(16);
    cipher.encryptBlock(zero, 0, zero, 0);
    for (let w = 0; w < 4; w++) this.#h[w] = readWord(zero, 4 * w);
    zero.fill(0);
  }

  /** Encrypts and tags: returns `out` = ciphertext || 16-byte tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out = new Uint8Array(plaintext.length + TAG_BYTES)): Uint8Array {
    this.#check(nonce, plaintext.length, aad);
    if (out.length !== plaintext.length + TAG_BYTES)
      throw new CryptoInputError("output", `sealed output must be ${plaintext.length + TAG_BYTES} bytes`);
    this.#ctr(nonce, plaintext, plaintext.length, out);
    this.#tag(nonce, aad, out, plaintext.length, out, plaintext.length);
    return out;
  }

  /** Verifies and decrypts `sealed` = ciphertext || tag into `out`; throws AuthenticationError (and writes nothing) on mismatch. */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, out = new Uint8Array(Math.max(0, sealed.length - TAG_BYTES))): Uint8Array {
    if (sealed.length < TAG_BYTES) throw new CryptoInputError("sealed", `sealed data must be at least ${TAG_BYTES} bytes`);
    const length = sealed.length - TAG_BYTES;
    this.#check(nonce, length, aad);
    if (out.length !== length) throw new CryptoInputError("output", `opened output must be ${length} bytes`);
    const expected = new Uint8Array(TAG_BYTES);
    this.#tag(nonce, aad, sealed, length, expected, 0);
    if (!macEqual(expected, sealed.subarray(length))) throw new AuthenticationError();
    this.#ctr(nonce, sealed, length, out);
    return out;
  }

  /** Zeroes the hash key; wipe the cipher through its owner. */
  wipe(): void {
    this.#h.fill(0);
    this.#y.fill(0);
  }

  toString(): string {
    return "Gcm([redacted])";
  }
  toJSON(): string {
    return this.toString();
  }

  #check(nonce: Uint8Array, length: number, aad: Uint8Array): void {
    if (nonce.length !== NONCE_BYTES) throw new CryptoInputError("nonce", `nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
    if (length > SEAL_BYTES_MAX || aad.length > SEAL_BYTES_MAX)
      throw new CryptoInputError("data", `sealed data and associated data are limited to ${SEAL_BYTES_MAX} bytes`);
  }

  /** Sets the counter block to nonce || 32-bit big-endian `value`. */
  #setCounter(nonce: Uint8Array, value: number): void {
    this.#counter.set(nonce, 0);
    this.#counter[12] = value >>> 24;
    this.#counter[13] = value >>> 16;
    this.#counter[14] = value >>> 8;
    this.#counter[15] = value;
  }

  /** CTR from counter 2 over `input[0, length)` into `output`. */
  #ctr(nonce: Uint8Array, input: Uint8Array, length: number, output: Uint8Array): void {
    for (let offset = 0, counter = 2; offset < length; offset += 16, counter++) {
      this.#setCounter(nonce, counter);
      this.#cipher.encryptBlock(this.#counter, 0, this.#stream, 0);
      const n = Math.min(16, length - offset);
      for (let j = 0; j < n; j++) output[offset + j] = input[offset + j] ^ this.#stream[j];
    }
    this.#stream.fill(0);
  }

  /** Tag = E(nonce || 1) XOR GHASH(aad, ciphertext[0, length), lengths), into `out[outOffset, +16)`. */
  #tag(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, length: number, out: Uint8Array, outOffset: number): void {
    const y = this.#y;
    y.fill(0);
    for (let offset = 0; offset < aad.length; offset += 16) this.#absorb(aad, offset, Math.min(16, aad.length - offset));
    for (let offset = 0; offset < length; offset += 16) this.#absorb(ciphertext, offset, Math.min(16, length - offset));
    // Lengths block: bit lengths of aad and ciphertext as 64-bit big-endian words (both far below 2^32 bits here).
    y[1] ^= aad.length << 3;
    y[3] ^= length << 3;
    this.#multiplyByH();
    this.#setCounter(nonce, 1);
    this.#cipher.encryptBlock(this.#counter, 0, this.#stream, 0);
    for (let j = 0; j < 16; j++) out[outOffset + j] = this.#stream[j] ^ ((y[j >> 2] >>> (24 - 8 * (j & 3))) & 0xff);
    this.#stream.fill(0);
    y.fill(0);
  }

  /** Y = (Y XOR block) * H, the block being `bytes[offset, +count)` zero-padded to 16 bytes. */
  #absorb(bytes: Uint8Array, offset: number, count: number): void {
    for (let j = 0; j < count; j++) this.#y[j >> 2] ^= bytes[offset + j] << (24 - 8 * (j & 3));
    this.#multiplyByH();
  }

  /** Y = Y * H in GF(2^128) with GCM's bit order (SP 800-38D algorithm 1): 128 shift-and-add steps. */
  #multiplyByH(): void {
    const y = this.#y;
    let v0 = this.#h[0];
    let v1 = this.#h[1];
    let v2 = this.#h[2];
    let v3 = this.#h[3];
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    for (let i = 0; i < 128; i++) {
      if ((y[i >> 5] >>> (31 - (i & 31))) & 1) {
        z0 ^= v0;
        z1 ^= v1;
        z2 ^= v2;
        z3 ^= v3;
      }
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 | 0 : 0);
    }
    y[0] = z0;
    y[1] = z1;
    y[2] = z2;
    y[3] = z3;
  }
}

/** SM4-GCM under a data-at-rest key (16-byte SM4 key). */
export function sm4Gcm(key: SecretKey): Gcm {
  if (key.algorithm !== "sm4") throw new CryptoInputError("key", `the sealing key must be an sm4 key, got ${key.algorithm}`);
  return new Gcm(key.createCipher());
}

function readWord(bytes: Uint8Array, o: number): number {
  return (bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3];
}
