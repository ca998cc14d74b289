/**
 * A firmware image's manifest as the terminal judges it (docs/update.md): the
 * version rule ("major.minor.patch", each 0..65535, ordered as numbers), the
 * canonical bytes the acquirer's signing key signs, and the signature check
 * against the public key provisioned at manufacture.
 *
 * The canonical bytes are modules/tms/manifest.ts's `manifestBytes` (one format for the host that
 * signs and the terminal that verifies), signed as SHA-256 of them, ECDSA P-256, raw r ‖ s.
 */
import { verifyP256Sha256, type P256Check } from "../crypto/p256";
import { SHA256_BYTES } from "../crypto/sha256";
import { manifestBytes, parseVersion, SIGNATURE_BYTES } from "../tms/manifest";
import { MAX_IMAGE_BYTES, type ImageManifest } from "../tms/source";

export type { ImageManifest };

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
  const parts = parseVersion(version);
  if (parts === undefined) throw new ManifestError("version", "version must be major.minor.patch, each 0..65535");
  return parts[0] * 2 ** 32 + parts[1] * 2 ** 16 + parts[2];
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
  if (manifest.signature.length !== SIGNATURE_BYTES)
    throw new ManifestError("signature", `signature must be ${SIGNATURE_BYTES} bytes (r ‖ s)`);
}

/** True when the manifest is signed by the holder of `publicKey`'s private key (checked by `check`, default the core's). */
export function verifyManifest(manifest: ImageManifest, publicKey: Uint8Array, check: P256Check = verifyP256Sha256): boolean {
  checkManifest(manifest);
  return check(publicKey, manifestBytes(manifest), manifest.signature);
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
