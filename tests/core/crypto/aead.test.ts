/** SM4-GCM for data at rest: RFC 8998 appendix A.1 vector, tamper detection, the nonce scheme. */
import { fromAscii, fromHex, toHex } from "../../../modules/base/hex";
import { Gcm, sm4Gcm, TAG_BYTES } from "../../../modules/crypto/aead";
import { AuthenticationError, CryptoInputError } from "../../../modules/crypto/errors";
import { SecretKey } from "../../../modules/crypto/keys";
import { Sm4 } from "../../../modules/crypto/sm4";

const KEY = "0123456789ABCDEFFEDCBA9876543210";
const NONCE = fromHex("00001234567800000000ABCD");
const AAD = fromHex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
const PLAIN = fromHex(
  "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
);
const SEALED =
  "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D" +
  "83DE3541E4C2B58177E065A9BF7B62EC";

describe("SM4-GCM", () => {
  test("RFC 8998 A.1: seal gives the published ciphertext and tag; open gives the plaintext back", () => {
    const gcm = new Gcm(new Sm4(fromHex(KEY)));
    expect(toHex(gcm.seal(NONCE, PLAIN, AAD))).toBe(SEALED);
    expect(gcm.open(NONCE, fromHex(SEALED), AAD)).toEqual(PLAIN);
  });

  test("any flipped bit in ciphertext, tag, nonce or associated data fails authentication", () => {
    const gcm = sm4Gcm(new SecretKey("sm4", fromHex(KEY)));
    for (const index of [0, 63, 64, 79]) {
      const damaged = fromHex(SEALED);
      damaged[index] ^= 1;
      expect(() => gcm.open(NONCE, damaged, AAD)).toThrow(AuthenticationError);
    }
    const otherNonce = NONCE.slice();
    otherNonce[11] ^= 1;
    expect(() => gcm.open(otherNonce, fromHex(SEALED), AAD)).toThrow(AuthenticationError);
    expect(() => gcm.open(NONCE, fromHex(SEALED), fromAscii("other"))).toThrow(AuthenticationError);
  });

  test("journal-sized payloads seal into caller buffers and round-trip, including empty ones", () => {
    const gcm = sm4Gcm(new SecretKey("sm4", fromHex(KEY)));
    const nonce = fromHex("000000010000000000000029");
    for (const text of ["", "6225880012345678", "62258800123456789012345678901234"]) {
      const plaintext = fromAscii(text);
      const sealed = new Uint8Array(plaintext.length + TAG_BYTES);
      expect(gcm.seal(nonce, plaintext, fromAscii("record 41"), sealed)).toBe(sealed);
      if (text.length > 0) expect(toHex(sealed)).not.toContain(toHex(plaintext));
      const opened = new Uint8Array(plaintext.length);
      expect(gcm.open(nonce, sealed, fromAscii("record 41"), opened)).toEqual(plaintext);
    }
  });

  test("bad nonce, short sealed data, wrong output size and a non-SM4 key are typed errors", () => {
    const gcm = new Gcm(new Sm4(fromHex(KEY)));
    expect(() => gcm.seal(new Uint8Array(8), PLAIN, AAD)).toThrow(CryptoInputError);
    expect(() => gcm.open(NONCE, new Uint8Array(15), AAD)).toThrow(CryptoInputError);
    expect(() => gcm.seal(NONCE, PLAIN, AAD, new Uint8Array(3))).toThrow(CryptoInputError);
    expect(() => sm4Gcm(new SecretKey("tdes", fromHex(KEY)))).toThrow(CryptoInputError);
    expect(String(gcm)).toBe("Gcm([redacted])");
  });
});
