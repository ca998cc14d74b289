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

export interface TerminalParameters {
  readonly host: string;
  readonly port: number;
  readonly tid: string;
  readonly mid: string;
  readonly serverName: string;
  readonly responseTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reversalRetries: number;
  readonly blockSalesWhileReversalFailed: boolean;
}

/** Parameter name → NVS key (NVS keys are at most 15 characters). */
const NVS_KEYS: Readonly<Record<keyof TerminalParameters, string>> = Object.freeze({
  host: "host",
  port: "port",
  tid: "tid",
  mid: "mid",
  serverName: "serverName",
  responseTimeoutMs: "respTimeoutMs",
  connectTimeoutMs: "connTimeoutMs",
  reversalRetries: "revRetries",
  blockSalesWhileReversalFailed: "blockOnRevFail",
});

const PARAMETERS_DOMAIN = "xspos";
const KEYS_DOMAIN = "xspos-keys";
/** ESP-IDF NVS limits: 15-character names, about 4000 bytes per blob; key blobs are far smaller. */
const NVS_NAME_LENGTH_MAX = 15;
const KEY_BLOB_BYTES_MAX = 512;
export const NVS_BLOB_BYTES_MAX = 4000;

/** A stored value of the wrong type, or out of range: the parameter is unusable, not silently defaulted. */
export class ParameterError extends Error {
  override readonly name = "ParameterError";
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

function stored(name: keyof TerminalParameters): unknown {
  const value = Preference.get(PARAMETERS_DOMAIN, NVS_KEYS[name]);
  return value === undefined ? (config as Record<string, unknown>)[name] : value;
}

function text(name: keyof TerminalParameters, lengthMax: number): string {
  const value = stored(name);
  if (typeof value !== "string" || value.length === 0 || value.length > lengthMax)
    throw new ParameterError(name, `${name} must be a string of 1 to ${lengthMax} characters`);
  return value;
}

function integer(name: keyof TerminalParameters, min: number, max: number): number {
  const value = stored(name);
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ParameterError(name, `${name} must be an integer in [${min}, ${max}]`);
  return value;
}

function flag(name: keyof TerminalParameters): boolean {
  const value = stored(name);
  if (typeof value !== "boolean") throw new ParameterError(name, `${name} must be a boolean`);
  return value;
}

export function loadTerminalParameters(): TerminalParameters {
  return {
    host: text("host", 63),
    port: integer("port", 1, 65535),
    tid: text("tid", 8),
    mid: text("mid", 15),
    serverName: text("serverName", 253),
    responseTimeoutMs: integer("responseTimeoutMs", 1000, 300_000),
    connectTimeoutMs: integer("connectTimeoutMs", 1000, 120_000),
    reversalRetries: integer("reversalRetries", 1, 10),
    blockSalesWhileReversalFailed: flag("blockSalesWhileReversalFailed"),
  };
}

/** Persists one parameter (each set is an NVS commit: call on change, not per transaction). */
export function saveTerminalParameter<K extends keyof TerminalParameters>(name: K, value: TerminalParameters[K]): void {
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
