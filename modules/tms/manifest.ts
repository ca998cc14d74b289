/**
 * The firmware manifest's canonical bytes (docs/tms.md "Manifest"): what the acquirer signs, what the
 * update room verifies (docs/update.md), and what the 0810 of a manifest request carries:
 *
 *   ASCII "xspos-image-1" ‖ 00 ‖ version ASCII ("1.1.0") ‖ 00 ‖ sizeBytes u32 big-endian ‖ sha256 (32 bytes)
 *
 * 56 to 68 bytes. The prefix names the format, so a signature over anything else never passes as a
 * manifest's. The signature is ECDSA P-256 with SHA-256 over these bytes, raw r||s (64 bytes); the 0810
 * carries manifest || signature in F62.
 */
import { MAX_IMAGE_BYTES, type ImageManifest } from "./source";
import { SHA256_BYTES } from "../crypto/sha256";
import { TmsError } from "./errors";

const PREFIX = "xspos-image-1";
/** "0.0.0" to "65535.65535.65535". */
const VERSION_CHARS_MIN = 5;
const VERSION_CHARS_MAX = 17;
export const SIGNATURE_BYTES = 64;
/** Canonical bytes around the version text: prefix, two 00 separators, size, digest. */
const FIXED_BYTES = PREFIX.length + 2 + 4 + SHA256_BYTES;
export const MANIFEST_BYTES_MAX = FIXED_BYTES + VERSION_CHARS_MAX;
const PART_MAX = 0xffff;

/** [major, minor, patch] of "major.minor.patch" (each 0..65535, no leading zeros); undefined when it is not one. */
export function parseVersion(version: string): readonly [number, number, number] | undefined {
  // A literal here, not a module constant: see tools/checks/manifest-check.ts (preloaded RegExps on XS 8.2.3).
  const m = /^(0|[1-9][0-9]{0,4})\.(0|[1-9][0-9]{0,4})\.(0|[1-9][0-9]{0,4})$/.exec(version);
  if (m === null) return undefined;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])] as const;
  return parts.every((p) => p <= PART_MAX) ? parts : undefined;
}

/** The canonical bytes the signature covers. Throws TmsError (badRequest) for a manifest that has none. */
export function manifestBytes(manifest: Omit<ImageManifest, "signature">): Uint8Array {
  if (parseVersion(manifest.version) === undefined)
    throw new TmsError("badRequest", `version must be major.minor.patch, each 0..${PART_MAX}`);
  if (!Number.isInteger(manifest.sizeBytes) || manifest.sizeBytes < 1 || manifest.sizeBytes > MAX_IMAGE_BYTES)
    throw new TmsError("badRequest", `sizeBytes must be 1..${MAX_IMAGE_BYTES}`);
  if (manifest.sha256.length !== SHA256_BYTES) throw new TmsError("badRequest", `sha256 must be ${SHA256_BYTES} bytes`);
  const version = manifest.version;
  const out = new Uint8Array(FIXED_BYTES + version.length); // zeroed: the separators are already there
  for (let i = 0; i < PREFIX.length; i++) out[i] = PREFIX.charCodeAt(i);
  let at = PREFIX.length + 1;
  for (let i = 0; i < version.length; i++) out[at + i] = version.charCodeAt(i);
  at += version.length + 1;
  writeU32(out, at, manifest.sizeBytes);
  out.set(manifest.sha256, at + 4);
  return out;
}

/** The manifest of an 0810's F62 (canonical bytes || signature); a TmsError (malformed) for anything else. */
export function decodeManifestAnswer(f62: Uint8Array): ImageManifest {
  const versionChars = f62.length - FIXED_BYTES - SIGNATURE_BYTES;
  if (versionChars < VERSION_CHARS_MIN || versionChars > VERSION_CHARS_MAX)
    throw new TmsError(
      "malformed",
      `a manifest answer is ${FIXED_BYTES + VERSION_CHARS_MIN + SIGNATURE_BYTES} to ${MANIFEST_BYTES_MAX + SIGNATURE_BYTES} bytes, got ${f62.length}`,
    );
  for (let i = 0; i < PREFIX.length; i++)
    if (f62[i] !== PREFIX.charCodeAt(i)) throw new TmsError("malformed", `the manifest does not start with ${PREFIX}`);
  const versionAt = PREFIX.length + 1;
  const sizeAt = versionAt + versionChars + 1;
  if (f62[PREFIX.length] !== 0 || f62[sizeAt - 1] !== 0) throw new TmsError("malformed", "the manifest's separators are not 00");
  let version = "";
  for (let i = versionAt; i < sizeAt - 1; i++) version += String.fromCharCode(f62[i]);
  if (parseVersion(version) === undefined) throw new TmsError("malformed", "the manifest's version is not major.minor.patch");
  const sizeBytes = readU32(f62, sizeAt);
  if (sizeBytes < 1 || sizeBytes > MAX_IMAGE_BYTES) throw new TmsError("malformed", `image size ${sizeBytes} is not 1..${MAX_IMAGE_BYTES}`);
  const signatureAt = sizeAt + 4 + SHA256_BYTES;
  return {
    version,
    sizeBytes,
    sha256: f62.slice(sizeAt + 4, signatureAt),
    signature: f62.slice(signatureAt, signatureAt + SIGNATURE_BYTES),
  };
}

/** F62 of a manifest answer: the canonical bytes, then the signature. */
export function encodeManifestAnswer(manifest: ImageManifest): Uint8Array {
  if (manifest.signature.length !== SIGNATURE_BYTES) throw new TmsError("badRequest", `signature must be ${SIGNATURE_BYTES} bytes`);
  const canonical = manifestBytes(manifest);
  const out = new Uint8Array(canonical.length + SIGNATURE_BYTES);
  out.set(canonical, 0);
  out.set(manifest.signature, canonical.length);
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
