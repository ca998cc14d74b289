/**
 * Moddable's `preference` module (typings/preference.d.ts) for the Linux
 * terminal, over ../nvs-files.c (opened by ../nvs.ts): the same API and value types as ESP-IDF NVS
 * (boolean, 32-bit integer, string, ArrayBuffer blob), so
 * hosts/esp32/preferences.ts and its NvsKeyStore run unchanged. A value is
 * stored as one type byte and its bytes.
 */
const TYPE_BOOLEAN = 0x62; // "b"
const TYPE_INTEGER = 0x69; // "i"
const TYPE_STRING = 0x73; // "s"
const TYPE_BLOB = 0x61; // "a"
const BLOB_BYTES_MAX = 4000;

type Value = boolean | number | string | ArrayBuffer;

interface XsStrings {
  fromString(text: string): ArrayBuffer;
  fromArrayBuffer(bytes: ArrayBuffer): string;
}

function encode(value: Value): Uint8Array {
  if (typeof value === "boolean") return Uint8Array.of(TYPE_BOOLEAN, value ? 1 : 0);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error("float unsupported");
    if (value < -(2 ** 31) || value > 2 ** 31 - 1) throw new RangeError("integer out of 32-bit range");
    const out = new Uint8Array(5);
    out[0] = TYPE_INTEGER;
    new DataView(out.buffer).setInt32(1, value, true);
    return out;
  }
  const bytes =
    typeof value === "string"
      ? new Uint8Array((ArrayBuffer as unknown as XsStrings).fromString(value))
      : value instanceof ArrayBuffer
        ? new Uint8Array(value)
        : undefined;
  if (bytes === undefined) throw new TypeError("unsupported type");
  if (bytes.length > BLOB_BYTES_MAX) throw new RangeError(`value longer than ${BLOB_BYTES_MAX} bytes`);
  const out = new Uint8Array(1 + bytes.length);
  out[0] = typeof value === "string" ? TYPE_STRING : TYPE_BLOB;
  out.set(bytes, 1);
  return out;
}

function decode(stored: ArrayBuffer): Value {
  const bytes = new Uint8Array(stored);
  const body = stored.slice(1);
  switch (bytes[0]) {
    case TYPE_BOOLEAN:
      return bytes[1] === 1;
    case TYPE_INTEGER:
      return new DataView(stored).getInt32(1, true);
    case TYPE_STRING:
      return (String as unknown as XsStrings).fromArrayBuffer(body);
    case TYPE_BLOB:
      return body;
    default:
      throw new Error("nvs: stored value of unknown type");
  }
}

function get(domain: string, key: string): Value | undefined {
  const stored = native("xs_xspos_nvs_read").call(undefined, domain, key) as ArrayBuffer | undefined;
  if (stored === undefined) return undefined;
  try {
    return decode(stored);
  } finally {
    new Uint8Array(stored).fill(0);
  }
}

function set(domain: string, key: string, value: Value): void {
  const bytes = encode(value);
  try {
    native("xs_xspos_nvs_write").call(undefined, domain, key, bytes);
  } finally {
    bytes.fill(0);
  }
}

function remove(domain: string, key: string): void {
  native("xs_xspos_nvs_delete").call(undefined, domain, key);
}

function keys(domain: string): string[] {
  return native("xs_xspos_nvs_keys").call(undefined, domain) as string[];
}

/** Moddable's static API: Preference.get / set / delete / keys. */
const Preference = Object.freeze({ get, set, delete: remove, keys });
export default Preference;
