/** PAN helpers: the Luhn check digit (ISO/IEC 7812-1) and first-6/last-4 masking. */
import { CryptoInputError } from "./errors";

export { maskPan } from "../platform/log";

/** Longest digit string the Luhn functions take (a PAN has at most 19 digits). */
const LUHN_DIGITS_MAX = 19;

function luhnSum(digits: string, doubleFirstFromRight: boolean): number {
  if (digits.length === 0 || digits.length > LUHN_DIGITS_MAX)
    throw new CryptoInputError("pan", `PAN must be 1 to ${LUHN_DIGITS_MAX} digits`);
  let sum = 0;
  for (let i = digits.length - 1, double = doubleFirstFromRight; i >= 0; i--, double = !double) {
    const d = digits.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw new CryptoInputError("pan", "PAN must contain digits only");
    const v = double ? 2 * d : d;
    sum += v > 9 ? v - 9 : v;
  }
  return sum;
}

/** Shortest PAN ISO/IEC 7812-1 allows. */
const PAN_DIGITS_MIN = 12;

/**
 * True when `pan` is 12 to 19 decimal digits and its last digit is the Luhn
 * check digit. A predicate for untrusted input (card reads, CLI): anything
 * else is simply not a valid PAN.
 */
export function luhnValid(pan: string): boolean {
  if (pan.length < PAN_DIGITS_MIN || pan.length > LUHN_DIGITS_MAX) return false;
  for (let i = 0; i < pan.length; i++) {
    const c = pan.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return luhnSum(pan, false) % 10 === 0;
}

/** The check digit to append to `payload`. */
export function luhnCheckDigit(payload: string): number {
  return (10 - (luhnSum(payload, true) % 10)) % 10;
}
