/**
 * The firmware's own self-test on a new image's first boot (docs/update.md):
 * known answers of the code the next update depends on — SHA-256 (FIPS 180-2
 * B.1) and ECDSA P-256 verification (RFC 6979 A.2.5, "sample" with SHA-256) —
 * so an image that could not verify its successor is never confirmed. The signature check tested is the one
 * the updater verifies with (the host's when it hands one, modules/crypto/p256.ts `P256Check`).
 * The host adds its own (hardware, the image's checks) through the terminal.
 */
import { bytesEqual, fromAscii, fromHex } from "../base/hex";
import { verifyP256Sha256, type P256Check } from "../crypto/p256";
import { sha256 } from "../crypto/sha256";

/** FIPS 180-2 B.1: SHA-256("abc"). */
const ABC_SHA256 = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
const RFC6979_PUBLIC_KEY =
  "0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB67903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
const RFC6979_SIGNATURE =
  "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

/** True when `hash` is SHA-256 as far as FIPS 180-2's first known answer tells (a native digest is chosen by it). */
export function sha256KnownAnswer(hash: (bytes: Uint8Array) => Uint8Array): boolean {
  return bytesEqual(hash(fromAscii("abc")), fromHex(ABC_SHA256));
}

/** True when the digest and the signature check give their known answers (a good one passes, a changed one fails). */
export function updateSelfTest(check: P256Check = verifyP256Sha256): boolean {
  if (!sha256KnownAnswer(sha256)) return false;
  const key = fromHex(RFC6979_PUBLIC_KEY);
  const message = fromAscii("sample");
  const signature = fromHex(RFC6979_SIGNATURE);
  if (!check(key, message, signature)) return false;
  signature[63] ^= 1;
  return !check(key, message, signature);
}
