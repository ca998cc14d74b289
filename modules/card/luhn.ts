/**
 * The Luhn (mod 10) check that every payment PAN carries in its last digit.
 */
const PAN_DIGITS_MIN = 12;
const PAN_DIGITS_MAX = 19;

/** True when `pan` is 12 to 19 decimal digits and its last digit is the Luhn check digit. */
export function luhnValid(pan: string): boolean {
  if (pan.length < PAN_DIGITS_MIN || pan.length > PAN_DIGITS_MAX) return false;
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    const digit = pan.charCodeAt(pan.length - 1 - i) - 0x30;
    if (digit < 0 || digit > 9) return false;
    if (i % 2 === 1) sum += digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    else sum += digit;
  }
  return sum % 10 === 0;
}

/** Masks a PAN to first 6 / last 4 (PCI DSS 3.4) for any output. */
export function maskPan(pan: string): string {
  if (pan.length < 10) return "*".repeat(pan.length);
  return pan.slice(0, 6) + "*".repeat(pan.length - 10) + pan.slice(-4);
}
