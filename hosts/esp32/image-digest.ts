/**
 * The native SHA-256 for the updater's image digest (image-digest.c over
 * mbedtls; on the ESP32 its hardware accelerator). Chosen at boot when the
 * build has it and it gives the FIPS 180-2 known answer; otherwise the
 * updater keeps the TypeScript digest of modules/crypto.
 */
import { bytesEqual, fromAscii, fromHex } from "../../modules/base/hex";
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

/** FIPS 180-2 B.1: SHA-256("abc"). */
const ABC_SHA256 = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";

/** The native digest when this build has it and it answers right; undefined: use the TypeScript one. */
export function nativeImageDigest(): (() => ImageDigest) | undefined {
  if (!(native("xs_xspos_sha256_available").call(undefined) as boolean)) return undefined;
  const probe = new NativeSha256();
  probe.update(fromAscii("abc"));
  return bytesEqual(probe.digest(), fromHex(ABC_SHA256)) ? () => new NativeSha256() : undefined;
}
