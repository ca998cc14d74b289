/**
 * The native SHA-256 for the updater's image digest (image-digest.c over
 * mbedtls; on the ESP32 its hardware accelerator). Chosen at boot when the
 * build has it and it gives the FIPS 180-2 known answer; otherwise the
 * updater keeps the TypeScript digest of modules/crypto.
 */
import { sha256KnownAnswer } from "../../modules/update/self-test";
import type { ImageDigest } from "../../modules/update/updater";

export class NativeSha256 extends Native("xs_xspos_sha256_destructor") implements ImageDigest {
  constructor() {
    super();
    native("xs_xspos_sha256").call(this);
  }

  update(bytes: Uint8Array): void {
    native("xs_xspos_sha256_update").call(this, bytes);
  }

  digest(): Uint8Array {
    return new Uint8Array(native("xs_xspos_sha256_digest").call(this) as ArrayBuffer);
  }
}

/** The native digest when this build has it and it answers right; undefined: use the TypeScript one. */
export function nativeImageDigest(): (() => ImageDigest) | undefined {
  if (!(native("xs_xspos_sha256_available").call(undefined) as boolean)) return undefined;
  const answers = sha256KnownAnswer((bytes) => {
    const probe = new NativeSha256();
    probe.update(bytes);
    return probe.digest();
  });
  return answers ? () => new NativeSha256() : undefined;
}
