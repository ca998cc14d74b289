/**
 * The firmware manifest's canonical bytes (docs/tms.md "Manifest"): what the TMS signs and the terminal
 * verifies. Fixed layout, big-endian, 47 bytes:
 *
 *   0  "XSPM"           magic
 *   4  01               format
 *   5  major minor patch  3 x u16
 *  11  sizeBytes        u32
 *  15  sha256           32 bytes
 *
 * The signature is ECDSA P-256 with SHA-256 over these 47 bytes, raw r||s (64 bytes). The 0810 of a
 * manifest request carries manifest || signature in F62 (111 bytes).
 */
import { MAX_IMAGE_BYTES, type ImageManifest } from "./source";
import { TmsError } from "./errors";

export const MANIFEST_BYTES = 47;
export const SIGNATURE_BYTES = 64;
export const SHA256_BYTES = 32;
const MAGIC = Object.freeze([0x58, 0x53, 0x50, 0x4d]); // "XSPM"
const FORMAT = 1;
const VERSION = /^(0|[1-9][0-9]{0,4})\.(0|[1-9][0-9]{0,4})\.(0|[1-9][0-9]{0,4})$/;
const PART_MAX = 0xffff;

/** [major, minor, patch] of "major.minor.patch" (each 0..65535, no leading zeros); undefined when it is not one. */
export function parseVersion(version: string): readonly [number, number, number] | undefined {
  const m = VERSION.exec(version);
  if (m === null) return undefined;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])] as const;
  return parts.every((p) => p <= PART_MAX) ? parts : undefined;
}

/** Negative, 0 or positive as `a` is older than, the same as or newer than `b`. */
export function compareVersions(a: readonly [number, number, number], b: readonly [number, number, number]): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] !== b[1] ? a[1] - b[1] : a[2] - b[2];
}

/** The canonical bytes the signature covers. Throws TmsError (badRequest) for a manifest that has none. */
export function manifestBytes(manifest: Omit<ImageManifest, "signature">, out = new Uint8Array(MANIFEST_BYTES)): Uint8Array {
  const version = parseVersion(manifest.version);
  if (version === undefined) throw new TmsError("badRequest", `version must be major.minor.patch, each 0..${PART_MAX}`);
  if (!Number.isInteger(manifest.sizeBytes) || manifest.sizeBytes < 1 || manifest.sizeBytes > MAX_IMAGE_BYTES)
    throw new TmsError("badRequest", `sizeBytes must be 1..${MAX_IMAGE_BYTES}`);
  if (manifest.sha256.length !== SHA256_BYTES) throw new TmsError("badRequest", `sha256 must be ${SHA256_BYTES} bytes`);
  out.set(MAGIC, 0);
  out[4] = FORMAT;
  writeVersion(out, 5, version);
  writeU32(out, 11, manifest.sizeBytes);
  out.set(manifest.sha256, 15);
  return out;
}

/** The manifest of an 0810's F62 (manifest || signature); a TmsError (malformed) for anything else. */
export function decodeManifestAnswer(f62: Uint8Array): ImageManifest {
  if (f62.length !== MANIFEST_BYTES + SIGNATURE_BYTES)
    throw new TmsError("malformed", `a manifest answer is ${MANIFEST_BYTES + SIGNATURE_BYTES} bytes, got ${f62.length}`);
  for (let i = 0; i < MAGIC.length; i++) if (f62[i] !== MAGIC[i]) throw new TmsError("malformed", "the manifest's magic is not XSPM");
  if (f62[4] !== FORMAT) throw new TmsError("malformed", `manifest format ${f62[4]} is not ${FORMAT}`);
  const sizeBytes = readU32(f62, 11);
  if (sizeBytes < 1 || sizeBytes > MAX_IMAGE_BYTES) throw new TmsError("malformed", `image size ${sizeBytes} is not 1..${MAX_IMAGE_BYTES}`);
  return {
    version: `${readU16(f62, 5)}.${readU16(f62, 7)}.${readU16(f62, 9)}`,
    sizeBytes,
    sha256: f62.slice(15, 15 + SHA256_BYTES),
    signature: f62.slice(MANIFEST_BYTES, MANIFEST_BYTES + SIGNATURE_BYTES),
  };
}

/** F62 of a manifest answer: the canonical bytes, then the signature. */
export function encodeManifestAnswer(manifest: ImageManifest): Uint8Array {
  if (manifest.signature.length !== SIGNATURE_BYTES) throw new TmsError("badRequest", `signature must be ${SIGNATURE_BYTES} bytes`);
  const out = new Uint8Array(MANIFEST_BYTES + SIGNATURE_BYTES);
  manifestBytes(manifest, out);
  out.set(manifest.signature, MANIFEST_BYTES);
  return out;
}

export function writeVersion(out: Uint8Array, at: number, version: readonly [number, number, number]): void {
  for (let i = 0; i < 3; i++) {
    out[at + 2 * i] = version[i] >> 8;
    out[at + 2 * i + 1] = version[i] & 0xff;
  }
}

export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

export function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}
