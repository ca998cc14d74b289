/**
 * The simulator's persistent key store: one JSON file (mode 0600) holding the
 * TMK, the working keys and the data-at-rest key as hex. Simulator only: the keys sit in clear on
 * the desktop's disk, which is acceptable for test keys and nothing else; the
 * device keeps them in NVS (hosts/esp32). Loaded keys are held in a
 * MemoryKeyStore, which wipes replaced keys; the file is rewritten whole
 * (write to a temporary file, then rename) so a crash leaves the old or the
 * new content, never a mix.
 */
import fs from "node:fs";
import { fromHex, toHex } from "../../modules/base/hex";
import { CIPHER_ALGORITHMS, type CipherAlgorithm } from "../../modules/crypto/block-cipher";
import { MemoryKeyStore, newDataKey, type KeyStore } from "../../modules/crypto/key-store";
import { SecretKey, type WorkingKeys } from "../../modules/crypto/keys";
import type { Random } from "../../modules/platform/random";

interface StoredKey {
  readonly algorithm: CipherAlgorithm;
  readonly hex: string;
}

interface StoredFile {
  readonly version: 1;
  readonly tmk?: StoredKey;
  readonly pik?: StoredKey;
  readonly mak?: StoredKey;
  readonly tdk?: StoredKey;
  /** The data-at-rest key (SM4) that seals the PAN in the journal. */
  readonly dek?: StoredKey;
}

/** The file is corrupt or not a key file; the message names the path and the problem, never a key. */
export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`key file ${path}: ${problem}`);
    this.path = path;
  }
}

const FILE_BYTES_MAX = 16 * 1024;

function toStored(key: SecretKey): StoredKey {
  return { algorithm: key.algorithm, hex: toHex(key.exposeBytes()) };
}

export class FileKeyStore implements KeyStore {
  readonly #path: string;
  readonly #memory = new MemoryKeyStore();

  constructor(options: { readonly path: string }) {
    this.#path = options.path;
    if (fs.existsSync(this.#path)) this.#load();
  }

  #fromStored(stored: StoredKey | undefined, what: string): SecretKey | undefined {
    if (stored === undefined) return undefined;
    if (!CIPHER_ALGORITHMS.includes(stored.algorithm) || typeof stored.hex !== "string")
      throw new KeyFileError(this.#path, `${what} entry is malformed`);
    try {
      const bytes = fromHex(stored.hex);
      const key = new SecretKey(stored.algorithm, bytes);
      bytes.fill(0);
      return key;
    } catch {
      throw new KeyFileError(this.#path, `${what} entry is not a valid ${stored.algorithm} key`);
    }
  }

  #load(): void {
    const text = fs.readFileSync(this.#path, "utf8");
    if (text.length > FILE_BYTES_MAX) throw new KeyFileError(this.#path, `larger than ${FILE_BYTES_MAX} bytes`);
    let parsed: StoredFile;
    try {
      parsed = JSON.parse(text) as StoredFile;
    } catch {
      throw new KeyFileError(this.#path, "not valid JSON");
    }
    if (parsed === null || typeof parsed !== "object" || parsed.version !== 1)
      throw new KeyFileError(this.#path, "not a version 1 key file");
    const tmk = this.#fromStored(parsed.tmk, "tmk");
    if (tmk !== undefined) this.#memory.saveMasterKey(tmk);
    const pik = this.#fromStored(parsed.pik, "pik");
    const mak = this.#fromStored(parsed.mak, "mak");
    if (pik !== undefined && mak !== undefined) this.#memory.replaceWorkingKeys({ pik, mak, tdk: this.#fromStored(parsed.tdk, "tdk") });
    const dek = this.#fromStored(parsed.dek, "dek");
    if (dek !== undefined && dek.algorithm !== "sm4") throw new KeyFileError(this.#path, "dek entry is not an sm4 key");
    if (dek !== undefined) this.#memory.saveDataKey(dek);
  }

  #write(): void {
    const tmk = this.#memory.loadMasterKey();
    const working = this.#memory.loadWorkingKeys();
    const dek = this.#memory.storedDataKey();
    const file: StoredFile = {
      version: 1,
      tmk: tmk && toStored(tmk),
      pik: working && toStored(working.pik),
      mak: working && toStored(working.mak),
      tdk: working?.tdk && toStored(working.tdk),
      dek: dek && toStored(dek),
    };
    const temporary = `${this.#path}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(file), { mode: 0o600 });
    fs.renameSync(temporary, this.#path);
  }

  loadMasterKey(): SecretKey | undefined {
    return this.#memory.loadMasterKey();
  }

  saveMasterKey(tmk: SecretKey): void {
    this.#memory.saveMasterKey(tmk);
    this.#write();
  }

  loadWorkingKeys(): WorkingKeys | undefined {
    return this.#memory.loadWorkingKeys();
  }

  replaceWorkingKeys(keys: WorkingKeys): void {
    this.#memory.replaceWorkingKeys(keys);
    this.#write();
  }

  loadDataKey(random: Random): SecretKey {
    if (this.#memory.storedDataKey() === undefined) {
      this.#memory.saveDataKey(newDataKey(random));
      this.#write();
    }
    return this.#memory.loadDataKey(random);
  }

  clear(): void {
    this.#memory.clear();
    this.#write();
  }

  toString(): string {
    return `FileKeyStore(${this.#path}, [redacted])`;
  }
  toJSON(): string {
    return this.toString();
  }
}
