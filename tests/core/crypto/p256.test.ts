/**
 * ECDSA P-256 verification: the test images' manifests signed by node:crypto with the TEST-ONLY key
 * (tests/fixtures/update) pass; any changed bit of digest, r or s fails; malformed keys are typed errors.
 */
import { fromHex } from "../../../modules/base/hex";
import { CryptoInputError } from "../../../modules/crypto/errors";
import { checkP256Inputs, verifyP256, verifyP256Sha256 } from "../../../modules/crypto/p256";
import { sha256 } from "../../../modules/crypto/sha256";
import { manifestBytes } from "../../../modules/tms/manifest";
import { SIGNED_MANIFESTS } from "../../fixtures/update/signed-images";
import { TEST_PUBLIC_KEY_HEX } from "../../fixtures/update/test-images";

const publicKey = fromHex(TEST_PUBLIC_KEY_HEX);
const N_HEX = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

function signed(name: keyof typeof SIGNED_MANIFESTS): { digest: Uint8Array; signature: Uint8Array } {
  const m = SIGNED_MANIFESTS[name];
  return { digest: sha256(manifestBytes({ ...m, sha256: fromHex(m.sha256) })), signature: fromHex(m.signature) };
}

describe("ECDSA P-256 verify", () => {
  test("every fixture manifest verifies under the test public key", () => {
    for (const name of Object.keys(SIGNED_MANIFESTS) as (keyof typeof SIGNED_MANIFESTS)[]) {
      const { digest, signature } = signed(name);
      expect(verifyP256(publicKey, digest, signature)).toBe(true);
    }
  });

  test("the TMS test key's signature of 1.2.0 (crashesOnBoot, 4096 bytes) verifies: the Linux terminal refused it", () => {
    const tmsKey = fromHex(
      "04D6B438232F0DDCBEA093AA76278341D47EFC777DDA37E11DD816E0013AF9DC6B6285E6B145CB4698943220E383A11564385FF25CE3E7163456ADC5FA00001A94",
    );
    const digest = fromHex("ED811441FB1457FBEA3F0BA8BF1F060092ADFE6FB6EE1D41393EEC4B505DA945");
    const signature = fromHex(
      "46C61B73A944619ACCB7F3511E3929962E6FFC72BDA8045E2AFD22DB0B0407E4D937DFBB8E15681EF069E726B1B16B6409F24372B2B29DCC86C8AD77DC0CC5FC",
    );
    expect(verifyP256(tmsKey, digest, signature)).toBe(true);
  });

  test("a flipped bit in the digest, in r or in s fails; one manifest's signature does not pass for another", () => {
    const { digest, signature } = signed("v110");
    for (const bit of [0, 7, 100, 255]) {
      const d = digest.slice();
      d[bit >> 3] ^= 1 << (bit & 7);
      expect(verifyP256(publicKey, d, signature)).toBe(false);
    }
    for (const at of [0, 31, 32, 63]) {
      const s = signature.slice();
      s[at] ^= 0x01;
      expect(verifyP256(publicKey, digest, s)).toBe(false);
    }
    expect(verifyP256(publicKey, signed("v120").digest, signature)).toBe(false);
  });

  test("r or s out of [1, n-1] fails without arithmetic on them", () => {
    const { digest, signature } = signed("v110");
    const zeroR = signature.slice();
    zeroR.fill(0, 0, 32);
    expect(verifyP256(publicKey, digest, zeroR)).toBe(false);
    const bigS = signature.slice();
    bigS.set(fromHex(N_HEX), 32);
    expect(verifyP256(publicKey, digest, bigS)).toBe(false);
  });

  test("another key does not verify; malformed keys, digests and signatures are typed errors", () => {
    const { digest, signature } = signed("v110");
    // The curve's generator G is a valid public key (private key 1), not the signer's.
    const g = fromHex(
      "046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C2964FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
    );
    expect(verifyP256(g, digest, signature)).toBe(false);
    const offCurve = publicKey.slice();
    offCurve[64] ^= 1;
    expect(() => verifyP256(offCurve, digest, signature)).toThrow(CryptoInputError);
    expect(() => verifyP256(publicKey.subarray(0, 64), digest, signature)).toThrow(CryptoInputError);
    expect(() => verifyP256(publicKey, digest.subarray(0, 31), signature)).toThrow(CryptoInputError);
    expect(() => verifyP256(publicKey, digest, signature.subarray(0, 63))).toThrow(CryptoInputError);
  });
});

describe("ECDSA P-256 over SHA-256 of a message", () => {
  test("verifyP256Sha256 takes the manifest bytes: the fixtures verify, a changed byte does not", () => {
    const m = SIGNED_MANIFESTS.v110;
    const message = manifestBytes({ ...m, sha256: fromHex(m.sha256) });
    const signature = fromHex(m.signature);
    expect(verifyP256Sha256(publicKey, message, signature)).toBe(true);
    message[message.length - 1] ^= 1;
    expect(verifyP256Sha256(publicKey, message, signature)).toBe(false);
  });

  test("checkP256Inputs passes a good key and signature and throws verifyP256's typed errors on malformed ones", () => {
    const signature = fromHex(SIGNED_MANIFESTS.v110.signature);
    expect(() => checkP256Inputs(publicKey, signature)).not.toThrow();
    const offCurve = publicKey.slice();
    offCurve[64] ^= 1;
    for (const [key, sig] of [
      [offCurve, signature],
      [publicKey.subarray(0, 64), signature],
      [publicKey, signature.subarray(0, 63)],
    ] as const) {
      expect(() => checkP256Inputs(key, sig)).toThrow(CryptoInputError);
      expect(() => verifyP256Sha256(key, new Uint8Array(3), sig)).toThrow(CryptoInputError);
    }
  });
});
