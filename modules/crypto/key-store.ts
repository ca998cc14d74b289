/**
 * Where the terminal keeps its TMK, working keys and data-at-rest key. The
 * store owns the keys it is given: replacing a key wipes the one it held
 * before, so an old PIK or MAK does not linger in RAM after a sign-on. Hosts
 * provide persistent stores (simulator: hosts/sim/file-key-store.ts; device:
 * NVS).
 */
import type { Random } from "../platform/random";
import { CryptoInputError } from "./errors";
import { SecretKey, wipeWorkingKeys, type WorkingKeys } from "./keys";

const DATA_KEY_BYTES = 16;

export interface KeyStore {
  loadMasterKey(): SecretKey | undefined;
  /** Stores the TMK, wiping the previous one. */
  saveMasterKey(tmk: SecretKey): void;
  loadWorkingKeys(): WorkingKeys | undefined;
  /** Stores the working keys of a sign-on, wiping the previous set. */
  replaceWorkingKeys(keys: WorkingKeys): void;
  /**
   * The SM4 data-at-rest key that seals the PAN in the journal: drawn from `random` (the platform's
   * RNG) at first use and kept, persisted before it is returned. It never leaves the terminal, so no
   * key-injection step is needed; a new one comes only after clear(), and PANs sealed under the old
   * one are then unreadable, which is what a tamper wipe should do.
   */
  loadDataKey(random: Random): SecretKey;
  /** Wipes and forgets every key (key-loading reset, tamper). */
  clear(): void;
}

/** A fresh data-at-rest key from `random`; the draw buffer is wiped. */
export function newDataKey(random: Random): SecretKey {
  const bytes = new Uint8Array(DATA_KEY_BYTES);
  random.fill(bytes);
  const key = new SecretKey("sm4", bytes);
  bytes.fill(0);
  return key;
}

export class MemoryKeyStore implements KeyStore {
  #tmk: SecretKey | undefined;
  #working: WorkingKeys | undefined;
  #data: SecretKey | undefined;

  loadMasterKey(): SecretKey | undefined {
    return this.#tmk;
  }

  saveMasterKey(tmk: SecretKey): void {
    if (this.#tmk !== undefined && this.#tmk !== tmk) this.#tmk.wipe();
    this.#tmk = tmk;
  }

  loadWorkingKeys(): WorkingKeys | undefined {
    return this.#working;
  }

  replaceWorkingKeys(keys: WorkingKeys): void {
    if (this.#working !== undefined && this.#working !== keys) wipeWorkingKeys(this.#working);
    this.#working = keys;
  }

  loadDataKey(random: Random): SecretKey {
    if (this.#data === undefined) this.saveDataKey(newDataKey(random));
    return this.#data!;
  }

  /** The data key held, without creating one (a persistent store writes it out). */
  storedDataKey(): SecretKey | undefined {
    return this.#data;
  }

  /** Holds `key` as the data key (a persistent store restoring it), wiping the one held before. */
  saveDataKey(key: SecretKey): void {
    if (key.algorithm !== "sm4") throw new CryptoInputError("key", `the data key must be an sm4 key, got ${key.algorithm}`);
    if (this.#data !== undefined && this.#data !== key) this.#data.wipe();
    this.#data = key;
  }

  clear(): void {
    this.#tmk?.wipe();
    if (this.#working !== undefined) wipeWorkingKeys(this.#working);
    this.#data?.wipe();
    this.#tmk = undefined;
    this.#working = undefined;
    this.#data = undefined;
  }

  toString(): string {
    return "MemoryKeyStore([redacted])";
  }
  toJSON(): string {
    return this.toString();
  }
}
