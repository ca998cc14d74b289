/**
 * The native CipherProvider: DES and 3DES in C over mbedtls (block-cipher.c),
 * SM4 (which mbedtls lacks) on the TypeScript ciphers of modules/crypto. Used
 * only when the build has the mbedtls DES API (cipher-route.ts decides).
 */
import { checkKeyLength, type BlockCipher, type CipherAlgorithm, type CipherProvider } from "../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../modules/crypto/ciphers";

export class NativeDesCipher extends Native("xs_xspos_des_destructor") implements BlockCipher {
  // A getter, not a class field: in the Moddable runtime the field of this host-object subclass read back undefined
  // (MACs then ran on zero-length blocks; found by the Linux terminal, hosts/lin).
  get blockBytes(): number {
    return 8;
  }

  /** The key is copied into C and zeroized there on close() or collection; the caller wipes its own copy. */
  constructor(key: Uint8Array) {
    super();
    native("xs_xspos_des").call(this, key);
  }

  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    native("xs_xspos_des_encrypt").call(this, src, srcOffset, dst, dstOffset);
  }

  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    native("xs_xspos_des_decrypt").call(this, src, srcOffset, dst, dstOffset);
  }

  /** Zeroizes the key schedule now instead of at garbage collection (a key being replaced). */
  close(): void {
    native("xs_xspos_des_close").call(this);
  }
}

/** True when block-cipher.c was built with the legacy mbedtls DES API (not on Mbed TLS 4). */
export function nativeDesAvailable(): boolean {
  return native("xs_xspos_des_available").call(undefined) as boolean;
}

export const nativeCiphers: CipherProvider = Object.freeze({
  create(algorithm: CipherAlgorithm, key: Uint8Array): BlockCipher {
    checkKeyLength(algorithm, key);
    return algorithm === "sm4" ? softwareCiphers.create(algorithm, key) : new NativeDesCipher(key);
  },
});
