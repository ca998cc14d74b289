/**
 * The simulator's cipher route: 3DES and SM4 through node:crypto (OpenSSL),
 * behind the same BlockCipher interface as the pure TypeScript route, which
 * still serves single DES (OpenSSL 3 keeps it in the legacy provider).
 */
import crypto from "node:crypto";
import { checkKeyLength, type BlockCipher, type CipherAlgorithm, type CipherProvider } from "../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../modules/crypto/ciphers";

const OPENSSL_NAMES: Partial<Record<CipherAlgorithm, (keyBytes: number) => string>> = {
  tdes: (keyBytes) => (keyBytes === 16 ? "des-ede-ecb" : "des-ede3-ecb"),
  sm4: () => "sm4-ecb",
};

export class NodeBlockCipher implements BlockCipher {
  readonly blockBytes: number;
  readonly #encrypt: crypto.Cipher;
  readonly #decrypt: crypto.Decipher;

  constructor(algorithm: CipherAlgorithm, key: Uint8Array) {
    checkKeyLength(algorithm, key);
    const name = OPENSSL_NAMES[algorithm];
    if (name === undefined) throw new Error(`node:crypto route does not serve ${algorithm}`);
    this.blockBytes = algorithm === "sm4" ? 16 : 8;
    // One ECB context per direction, padding off: each update() of whole blocks returns them at once.
    this.#encrypt = crypto.createCipheriv(name(key.length), key, null).setAutoPadding(false);
    this.#decrypt = crypto.createDecipheriv(name(key.length), key, null).setAutoPadding(false);
  }

  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    dst.set(this.#encrypt.update(src.subarray(srcOffset, srcOffset + this.blockBytes)), dstOffset);
  }

  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    dst.set(this.#decrypt.update(src.subarray(srcOffset, srcOffset + this.blockBytes)), dstOffset);
  }

  toString(): string {
    return "NodeBlockCipher([redacted])";
  }
  toJSON(): string {
    return "[redacted]";
  }
}

/** 3DES and SM4 via OpenSSL, DES in TypeScript. */
export const nodeCiphers: CipherProvider = Object.freeze({
  create(algorithm: CipherAlgorithm, key: Uint8Array): BlockCipher {
    return OPENSSL_NAMES[algorithm] === undefined ? softwareCiphers.create(algorithm, key) : new NodeBlockCipher(algorithm, key);
  },
});
