/**
 * SM4 (GB/T 32907-2016) block cipher, 128-bit block and key. The S-box and the
 * linear transform L are merged at load into four frozen T tables (one per
 * byte position), so a round is four look-ups and three XORs. Each cipher owns
 * its 32 round keys (encryption order; decryption walks them backwards).
 */
import { assert } from "../base/assert";
import type { BlockCipher } from "./block-cipher";
import { CryptoInputError } from "./errors";

// prettier-ignore
const SBOX = Object.freeze([
  0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
  0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
  0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
  0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
  0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
  0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
  0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
  0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
  0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
  0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
  0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
  0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
  0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
  0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
  0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
  0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
]);

const FK = Object.freeze([0xa3b1bac6 | 0, 0x56aa3350, 0x677d9197, 0xb27022dc | 0]);

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** T[pos * 256 + b] = L(S(b) placed at byte `pos` (0 = most significant)), signed 32-bit. */
function buildTTable(): readonly number[] {
  const table: number[] = [];
  for (let pos = 0; pos < 4; pos++) {
    for (let b = 0; b < 256; b++) {
      const x = SBOX[b] << (24 - 8 * pos);
      table.push(x ^ rotl(x, 2) ^ rotl(x, 10) ^ rotl(x, 18) ^ rotl(x, 24));
    }
  }
  return Object.freeze(table);
}

const T = buildTTable();

/** The key schedule's T': S-box then L'(B) = B ^ (B <<< 13) ^ (B <<< 23). */
function keyTransform(x: number): number {
  const s = (SBOX[x >>> 24] << 24) | (SBOX[(x >> 16) & 0xff] << 16) | (SBOX[(x >> 8) & 0xff] << 8) | SBOX[x & 0xff];
  return s ^ rotl(s, 13) ^ rotl(s, 23);
}

export class Sm4 implements BlockCipher {
  readonly blockBytes = 16;
  readonly #roundKeys = new Int32Array(32);

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new CryptoInputError("key", `sm4 key must be 16 bytes, got ${key.length}`);
    let k0 = readWord(key, 0) ^ FK[0];
    let k1 = readWord(key, 4) ^ FK[1];
    let k2 = readWord(key, 8) ^ FK[2];
    let k3 = readWord(key, 12) ^ FK[3];
    for (let i = 0; i < 32; i++) {
      // CK[i] byte j = (4i + j) * 7 mod 256 (GB/T 32907 §7.3).
      const ck =
        (((4 * i * 7) & 0xff) << 24) | ((((4 * i + 1) * 7) & 0xff) << 16) | ((((4 * i + 2) * 7) & 0xff) << 8) | (((4 * i + 3) * 7) & 0xff);
      const next = k0 ^ keyTransform(k1 ^ k2 ^ k3 ^ ck);
      this.#roundKeys[i] = next;
      k0 = k1;
      k1 = k2;
      k2 = k3;
      k3 = next;
    }
  }

  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    this.#run(false, src, srcOffset, dst, dstOffset);
  }

  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    this.#run(true, src, srcOffset, dst, dstOffset);
  }

  #run(decrypt: boolean, src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    assert(srcOffset >= 0 && srcOffset + 16 <= src.length, "sm4: source range out of bounds");
    assert(dstOffset >= 0 && dstOffset + 16 <= dst.length, "sm4: destination range out of bounds");
    const rk = this.#roundKeys;
    let x0 = readWord(src, srcOffset);
    let x1 = readWord(src, srcOffset + 4);
    let x2 = readWord(src, srcOffset + 8);
    let x3 = readWord(src, srcOffset + 12);
    for (let i = 0; i < 32; i++) {
      const u = x1 ^ x2 ^ x3 ^ rk[decrypt ? 31 - i : i];
      const next = x0 ^ T[u >>> 24] ^ T[256 + ((u >> 16) & 0xff)] ^ T[512 + ((u >> 8) & 0xff)] ^ T[768 + (u & 0xff)];
      x0 = x1;
      x1 = x2;
      x2 = x3;
      x3 = next;
    }
    // The output is the last four words in reverse order (X35, X34, X33, X32).
    writeWord(dst, dstOffset, x3);
    writeWord(dst, dstOffset + 4, x2);
    writeWord(dst, dstOffset + 8, x1);
    writeWord(dst, dstOffset + 12, x0);
  }

  /** Overwrites the round keys; the cipher is unusable afterwards. */
  wipe(): void {
    this.#roundKeys.fill(0);
  }

  toString(): string {
    return "Sm4([redacted])";
  }
  toJSON(): string {
    return "[redacted]";
  }
}

function readWord(bytes: Uint8Array, o: number): number {
  return (bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3];
}

function writeWord(bytes: Uint8Array, o: number, w: number): void {
  bytes[o] = w >>> 24;
  bytes[o + 1] = w >>> 16;
  bytes[o + 2] = w >>> 8;
  bytes[o + 3] = w;
}
