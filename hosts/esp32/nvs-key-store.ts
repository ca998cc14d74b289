/**
 * The device KeyStore (modules/crypto/key-store.ts) on NVS blobs: one blob
 * per key, its algorithm in the first byte. Loaded keys live in a
 * MemoryKeyStore, which wipes the keys it replaces; every blob passed to
 * Preference is a copy that is zeroized after the write. NVS holds the bytes
 * in the clear unless the build enables NVS encryption (docs/device.md).
 */
import { wipe } from "../../modules/base/hex";
import { CIPHER_ALGORITHMS } from "../../modules/crypto/block-cipher";
import { MemoryKeyStore, newDataKey, type KeyStore } from "../../modules/crypto/key-store";
import { SecretKey, type WorkingKeys } from "../../modules/crypto/keys";
import type { Random } from "../../modules/platform/random";
import { NvsBlobStore, ParameterError } from "./preferences";

/** `dek`: the data-at-rest key that seals the PAN in the journal. */
type KeyName = "tmk" | "pik" | "mak" | "tdk" | "dek";

export class NvsKeyStore implements KeyStore {
  readonly #blobs: NvsBlobStore;
  readonly #memory = new MemoryKeyStore();

  constructor(blobs: NvsBlobStore = new NvsBlobStore()) {
    this.#blobs = blobs;
    const tmk = this.#read("tmk");
    if (tmk !== undefined) this.#memory.saveMasterKey(tmk);
    const pik = this.#read("pik");
    const mak = this.#read("mak");
    if (pik !== undefined && mak !== undefined) this.#memory.replaceWorkingKeys({ pik, mak, tdk: this.#read("tdk") });
    const dek = this.#read("dek");
    if (dek !== undefined) this.#memory.saveDataKey(dek);
  }

  loadMasterKey(): SecretKey | undefined {
    return this.#memory.loadMasterKey();
  }

  saveMasterKey(tmk: SecretKey): void {
    this.#write("tmk", tmk);
    this.#memory.saveMasterKey(tmk);
  }

  loadWorkingKeys(): WorkingKeys | undefined {
    return this.#memory.loadWorkingKeys();
  }

  replaceWorkingKeys(keys: WorkingKeys): void {
    this.#write("pik", keys.pik);
    this.#write("mak", keys.mak);
    if (keys.tdk === undefined) this.#blobs.delete("tdk");
    else this.#write("tdk", keys.tdk);
    this.#memory.replaceWorkingKeys(keys);
  }

  /** Drawn from the hardware RNG at first use, written to NVS before it is used. */
  loadDataKey(random: Random): SecretKey {
    if (this.#memory.storedDataKey() === undefined) {
      const key = newDataKey(random);
      this.#write("dek", key);
      this.#memory.saveDataKey(key);
    }
    return this.#memory.loadDataKey(random);
  }

  clear(): void {
    for (const name of ["tmk", "pik", "mak", "tdk", "dek"] as const) this.#blobs.delete(name);
    this.#memory.clear();
  }

  toString(): string {
    return "NvsKeyStore([redacted])";
  }

  toJSON(): string {
    return this.toString();
  }

  #read(name: KeyName): SecretKey | undefined {
    const blob = this.#blobs.get(name);
    if (blob === undefined) return undefined;
    try {
      const algorithm = CIPHER_ALGORITHMS[blob[0]];
      if (algorithm === undefined || blob.length < 2) throw new ParameterError(name, `stored ${name} is malformed`);
      return new SecretKey(algorithm, blob.subarray(1));
    } finally {
      wipe(blob);
    }
  }

  #write(name: KeyName, key: SecretKey): void {
    const bytes = key.exposeBytes();
    const blob = new Uint8Array(1 + bytes.length);
    blob[0] = CIPHER_ALGORITHMS.indexOf(key.algorithm);
    blob.set(bytes, 1);
    try {
      this.#blobs.set(name, blob);
    } finally {
      wipe(blob);
    }
  }
}
