/**
 * A firmware image's manifest as the terminal judges it (docs/update.md): the
 * version rule ("major.minor.patch", each 0..65535, ordered as numbers), the
 * canonical bytes the acquirer's signing key signs, and the signature check
 * against the public key provisioned at manufacture.
 *
 * Canonical bytes (signed as SHA-256 of them, ECDSA P-256, raw r ‖ s):
 *   ASCII "xspos-image-1" ‖ 00 ‖ version ASCII ‖ 00 ‖ sizeBytes u32 big-endian ‖ sha256 (32 bytes)
 * The prefix names the format so a signature over anything else never passes as a manifest's.
 */
import { fromAscii } from "../base/hex";
import { verifyP256 } from "../crypto/p256";
import { sha256, SHA256_BYTES } from "../crypto/sha256";
import type { ImageManifest } from "../tms/source";
import { MAX_IMAGE_BYTES } from "../tms/source";

export type { ImageManifest };

const CANONICAL_PREFIX = "xspos-image-1";
const VERSION_PART_MAX = 65535;
const VERSION_TEXT_MAX = 17; // "65535.65535.65535"

/** A manifest the terminal cannot even read (bad version text, size, digest length): typed, with what was wrong. */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
  constructor(
    readonly field: "version" | "sizeBytes" | "sha256" | "signature",
    message: string,
  ) {
    super(message);
  }
}

/** "major.minor.patch" as one ordered number (major·2³² + minor·2¹⁶ + patch); throws ManifestError. */
export function versionCode(version: string): number {
  const parts = version.length <= VERSION_TEXT_MAX ? version.split(".") : [];
  if (parts.length !== 3 || !parts.every((p) => /^(0|[1-9][0-9]{0,4})$/.test(p) && Number(p) <= VERSION_PART_MAX))
    throw new ManifestError("version", `version must be major.minor.patch, each 0..${VERSION_PART_MAX}`);
  return Number(parts[0]) * 2 ** 32 + Number(parts[1]) * 2 ** 16 + Number(parts[2]);
}

/** The text of a version code (the inverse of versionCode). */
export function versionText(code: number): string {
  return `${Math.floor(code / 2 ** 32)}.${Math.floor(code / 2 ** 16) % 2 ** 16}.${code % 2 ** 16}`;
}

/** Throws ManifestError unless every field has its shape (the signature is judged by verifyManifest). */
export function checkManifest(manifest: ImageManifest): void {
  versionCode(manifest.version);
  if (!Number.isInteger(manifest.sizeBytes) || manifest.sizeBytes < 1 || manifest.sizeBytes > MAX_IMAGE_BYTES)
    throw new ManifestError("sizeBytes", `image size must be 1..${MAX_IMAGE_BYTES} bytes`);
  if (manifest.sha256.length !== SHA256_BYTES) throw new ManifestError("sha256", "image digest must be 32 bytes");
  if (manifest.signature.length !== 64) throw new ManifestError("signature", "signature must be 64 bytes (r ‖ s)");
}

/** The bytes the signature covers. */
export function canonicalManifestBytes(manifest: Pick<ImageManifest, "version" | "sizeBytes" | "sha256">): Uint8Array {
  const prefix = fromAscii(CANONICAL_PREFIX);
  const version = fromAscii(manifest.version);
  const out = new Uint8Array(prefix.length + 1 + version.length + 1 + 4 + SHA256_BYTES);
  out.set(prefix, 0);
  let at = prefix.length + 1; // 00 separator (the array starts zeroed)
  out.set(version, at);
  at += version.length + 1;
  const size = manifest.sizeBytes;
  out[at] = size >>> 24;
  out[at + 1] = (size >>> 16) & 0xff;
  out[at + 2] = (size >>> 8) & 0xff;
  out[at + 3] = size & 0xff;
  out.set(manifest.sha256, at + 4);
  return out;
}

/** True when the manifest is signed by the holder of `publicKey`'s private key. */
export function verifyManifest(manifest: ImageManifest, publicKey: Uint8Array): boolean {
  checkManifest(manifest);
  return verifyP256(publicKey, sha256(canonicalManifestBytes(manifest)), manifest.signature);
}

/** A version code (below 2^48) as 6 bytes big-endian. */
export function writeU48(out: Uint8Array, at: number, value: number): void {
  for (let i = 5; i >= 0; i--) out[at + 5 - i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
}

/** The version code of 6 bytes big-endian. */
export function readU48(bytes: Uint8Array, at: number): number {
  let value = 0;
  for (let i = 0; i < 6; i++) value = value * 256 + bytes[at + i];
  return value;
}
