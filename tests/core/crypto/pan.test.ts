import { CryptoInputError } from "../../../modules/crypto/errors";
import { luhnCheckDigit, luhnValid, maskPan } from "../../../modules/crypto/pan";

describe("Luhn", () => {
  test.each(["4111111111111111", "4761739001010119", "6011000990139424", "5413330089020011", "6212345678901234569"])(
    "%s is valid",
    (pan) => {
      expect(luhnValid(pan)).toBe(true);
    },
  );

  test.each(["4111111111111112", "5432101234567891", "6225880012345678", "6212345678901234561"])("%s is not", (pan) => {
    expect(luhnValid(pan)).toBe(false);
  });

  test("check digit computation agrees with validation", () => {
    expect(luhnCheckDigit("7992739871")).toBe(3);
    expect(luhnCheckDigit("411111111111111")).toBe(1);
    for (const payload of ["622588001234567", "543210123456789", "12345678901", "999999999999999999"]) {
      expect(luhnValid(payload + String(luhnCheckDigit(payload)))).toBe(true);
    }
  });

  test("non-digits, empty, short and over-long input are not valid PANs", () => {
    expect(luhnValid("4111-1111-1111-1111")).toBe(false);
    expect(luhnValid("")).toBe(false);
    expect(luhnValid("41111111111")).toBe(false);
    expect(luhnValid("1".repeat(20))).toBe(false);
  });
});

describe("masking", () => {
  test("first 6 / last 4", () => {
    expect(maskPan("6225880012345678")).toBe("622588******5678");
  });
});

describe("Luhn refuses what is not a PAN", () => {
  test.each(["", "12345678901234567890"])("a check digit for %j: CryptoInputError pan, by length", (payload) => {
    expect(() => luhnCheckDigit(payload)).toThrow(new CryptoInputError("pan", "PAN must be 1 to 19 digits"));
  });

  test.each(["41111/1111", "41111:1111", "41111a1111"])("a check digit for %s: CryptoInputError pan, digits only", (payload) => {
    expect(() => luhnCheckDigit(payload)).toThrow(new CryptoInputError("pan", "PAN must contain digits only"));
  });

  test("19 digits take a check digit; 1 digit too", () => {
    expect(luhnCheckDigit("621234567890123456")).toBe(9);
    expect(luhnCheckDigit("7")).toBe(5);
  });

  test.each(["411111111111/111", "411111111111:111", "41111111111111 1"])("%j is not a valid PAN (no error)", (pan) => {
    expect(luhnValid(pan)).toBe(false);
  });
});
