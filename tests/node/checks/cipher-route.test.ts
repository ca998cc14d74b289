/** hosts/esp32/cipher-route.ts: the block cipher route from the `ciphers` setting and the build's native DES capability. */
import { chooseCiphers, CipherRouteError } from "../../../hosts/esp32/cipher-route";
import type { CipherAlgorithm, CipherProvider } from "../../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../../modules/crypto/ciphers";

/** Stands in for the mbedtls provider: only its identity matters here. */
const nativeStandIn: CipherProvider = Object.freeze({
  create: (algorithm: CipherAlgorithm, key: Uint8Array) => softwareCiphers.create(algorithm, key),
});

describe("chooseCiphers", () => {
  test.each([
    ["auto", true, "native"],
    ["auto", false, "software"],
    ["native", true, "native"],
    ["software", true, "software"],
    ["software", false, "software"],
  ] as const)("%s with native DES %s → %s", (setting, available, route) => {
    const choice = chooseCiphers(setting, available, nativeStandIn);
    expect(choice.route).toBe(route);
    expect(choice.provider).toBe(route === "native" ? nativeStandIn : softwareCiphers);
  });

  test("native on a build without the DES API (Mbed TLS 4) is a configuration error, not a silent fallback", () => {
    expect(() => chooseCiphers("native", false, nativeStandIn)).toThrow(CipherRouteError);
    expect(() => chooseCiphers("native", false, nativeStandIn)).toThrow("no native DES");
  });

  test("an unknown setting is refused by name", () => {
    expect(() => chooseCiphers("mbedtls", true, nativeStandIn)).toThrow('ciphers "mbedtls": expected "auto", "native" or "software"');
  });
});
