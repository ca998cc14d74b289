/** The pure TypeScript cipher route: runs anywhere XS runs. */
import { checkKeyLength, type BlockCipher, type CipherAlgorithm, type CipherProvider } from "./block-cipher";
import { Des, desTables, TripleDes, type DesTables } from "./des";
import { Sm4 } from "./sm4";

export const softwareCiphers: CipherProvider = Object.freeze({
  create(algorithm: CipherAlgorithm, key: Uint8Array): BlockCipher {
    checkKeyLength(algorithm, key);
    if (algorithm === "des") return new Des(key);
    if (algorithm === "tdes") return new TripleDes(key);
    return new Sm4(key);
  },
});

/**
 * The same TypeScript ciphers reading typed copies of the DES tables, for hosts
 * on V8 (simulators, chaos), where a frozen Array reads several times slower
 * (des.ts). Each call builds its own tables unless given some: a host makes
 * one and keeps it. Never on the device: there the frozen tables live in flash.
 */
export function typedSoftwareCiphers(tables: DesTables = desTables()): CipherProvider {
  return Object.freeze({
    create(algorithm: CipherAlgorithm, key: Uint8Array): BlockCipher {
      checkKeyLength(algorithm, key);
      if (algorithm === "des") return new Des(key, tables);
      if (algorithm === "tdes") return new TripleDes(key, tables);
      return new Sm4(key);
    },
  });
}

/** The algorithm a key of this length means in the DES family: 8 bytes = DES, 16 or 24 = 3DES. */
export function desFamilyFor(key: Uint8Array): CipherAlgorithm {
  return key.length === 8 ? "des" : "tdes";
}
