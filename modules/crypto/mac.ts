/**
 * Message authentication codes of the POS world (docs/crypto.md). Every MAC walks the data one block at a time,
 * padding the last block on the fly, so no padded copy of the message is made.
 *
 * - CBC-MAC (ANSI X9.9 with DES; any block cipher): zero IV.
 * - Retail MAC (ANSI X9.19 / ISO 9797-1 algorithm 3): CBC with single DES K1,
 *   last block through 3DES (K1 K2 K1), which equals E_K1(D_K2(E_K1(·))).
 * - UnionPay "ECB" MAC (the CUP POS F64 algorithm): XOR of the blocks,
 *   hex-expanded, two encryptions, first 8 ASCII hex characters.
 */
import { assert } from "../base/assert";
import type { BlockCipher } from "./block-cipher";
import { CryptoInputError } from "./errors";

/** ISO 9797-1 padding: 1 = zero bits (none when already whole, one block when empty); 2 = 0x80 then zeros (always). */
export type MacPadding = 1 | 2;

/** Longest message a MAC accepts: an 8583 message is far shorter; this bounds the loop. */
export const MAC_DATA_BYTES_MAX = 64 * 1024;

const HEX_ASCII = Object.freeze([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46]);

function checkData(data: Uint8Array): void {
  if (data.length > MAC_DATA_BYTES_MAX)
    throw new CryptoInputError("data", `MAC data is ${data.length} bytes, more than ${MAC_DATA_BYTES_MAX}`);
}

function blockCount(length: number, blockBytes: number, padding: MacPadding): number {
  return padding === 1 ? Math.max(1, Math.ceil(length / blockBytes)) : Math.floor(length / blockBytes) + 1;
}

/** XORs block `index` of the padded message into `state`. */
function xorPaddedBlock(state: Uint8Array, data: Uint8Array, index: number, padding: MacPadding): void {
  const n = state.length;
  const start = index * n;
  if (start + n <= data.length) {
    // Whole block: the common case, without the padding tests.
    for (let j = 0; j < n; j++) state[j] ^= data[start + j];
    return;
  }
  for (let j = 0; j < n; j++) {
    const at = index * n + j;
    state[j] ^= at < data.length ? data[at] : padding === 2 && at === data.length ? 0x80 : 0;
  }
}

/** CBC-MAC with a zero IV: the full last cipher block (ANSI X9.9 when `cipher` is single DES). */
export function cbcMac(
  cipher: BlockCipher,
  data: Uint8Array,
  padding: MacPadding = 1,
  out = new Uint8Array(cipher.blockBytes),
): Uint8Array {
  checkData(data);
  assert(out.length === cipher.blockBytes, "cbcMac: out must be one block");
  out.fill(0);
  const blocks = blockCount(data.length, cipher.blockBytes, padding);
  for (let i = 0; i < blocks; i++) {
    xorPaddedBlock(out, data, i, padding);
    cipher.encryptBlock(out, 0, out, 0);
  }
  return out;
}

/**
 * ANSI X9.19 / ISO 9797-1 MAC algorithm 3 with a 16-byte key K1 K2: `k1` is
 * single DES under K1, `k1k2` is 3DES under K1 K2 (2-key).
 */
export function retailMac(
  k1: BlockCipher,
  k1k2: BlockCipher,
  data: Uint8Array,
  padding: MacPadding = 1,
  out = new Uint8Array(8),
): Uint8Array {
  checkData(data);
  assert(k1.blockBytes === 8 && k1k2.blockBytes === 8 && out.length === 8, "retailMac: DES-family ciphers and an 8-byte out");
  out.fill(0);
  const blocks = blockCount(data.length, 8, padding);
  for (let i = 0; i < blocks; i++) {
    xorPaddedBlock(out, data, i, padding);
    (i === blocks - 1 ? k1k2 : k1).encryptBlock(out, 0, out, 0);
  }
  return out;
}

/**
 * The UnionPay POS "ECB" MAC (F64): zero-pad to whole blocks, XOR them into R,
 * hex-expand R to 2n ASCII characters, encrypt the first n, XOR with the last
 * n, encrypt again, hex-expand and keep the first 8 characters. Returns those
 * 8 ASCII bytes. With SM4 (n = 16) this is the same construction on 16-byte
 * blocks — the SM4 variant is not confirmed by a public vector; confirm it with
 * the acquirer before relying on it.
 */
export function cupEcbMac(cipher: BlockCipher, data: Uint8Array, out = new Uint8Array(8)): Uint8Array {
  checkData(data);
  assert(out.length === 8, "cupEcbMac: out must be 8 bytes");
  const n = cipher.blockBytes;
  const r = new Uint8Array(n);
  const blocks = blockCount(data.length, n, 1);
  for (let i = 0; i < blocks; i++) xorPaddedBlock(r, data, i, 1);
  const expanded = new Uint8Array(2 * n);
  hexExpand(r, expanded);
  cipher.encryptBlock(expanded, 0, r, 0);
  for (let j = 0; j < n; j++) r[j] ^= expanded[n + j];
  cipher.encryptBlock(r, 0, r, 0);
  hexExpand(r, expanded);
  for (let j = 0; j < 8; j++) out[j] = expanded[j];
  r.fill(0);
  expanded.fill(0);
  return out;
}

/** Upper-case ASCII hex of `bytes` into `out` (2 bytes per byte). */
function hexExpand(bytes: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = HEX_ASCII[bytes[i] >> 4];
    out[2 * i + 1] = HEX_ASCII[bytes[i] & 15];
  }
}

/** Constant-time comparison of two MACs (the time taken does not depend on where they differ). */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
