import { CryptoInputError } from "../../../modules/crypto/errors";
import { luhnCheckDigit, luhnValid, maskPan } from "../../../modules/crypto/pan";

describe("Luhn", () => {
  test.each(["4111111111111111", "4761739001010119", "6011000990139424", "5413330089020011", "79927398713", "0"])("%s is valid", (pan) => {
    expect(luhnValid(pan)).toBe(true);
  });

  test.each(["4111111111111112", "5432101234567891", "6225880012345678", "79927398710"])("%s is not", (pan) => {
    expect(luhnValid(pan)).toBe(false);
  });

  test("check digit computation agrees with validation", () => {
    expect(luhnCheckDigit("7992739871")).toBe(3);
    expect(luhnCheckDigit("411111111111111")).toBe(1);
    for (const payload of ["622588001234567", "543210123456789", "1", "999999999999999999"]) {
      expect(luhnValid(payload + String(luhnCheckDigit(payload)))).toBe(true);
    }
  });

  test("non-digits, empty and over-long input are typed errors", () => {
    expect(() => luhnValid("4111-1111")).toThrow(CryptoInputError);
    expect(() => luhnValid("")).toThrow(CryptoInputError);
    expect(() => luhnValid("1".repeat(20))).toThrow(CryptoInputError);
  });
});

describe("masking", () => {
  test("first 6 / last 4", () => {
    expect(maskPan("6225880012345678")).toBe("622588******5678");
  });
});
