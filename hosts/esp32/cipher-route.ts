/**
 * Which block ciphers the device uses, decided once at boot:
 * - "native": DES/3DES in C over mbedtls (block-cipher.c), SM4 in TypeScript;
 * - "software": every cipher in TypeScript (modules/crypto), the only route
 *   on Mbed TLS 4 / ESP-IDF 6, which dropped the legacy DES API.
 * `auto` (manifest config `ciphers`) takes native when the build has it
 * (`xs_xspos_des_available`), software otherwise; `native` on a build
 * without it is a configuration error, not a silent fallback.
 *
 * Where the provider goes: the engine's MAC and PIN ciphers
 * (TxnEngineOptions.ciphers, through DeviceTerminal); the TMK unwrap and the
 * journal's SM4 seal are software on either route (docs/device.md "mbedtls
 * versions").
 */
import { softwareCiphers } from "../../modules/crypto/ciphers";
import type { CipherProvider } from "../../modules/crypto/block-cipher";

export type CipherRoute = "native" | "software";
export type CipherRouteSetting = CipherRoute | "auto";

/** An unknown `ciphers` setting, or "native" on a build without the mbedtls DES API. */
export class CipherRouteError extends Error {
  override readonly name = "CipherRouteError";
  constructor(
    readonly setting: string,
    detail: string,
  ) {
    super(`ciphers "${setting}": ${detail}`);
  }
}

export interface CipherChoice {
  readonly route: CipherRoute;
  readonly provider: CipherProvider;
}

export function chooseCiphers(setting: string, nativeAvailable: boolean, native: CipherProvider): CipherChoice {
  if (setting !== "auto" && setting !== "native" && setting !== "software")
    throw new CipherRouteError(setting, 'expected "auto", "native" or "software"');
  if (setting === "native" && !nativeAvailable)
    throw new CipherRouteError(setting, 'this build has no native DES (Mbed TLS 4, or XSPOS_NO_NATIVE_DES); use "auto" or "software"');
  const route: CipherRoute = setting === "software" || !nativeAvailable ? "software" : "native";
  return { route, provider: route === "native" ? native : softwareCiphers };
}
