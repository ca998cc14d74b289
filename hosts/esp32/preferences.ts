/**
 * Terminal parameters and key blobs in NVS through Moddable's `preference`
 * module. Parameters start from the build's `mc/config` (manifest.json
 * `config`) and an NVS value, once set (by a parameter download or the
 * service menu), wins over it.
 *
 * Key material: NvsBlobStore is the byte store under NvsKeyStore (the
 * modules/crypto KeyStore). NVS is in the clear unless the build enables NVS
 * encryption (docs/device.md).
 */
import config from "mc/config";
import Preference from "preference";
import { assert, assertInteger } from "../../modules/base/assert";
import { READER_KINDS, type ReaderCareState, type ReaderCareStore } from "../../modules/terminal/reader-care";
import { PARAMETER_TABLE, ParameterError, resolveParameters } from "../../modules/terminal/parameters";
import { NVS_KEYS, NVS_OLD_KEYS, PARAMETERS_DOMAIN, type ConnectionSettings, type DeviceParameters } from "./nvs-keys";

export { ParameterError };

export type { ConnectionSettings, DeviceParameters };

const KEYS_DOMAIN = "xspos-keys";
/** ESP-IDF NVS limits: 15-character names, about 4000 bytes per blob; key blobs are far smaller. */
const NVS_NAME_LENGTH_MAX = 15;
const KEY_BLOB_BYTES_MAX = 512;
export const NVS_BLOB_BYTES_MAX = 4000;

function stored(name: keyof DeviceParameters): unknown {
  const value = Preference.get(PARAMETERS_DOMAIN, NVS_KEYS[name]);
  if (value !== undefined) return value;
  const old = NVS_OLD_KEYS[name];
  const oldValue = old === undefined ? undefined : Preference.get(PARAMETERS_DOMAIN, old);
  return oldValue ?? (config as Record<string, unknown>)[name];
}

function text(name: keyof ConnectionSettings, lengthMax: number): string {
  const value = stored(name);
  if (typeof value !== "string" || value.length === 0 || value.length > lengthMax)
    throw new ParameterError(name, `must be a string of 1 to ${lengthMax} characters`);
  return value;
}

function integer(name: keyof ConnectionSettings, min: number, max: number): number {
  const value = stored(name);
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ParameterError(name, `must be an integer in [${min}, ${max}]`);
  return value;
}

/** The connection settings, then every table parameter from NVS (else the build's config, else its default), checked as one set. */
export function loadTerminalParameters(): DeviceParameters {
  const values: Record<string, unknown> = {};
  for (const spec of PARAMETER_TABLE) {
    const value = stored(spec.name);
    if (value !== undefined) values[spec.name] = value;
  }
  return {
    host: text("host", 63),
    port: integer("port", 1, 65535),
    tid: text("tid", 8),
    mid: text("mid", 15),
    serverName: text("serverName", 253),
    ...resolveParameters(values),
  };
}

/** Persists one parameter (each set is an NVS commit: call on change, not per transaction). */
export function saveTerminalParameter<K extends keyof DeviceParameters>(name: K, value: DeviceParameters[K]): void {
  Preference.set(PARAMETERS_DOMAIN, NVS_KEYS[name], value);
}

/** Named byte blobs in their own NVS namespace; copies in and out, never holds a caller's buffer. */
export class NvsBlobStore {
  readonly #domain: string;
  readonly #blobBytesMax: number;

  /** `blobBytesMax`: key blobs are small (512); a pinned CA certificate in DER needs up to NVS_BLOB_BYTES_MAX. */
  constructor(domain: string = KEYS_DOMAIN, blobBytesMax: number = KEY_BLOB_BYTES_MAX) {
    assert(domain.length > 0 && domain.length <= NVS_NAME_LENGTH_MAX, "NVS namespace must be 1 to 15 characters");
    assertInteger(blobBytesMax, 1, NVS_BLOB_BYTES_MAX, "blobBytesMax");
    this.#domain = domain;
    this.#blobBytesMax = blobBytesMax;
  }

  get(name: string): Uint8Array | undefined {
    this.#checkName(name);
    const value = Preference.get(this.#domain, name);
    if (value === undefined) return undefined;
    if (!(value instanceof ArrayBuffer) || value.byteLength > this.#blobBytesMax)
      throw new ParameterError(name, `${name} is not a blob of at most ${this.#blobBytesMax} bytes`);
    return new Uint8Array(value);
  }

  set(name: string, bytes: Uint8Array): void {
    this.#checkName(name);
    assertInteger(bytes.length, 1, this.#blobBytesMax, "blob length");
    // Preference stores only an ArrayBuffer (a view throws "unsupported type"); copy the view's range.
    const copy = bytes.slice().buffer;
    Preference.set(this.#domain, name, copy);
    new Uint8Array(copy).fill(0);
  }

  delete(name: string): void {
    this.#checkName(name);
    Preference.delete(this.#domain, name);
  }

  names(): string[] {
    return Preference.keys(this.#domain);
  }

  #checkName(name: string): void {
    assert(name.length > 0 && name.length <= NVS_NAME_LENGTH_MAX, "NVS key must be 1 to 15 characters");
  }
}

const DIAGNOSTICS_DOMAIN = "xspos-diag";
const READER_CARE_KEY = "readerCare";

/**
 * The card readers' counters (modules/terminal/reader-care.ts) as one JSON string in NVS: saved at a
 * failed read and every 20 reads, so the flash sees a write per few dozen cards, not per card. A value
 * that does not parse back into counters is dropped (the counters start again), never trusted.
 */
export class NvsReaderCareStore implements ReaderCareStore {
  load(): ReaderCareState | undefined {
    const value = Preference.get(DIAGNOSTICS_DOMAIN, READER_CARE_KEY);
    if (typeof value !== "string" || value.length > NVS_BLOB_BYTES_MAX) return undefined;
    try {
      const parsed: unknown = JSON.parse(value);
      return isReaderCareState(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  save(state: ReaderCareState): void {
    Preference.set(DIAGNOSTICS_DOMAIN, READER_CARE_KEY, JSON.stringify(state));
  }
}

function isReaderCareState(value: unknown): value is ReaderCareState {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return READER_KINDS.every((reader) => {
    const c = record[reader] as Record<string, unknown> | undefined;
    return (
      typeof c === "object" &&
      c !== null &&
      [c.reads, c.failures, c.window, c.windowReads].every((n) => typeof n === "number" && Number.isInteger(n) && n >= 0) &&
      typeof c.reasons === "object" &&
      c.reasons !== null &&
      Object.values(c.reasons).every((n) => typeof n === "number" && Number.isInteger(n) && n >= 0)
    );
  });
}
