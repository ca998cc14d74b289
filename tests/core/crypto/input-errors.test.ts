/**
 * Every CryptoInputError of the MAC, PIN block, key and PAN code names what was wrong in `what`, not only in its
 * message: `toThrow(error)` compares messages alone, so these tests read the error itself.
 */
import { fromHex } from "../../../modules/base/hex";
import { CryptoInputError } from "../../../modules/crypto/errors";
import { MemoryKeyStore } from "../../../modules/crypto/key-store";
import { keyCheckValue, SecretKey, unwrapWorkingKeys } from "../../../modules/crypto/keys";
import { cbcMac, cupEcbMac, MAC_DATA_BYTES_MAX, retailMac } from "../../../modules/crypto/mac";
import { luhnCheckDigit } from "../../../modules/crypto/pan";
import { pinBlockFormat0, pinBlockFormat3, pinFromBlock, sm4PinBlock } from "../../../modules/crypto/pin-block";
import { SeededRandom } from "../../../modules/platform/random";

const PAN = "6228480000000023";
const TDES = () => new SecretKey("tdes", fromHex("0123456789ABCDEFFEDCBA9876543210"));

/** What `run` threw: its class, `what` and message (fails when it threw nothing). */
function thrown(run: () => unknown): { name: string; what: string; message: string } {
  try {
    run();
  } catch (error) {
    const e = error as CryptoInputError;
    return { name: `${e instanceof CryptoInputError ? "CryptoInputError" : "other"}:${e.name}`, what: e.what, message: e.message };
  }
  throw new Error("expected a CryptoInputError, nothing was thrown");
}

/** A format 0 block of PIN 1234 with one byte changed: `xor` into byte `index`. */
function damaged(index: number, xor: number): Uint8Array {
  const block = pinBlockFormat0("1234", PAN);
  block[index] ^= xor;
  return block;
}

const CASES: [string, () => unknown, string, string][] = [
  // pan.ts
  ["Luhn of an empty PAN", () => luhnCheckDigit(""), "pan", "PAN must be 1 to 19 digits"],
  ["Luhn of 20 digits", () => luhnCheckDigit("1".repeat(20)), "pan", "PAN must be 1 to 19 digits"],
  ["Luhn of a letter", () => luhnCheckDigit("62284A"), "pan", "PAN must contain digits only"],
  // mac.ts
  ["a CUP MAC over too much data", () => cupEcbMac(TDES().createCipher(), new Uint8Array(MAC_DATA_BYTES_MAX + 1)), "data", "MAC data is"],
  ["a CBC MAC over too much data", () => cbcMac(TDES().createCipher(), new Uint8Array(MAC_DATA_BYTES_MAX + 1)), "data", "MAC data is"],
  [
    "a retail MAC over too much data",
    () => retailMac(TDES().createCipher(), TDES().createCipher(), new Uint8Array(MAC_DATA_BYTES_MAX + 1)),
    "data",
    "MAC data is",
  ],
  // pin-block.ts
  ["a PIN of 3 digits", () => pinBlockFormat0("123", PAN), "pin", "PIN must be"],
  ["a PIN with a letter", () => pinBlockFormat3("12a4", PAN, new SeededRandom(1)), "pin", "PIN must be"],
  ["an SM4 block for a short PAN", () => sm4PinBlock("1234", "12345678901"), "pan", "PAN must be"],
  ["a PIN block read back for a PAN with a letter", () => pinFromBlock(new Uint8Array(8), "62284800000000A3"), "pan", "PAN must be"],
  ["a PIN block of 7 bytes", () => pinFromBlock(new Uint8Array(7), PAN), "pinBlock", "PIN block must be 8 or 16 bytes"],
  ["a PIN block with format nibble 1", () => pinFromBlock(damaged(0, 0x10), PAN), "pinBlock", "unsupported format nibble"],
  ["a PIN block with PIN length 3", () => pinFromBlock(damaged(0, 0x07), PAN), "pinBlock", "invalid PIN length"],
  ["a PIN block whose length runs into the filler", () => pinFromBlock(damaged(0, 0x02), PAN), "pinBlock", "non-digit in the PIN"],
  ["a PIN block with a damaged filler", () => pinFromBlock(damaged(7, 0x01), PAN), "pinBlock", "invalid filler"],
  // keys.ts
  [
    "a wiped key",
    () => {
      const key = TDES();
      key.wipe();
      return key.exposeBytes();
    },
    "key",
    "was wiped",
  ],
  ["a check value of 5 bytes", () => keyCheckValue(TDES().createCipher(), 5 as 3), "bytes", "check value length"],
  ["an F62 of 23 bytes", () => unwrapWorkingKeys(new Uint8Array(23), TDES()), "f62", "F62 must be 24, 40 or 60 bytes"],
  [
    "an F62 of DES keys under an SM4 TMK",
    () => unwrapWorkingKeys(new Uint8Array(24), new SecretKey("sm4", new Uint8Array(16).fill(1))),
    "f62",
    "an SM4 TMK needs 16-byte working keys",
  ],
  // key-store.ts
  ["a data key that is not SM4", () => new MemoryKeyStore().saveDataKey(TDES()), "key", "the data key must be an sm4 key"],
];

describe("CryptoInputError names what was wrong", () => {
  test.each(CASES.map(([name, run, what, message]) => [name, what, message, run] as const))(
    "%s: what = %s",
    (_name, what, message, run) => {
      const error = thrown(run);
      expect([error.name, error.what]).toEqual(["CryptoInputError:CryptoInputError", what]);
      expect(error.message).toContain(message);
    },
  );
});
