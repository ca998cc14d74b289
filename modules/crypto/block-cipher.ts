/**
 * One interface for every block cipher route (pure TypeScript here, node:crypto
 * in the simulator, a native binding on the device): blocks in and out of
 * caller buffers at offsets, so a mode never allocates per block and a native
 * binding needs only two functions.
 */
import { CryptoInputError } from "./errors";

export interface BlockCipher {
  /** 8 for DES and 3DES, 16 for SM4. */
  readonly blockBytes: number;
  /** Encrypts `src[srcOffset, +blockBytes)` into `dst[dstOffset, +blockBytes)`; src and dst may be the same range. */
  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void;
  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void;
}

/** `des`: 8-byte key; `tdes`: 16-byte (K1 K2 K1) or 24-byte (K1 K2 K3) EDE key; `sm4`: 16-byte key. */
export type CipherAlgorithm = "des" | "tdes" | "sm4";

/** Makes ciphers from raw key bytes; each host routes the algorithms it can accelerate. */
export interface CipherProvider {
  create(algorithm: CipherAlgorithm, key: Uint8Array): BlockCipher;
}

export const CIPHER_ALGORITHMS: readonly CipherAlgorithm[] = Object.freeze(["des", "tdes", "sm4"]);

/** Throws CryptoInputError unless `key` has a length `algorithm` accepts. Never shows the key. */
export function checkKeyLength(algorithm: CipherAlgorithm, key: Uint8Array): void {
  const ok = algorithm === "des" ? key.length === 8 : algorithm === "tdes" ? key.length === 16 || key.length === 24 : key.length === 16;
  if (!ok) {
    const expected = algorithm === "des" ? "8" : algorithm === "tdes" ? "16 or 24" : "16";
    throw new CryptoInputError("key", `${algorithm} key must be ${expected} bytes, got ${key.length}`);
  }
}

function checkWholeBlocks(cipher: BlockCipher, input: Uint8Array, output: Uint8Array, iv?: Uint8Array): void {
  if (iv !== undefined && iv.length !== cipher.blockBytes)
    throw new CryptoInputError("iv", `iv must be ${cipher.blockBytes} bytes, got ${iv.length}`);
  if (input.length % cipher.blockBytes !== 0)
    throw new CryptoInputError("data", `data must be a whole number of ${cipher.blockBytes}-byte blocks, got ${input.length} bytes`);
  if (output.length < input.length)
    throw new CryptoInputError("output", `output buffer holds ${output.length} bytes, needs ${input.length}`);
}

/** ECB over whole blocks, into `output` (may be `input`). */
export function ecbEncrypt(cipher: BlockCipher, input: Uint8Array, output: Uint8Array = new Uint8Array(input.length)): Uint8Array {
  checkWholeBlocks(cipher, input, output);
  for (let i = 0; i < input.length; i += cipher.blockBytes) cipher.encryptBlock(input, i, output, i);
  return output;
}

export function ecbDecrypt(cipher: BlockCipher, input: Uint8Array, output: Uint8Array = new Uint8Array(input.length)): Uint8Array {
  checkWholeBlocks(cipher, input, output);
  for (let i = 0; i < input.length; i += cipher.blockBytes) cipher.decryptBlock(input, i, output, i);
  return output;
}

/** CBC over whole blocks with `iv` (one block), into `output` (may be `input`). */
export function cbcEncrypt(
  cipher: BlockCipher,
  iv: Uint8Array,
  input: Uint8Array,
  output: Uint8Array = new Uint8Array(input.length),
): Uint8Array {
  checkWholeBlocks(cipher, input, output, iv);
  const n = cipher.blockBytes;
  for (let i = 0; i < input.length; i += n) {
    for (let j = 0; j < n; j++) output[i + j] = input[i + j] ^ (i === 0 ? iv[j] : output[i - n + j]);
    cipher.encryptBlock(output, i, output, i);
  }
  return output;
}

export function cbcDecrypt(
  cipher: BlockCipher,
  iv: Uint8Array,
  input: Uint8Array,
  output: Uint8Array = new Uint8Array(input.length),
): Uint8Array {
  checkWholeBlocks(cipher, input, output, iv);
  const n = cipher.blockBytes;
  // Walk backwards so that decrypting in place still sees each previous ciphertext block.
  for (let i = input.length - n; i >= 0; i -= n) {
    cipher.decryptBlock(input, i, output, i);
    for (let j = 0; j < n; j++) output[i + j] ^= i === 0 ? iv[j] : input[i - n + j];
  }
  return output;
}
