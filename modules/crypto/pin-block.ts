/**
 * PIN blocks (ISO 9564-1). Format 0 (= ANSI X9.8) and format 3: the PIN field
 * `F L P P P P …` XOR the PAN field `0000` + the 12 rightmost PAN digits
 * without the check digit; format 0 fills with F, format 3 with random A-F.
 * The SM4 block (F59 tag A1) is the same construction widened to 16 bytes:
 * PIN field filled with F to 32 nibbles, PAN field right-aligned behind 20
 * zero nibbles. That widening is this project's reading, not a published
 * vector: confirm it with the acquirer.
 *
 * Errors name the rule broken, never the PIN, the PAN or the block.
 */
import type { Random } from "../platform/random";
import { CryptoInputError } from "./errors";

export type PinBlockFormat = 0 | 3;

export const PIN_DIGITS_MIN = 4;
export const PIN_DIGITS_MAX = 12;
export const PAN_DIGITS_MIN = 13;
export const PAN_DIGITS_MAX = 19;

function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return text.length > 0;
}

function checkPin(pin: string): void {
  if (pin.length < PIN_DIGITS_MIN || pin.length > PIN_DIGITS_MAX || !isDigits(pin))
    throw new CryptoInputError("pin", `PIN must be ${PIN_DIGITS_MIN} to ${PIN_DIGITS_MAX} digits`);
}

function checkPan(pan: string): void {
  if (pan.length < PAN_DIGITS_MIN || pan.length > PAN_DIGITS_MAX || !isDigits(pan))
    throw new CryptoInputError("pan", `PAN must be ${PAN_DIGITS_MIN} to ${PAN_DIGITS_MAX} digits (got ${pan.length} characters)`);
}

/**
 * Writes the block of `blockBytes` (8 or 16): PIN field with the control
 * nibble and `fill(i)` for filler nibble i, XOR the PAN field.
 */
function buildBlock(control: number, pin: string, pan: string, out: Uint8Array, fill: (i: number) => number): Uint8Array {
  checkPin(pin);
  checkPan(pan);
  const nibbles = 2 * out.length;
  const panDigits = pan.slice(-13, -1);
  for (let byte = 0; byte < out.length; byte++) {
    let value = 0;
    for (let half = 0; half < 2; half++) {
      const i = 2 * byte + half;
      const pinNibble = i === 0 ? control : i === 1 ? pin.length : i - 2 < pin.length ? pin.charCodeAt(i - 2) - 0x30 : fill(i);
      const panIndex = i - (nibbles - 12);
      const panNibble = panIndex >= 0 ? panDigits.charCodeAt(panIndex) - 0x30 : 0;
      value = (value << 4) | (pinNibble ^ panNibble);
    }
    out[byte] = value;
  }
  return out;
}

/** ISO 9564 format 0 clear PIN block (8 bytes). */
export function pinBlockFormat0(pin: string, pan: string, out = new Uint8Array(8)): Uint8Array {
  return buildBlock(0, pin, pan, out, () => 0xf);
}

/** ISO 9564 format 3 clear PIN block (8 bytes): filler nibbles are random in A-F. */
export function pinBlockFormat3(pin: string, pan: string, random: Random, out = new Uint8Array(8)): Uint8Array {
  const randomBytes = new Uint8Array(8);
  random.fill(randomBytes);
  // byte % 6 has a bias of under 2% between fill values; the fill only has to be unpredictable, not uniform.
  const block = buildBlock(3, pin, pan, out, (i) => 0xa + (randomBytes[i >> 1] % 6));
  randomBytes.fill(0);
  return block;
}

/** The 16-byte clear PIN block that is SM4-encrypted under the PIK and carried in F59 tag A1. */
export function sm4PinBlock(pin: string, pan: string, out = new Uint8Array(16)): Uint8Array {
  return buildBlock(0, pin, pan, out, () => 0xf);
}

/**
 * Recovers the PIN from a clear block of format 0 or 3 (8 bytes) or the
 * 16-byte SM4 form, checking the control nibble, the length and the filler.
 * For the host simulator, which plays the issuer.
 */
export function pinFromBlock(block: Uint8Array, pan: string): string {
  checkPan(pan);
  if (block.length !== 8 && block.length !== 16)
    throw new CryptoInputError("pinBlock", `PIN block must be 8 or 16 bytes, got ${block.length}`);
  const nibbles = 2 * block.length;
  const panDigits = pan.slice(-13, -1);
  const clear = (i: number): number => {
    const raw = (block[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 15;
    const panIndex = i - (nibbles - 12);
    return raw ^ (panIndex >= 0 ? panDigits.charCodeAt(panIndex) - 0x30 : 0);
  };
  const control = clear(0);
  const length = clear(1);
  if (control !== 0 && !(control === 3 && block.length === 8))
    throw new CryptoInputError("pinBlock", "PIN block has an unsupported format nibble");
  if (length < PIN_DIGITS_MIN || length > PIN_DIGITS_MAX) throw new CryptoInputError("pinBlock", "PIN block has an invalid PIN length");
  let pin = "";
  for (let i = 2; i < nibbles; i++) {
    const value = clear(i);
    if (i - 2 < length) {
      if (value > 9) throw new CryptoInputError("pinBlock", "PIN block has a non-digit in the PIN");
      pin += String.fromCharCode(0x30 + value);
    } else if (control === 0 ? value !== 0xf : value < 0xa) {
      throw new CryptoInputError("pinBlock", "PIN block has an invalid filler (wrong PAN or key?)");
    }
  }
  return pin;
}
