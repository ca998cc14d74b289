/**
 * Key objects, key check values and the TMK -> working key step of sign-on
 * (docs/cup-dialect.md "Keys").
 *
 * A SecretKey is opaque: toString/toJSON and the logger never show its bytes,
 * and wipe() zeroes them. The raw bytes leave only through exposeBytes(), for
 * a cipher factory or a key store.
 */
import { wipe } from "../base/hex";
import { checkKeyLength, ecbDecrypt, type BlockCipher, type CipherAlgorithm, type CipherProvider } from "./block-cipher";
import { softwareCiphers } from "./ciphers";
import { CryptoInputError, KeyCheckError } from "./errors";
import { macEqual } from "./mac";

export class SecretKey {
  readonly algorithm: CipherAlgorithm;
  readonly #bytes: Uint8Array;
  #wiped = false;

  /** Copies `bytes`; the caller should wipe its own copy. */
  constructor(algorithm: CipherAlgorithm, bytes: Uint8Array) {
    checkKeyLength(algorithm, bytes);
    this.algorithm = algorithm;
    this.#bytes = bytes.slice();
  }

  get lengthBytes(): number {
    return this.#bytes.length;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  /** The key's own buffer (not a copy, so wipe() reaches it): hand it to a cipher or a store, never keep it. */
  exposeBytes(): Uint8Array {
    if (this.#wiped) throw new CryptoInputError("key", `${this.algorithm} key was wiped and cannot be used`);
    return this.#bytes;
  }

  createCipher(provider: CipherProvider = softwareCiphers): BlockCipher {
    return provider.create(this.algorithm, this.exposeBytes());
  }

  wipe(): void {
    wipe(this.#bytes);
    this.#wiped = true;
  }

  toString(): string {
    return `SecretKey(${this.algorithm}, ${this.#bytes.length} bytes, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * Key check value: the first `bytes` bytes of the zero block encrypted under
 * the key (3 bytes is the X9.24 convention, 4 the UnionPay F62 check value).
 * For SM4 the zero block is 16 bytes (convention not confirmed publicly).
 */
export function keyCheckValue(cipher: BlockCipher, bytes: 3 | 4 = 3): Uint8Array {
  if (bytes !== 3 && bytes !== 4) throw new CryptoInputError("bytes", `check value length must be 3 or 4 bytes, got ${String(bytes)}`);
  const block = new Uint8Array(cipher.blockBytes);
  cipher.encryptBlock(block, 0, block, 0);
  return block.slice(0, bytes);
}

export type WorkingKeyName = "PIK" | "MAK" | "TDK";

export interface WorkingKeys {
  readonly pik: SecretKey;
  readonly mak: SecretKey;
  /** Present when F62 carried a track data key. */
  readonly tdk?: SecretKey;
}

const CHECK_VALUE_BYTES = 4;

/**
 * Working key length for a given F62 length: 24 bytes = single-length keys
 * `PIK(8) CV(4) MAK(8) CV(4)`; 40 = double-length `PIK(16) CV(4) MAK(16) CV(4)`;
 * 60 = the same followed by `TDK(16) CV(4)`.
 */
function layoutFor(f62Length: number): { keyBytes: number; keys: number } {
  if (f62Length === 24) return { keyBytes: 8, keys: 2 };
  if (f62Length === 40) return { keyBytes: 16, keys: 2 };
  if (f62Length === 60) return { keyBytes: 16, keys: 3 };
  throw new CryptoInputError("f62", `F62 must be 24, 40 or 60 bytes (PIK, MAK[, TDK] with 4-byte check values), got ${f62Length}`);
}

/**
 * Decrypts the working keys of an 0810's F62 under the TMK and checks each
 * against its 4-byte check value; throws KeyCheckError naming the first key
 * that does not match (and wipes every clear key made so far). The working
 * key algorithm follows the TMK: SM4 under an SM4 TMK, otherwise DES for
 * 8-byte keys and 3DES for 16-byte keys.
 */
export function unwrapWorkingKeys(f62: Uint8Array, tmk: SecretKey, provider: CipherProvider = softwareCiphers): WorkingKeys {
  const { keyBytes, keys } = layoutFor(f62.length);
  const algorithm: CipherAlgorithm = tmk.algorithm === "sm4" ? "sm4" : keyBytes === 8 ? "des" : "tdes";
  if (algorithm === "sm4" && keyBytes !== 16)
    throw new CryptoInputError("f62", "an SM4 TMK needs 16-byte working keys (F62 of 40 or 60 bytes)");
  const tmkCipher = tmk.createCipher(provider);
  const names: readonly WorkingKeyName[] = ["PIK", "MAK", "TDK"];
  const unwrapped: SecretKey[] = [];
  const clear = new Uint8Array(keyBytes);
  try {
    for (let k = 0; k < keys; k++) {
      const offset = k * (keyBytes + CHECK_VALUE_BYTES);
      ecbDecrypt(tmkCipher, f62.subarray(offset, offset + keyBytes), clear);
      const key = new SecretKey(algorithm, clear);
      const checkValue = keyCheckValue(key.createCipher(provider), CHECK_VALUE_BYTES);
      if (!macEqual(checkValue, f62.subarray(offset + keyBytes, offset + keyBytes + CHECK_VALUE_BYTES))) {
        key.wipe();
        throw new KeyCheckError(names[k]);
      }
      unwrapped.push(key);
    }
  } catch (error) {
    for (const key of unwrapped) key.wipe();
    throw error;
  } finally {
    wipe(clear);
  }
  return { pik: unwrapped[0], mak: unwrapped[1], tdk: unwrapped[2] };
}

/** Wipes every key of a working key set. */
export function wipeWorkingKeys(keys: WorkingKeys): void {
  keys.pik.wipe();
  keys.mak.wipe();
  keys.tdk?.wipe();
}
