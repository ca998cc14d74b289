/** SHA-256 against FIPS 180-2 Appendix B and the NIST short-message examples; incremental = one-shot. */
import { fromAscii, toHex } from "../../../modules/base/hex";
import { AssertionError } from "../../../modules/base/assert";
import { Sha256, sha256 } from "../../../modules/crypto/sha256";

describe("SHA-256", () => {
  test("FIPS 180-2 B.1 'abc', B.2 the 448-bit message, and the empty message", () => {
    expect(toHex(sha256(fromAscii("abc")))).toBe("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
    expect(toHex(sha256(fromAscii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe(
      "248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1",
    );
    expect(toHex(sha256(new Uint8Array(0)))).toBe("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
  });

  test("FIPS 180-2 B.3: one million 'a', fed in uneven pieces through one reused buffer", () => {
    const piece = new Uint8Array(1000).fill(0x61);
    const hash = new Sha256();
    let left = 1_000_000;
    for (let n = 1; left > 0; n = (n * 7 + 3) % 1000 || 1) {
      const take = Math.min(n, left);
      hash.update(piece, 0, take);
      left -= take;
    }
    expect(toHex(hash.digest())).toBe("CDC76E5C9914FB9281A1C7E284D73E67F1809A48A497200E046D39CCC7112CD0");
  });

  test("every split of a 130-byte message gives the one-shot digest; padding edges 55, 56, 63, 64 bytes", () => {
    const message = new Uint8Array(130).map((_, i) => (i * 31 + 7) & 0xff);
    const whole = toHex(sha256(message));
    const hash = new Sha256();
    for (let split = 0; split <= message.length; split++)
      expect(toHex(hash.reset().update(message, 0, split).update(message, split).digest())).toBe(whole);
    expect(toHex(sha256(new Uint8Array(55).fill(0x61)))).toBe("9F4390F8D30C2DD92EC9F095B65E2B9AE9B0A925A5258E241C9F1E910F734318");
    expect(toHex(sha256(new Uint8Array(56).fill(0x61)))).toBe("B35439A4AC6F0948B6D6F9E3C6AF0F5F590CE20F1BDE7090EF7970686EC6738A");
    expect(toHex(sha256(new Uint8Array(63).fill(0x61)))).toBe("7D3E74A05D7DB15BCE4AD9EC0658EA98E3F06EEECF16B4C6FFF2DA457DDC2F34");
    expect(toHex(sha256(new Uint8Array(64).fill(0x61)))).toBe("FFE054FE7AE0CB6DC65C3AF9B61D5209F439851DB43D0BA5997337DF154668EB");
  });

  test("misuse is an assertion: update after digest, a range outside the buffer", () => {
    const hash = new Sha256();
    hash.digest();
    expect(() => hash.update(new Uint8Array(1))).toThrow(AssertionError);
    expect(() => hash.digest()).toThrow(AssertionError);
    expect(() => new Sha256().update(new Uint8Array(4), 2, 3)).toThrow(AssertionError);
  });
});
