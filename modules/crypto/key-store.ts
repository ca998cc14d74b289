/**
 * Where the terminal keeps its TMK and working keys. The store owns the keys
 * it is given: replacing a key wipes the one it held before, so an old PIK or
 * MAK does not linger in RAM after a sign-on. Hosts provide persistent stores
 * (simulator: hosts/sim/file-key-store.ts; device: NVS).
 */
import type { SecretKey, WorkingKeys } from "./keys";
import { wipeWorkingKeys } from "./keys";

export interface KeyStore {
  loadMasterKey(): SecretKey | undefined;
  /** Stores the TMK, wiping the previous one. */
  saveMasterKey(tmk: SecretKey): void;
  loadWorkingKeys(): WorkingKeys | undefined;
  /** Stores the working keys of a sign-on, wiping the previous set. */
  replaceWorkingKeys(keys: WorkingKeys): void;
  /** Wipes and forgets every key (key-loading reset, tamper). */
  clear(): void;
}

export class MemoryKeyStore implements KeyStore {
  #tmk: SecretKey | undefined;
  #working: WorkingKeys | undefined;

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

  clear(): void {
    this.#tmk?.wipe();
    if (this.#working !== undefined) wipeWorkingKeys(this.#working);
    this.#tmk = undefined;
    this.#working = undefined;
  }

  toString(): string {
    return "MemoryKeyStore([redacted])";
  }
  toJSON(): string {
    return this.toString();
  }
}
