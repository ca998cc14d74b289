/**
 * Sub-field codecs of the CUP private fields (shared/reference/cup-pos-and-reversal.md
 * §1.3, §2.7, §3.1). Each works on the field value as the codec gives it
 * (digits for n fields, hex for b fields). Bad input throws Iso8583Error with
 * the field number and, as offset, the character position in the value.
 */
import { assertInteger } from "../base/assert";
import { fromHex } from "../base/hex";
import { Iso8583Error } from "./error";

function digits(field: number, at: number, value: string, width: number): string {
  if (value.length !== width) throw new Iso8583Error(field, at, "wrongLength", `${width} digits expected`);
  for (let i = 0; i < width; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) throw new Iso8583Error(field, at + i, "nonDigit");
  }
  return value;
}

function allDigits(field: number, value: string): void {
  digits(field, 0, value, value.length);
}

/** Zero-padded decimal of a non-negative integer amount or count. */
export function padNumber(value: number, width: number): string {
  assertInteger(value, 0, 10 ** width - 1, `a ${width}-digit number`);
  return String(value).padStart(width, "0");
}

// ---------------------------------------------------------------- F60

export interface Field60 {
  /** 60.1 transaction type code, 2 digits (22 sale, 23 void, 01 balance, 25 refund, 00 management). */
  readonly type: string;
  /** 60.2 batch number, 6 digits. */
  readonly batch: string;
  /** 60.3 network management code, 3 digits (003 sign-on 3DES, 002 sign-off, 301 echo, 201 settlement). */
  readonly netCode?: string;
  /** 60.4 terminal read capability, 1 digit (5 IC, 6 IC + contactless, 2 magnetic stripe). */
  readonly readCapability?: string;
  /** 60.5 IC condition code, 1 digit. */
  readonly icCondition?: string;
  /** 60.6 partial approval support, 1 digit. */
  readonly partialApproval?: string;
  /** 60.7 account type, 3 digits. */
  readonly accountType?: string;
}

// Each pair frozen too: xsl warns about (and the device clones to RAM) any preloaded object left writable.
const F60_PARTS = Object.freeze([
  Object.freeze(["type", 2] as const),
  Object.freeze(["batch", 6] as const),
  Object.freeze(["netCode", 3] as const),
  Object.freeze(["readCapability", 1] as const),
  Object.freeze(["icCondition", 1] as const),
  Object.freeze(["partialApproval", 1] as const),
  Object.freeze(["accountType", 3] as const),
] as const);

export function encodeField60(value: Field60): string {
  let out = "";
  let ended = false;
  for (const [name, width] of F60_PARTS) {
    const part = value[name];
    if (part === undefined) {
      ended = true;
      continue;
    }
    // Sub-fields are positional: a later one cannot be present without the earlier ones.
    if (ended) throw new Iso8583Error(60, out.length, "wrongLength", `60.${name} without the sub-fields before it`);
    out += digits(60, out.length, part, width);
  }
  return out;
}

export function decodeField60(value: string): Field60 {
  allDigits(60, value);
  const out: Record<string, string> = {};
  let at = 0;
  for (const [name, width] of F60_PARTS) {
    if (at === value.length) break;
    if (at + width > value.length) throw new Iso8583Error(60, at, "wrongLength", `60.${name} cut short`);
    out[name] = value.slice(at, at + width);
    at += width;
  }
  if (at < 8) throw new Iso8583Error(60, 0, "wrongLength", "60.1 and 60.2 are required");
  return out as unknown as Field60;
}

// ---------------------------------------------------------------- F61

export interface Field61 {
  /** 61.1 original batch, 6 digits. */
  readonly batch: string;
  /** 61.2 original STAN, 6 digits. */
  readonly stan: string;
  /** 61.3 original date MMDD (refund, pre-auth family), 4 digits. */
  readonly date?: string;
}

export function encodeField61(value: Field61): string {
  return digits(61, 0, value.batch, 6) + digits(61, 6, value.stan, 6) + (value.date === undefined ? "" : digits(61, 12, value.date, 4));
}

export function decodeField61(value: string): Field61 {
  allDigits(61, value);
  if (value.length !== 12 && value.length < 16) throw new Iso8583Error(61, 0, "wrongLength", "12 or at least 16 digits expected");
  const out = { batch: value.slice(0, 6), stan: value.slice(6, 12) };
  return value.length >= 16 ? { ...out, date: value.slice(12, 16) } : out;
}

// ---------------------------------------------------------------- F62 working keys (0810)

/** Working keys as delivered: encrypted under the TMK, each with its 4-byte check value. */
export interface WorkingKeys {
  readonly pik: Uint8Array;
  readonly pikCheck: Uint8Array;
  readonly mak: Uint8Array;
  readonly makCheck: Uint8Array;
  readonly tdk?: Uint8Array;
  readonly tdkCheck?: Uint8Array;
}

const CHECK_BYTES = 4;

/** 24 bytes: single DES PIK|CV|MAK|CV; 40 bytes: double-length; 60 bytes: double-length plus TDK|CV. */
export function decodeWorkingKeys(hex: string): WorkingKeys {
  const bytes = fieldBytes(62, hex);
  const keyBytes = bytes.length === 24 ? 8 : bytes.length === 40 || bytes.length === 60 ? 16 : 0;
  if (keyBytes === 0) throw new Iso8583Error(62, 0, "wrongLength", `${bytes.length} bytes; 24, 40 or 60 expected`);
  const slot = keyBytes + CHECK_BYTES;
  const key = (i: number) => bytes.subarray(i * slot, i * slot + keyBytes);
  const check = (i: number) => bytes.subarray(i * slot + keyBytes, (i + 1) * slot);
  const keys = { pik: key(0), pikCheck: check(0), mak: key(1), makCheck: check(1) };
  return bytes.length === 60 ? { ...keys, tdk: key(2), tdkCheck: check(2) } : keys;
}

export function encodeWorkingKeys(keys: WorkingKeys): Uint8Array {
  const keyBytes = keys.pik.length;
  const parts = [keys.pik, keys.pikCheck, keys.mak, keys.makCheck];
  if (keys.tdk !== undefined && keys.tdkCheck !== undefined) parts.push(keys.tdk, keys.tdkCheck);
  const valid =
    (keyBytes === 8 || keyBytes === 16) &&
    !(keyBytes === 8 && keys.tdk !== undefined) &&
    parts.every((p, i) => p.length === (i % 2 === 0 ? keyBytes : CHECK_BYTES));
  if (!valid) throw new Iso8583Error(62, 0, "wrongLength", "keys of 8 or 16 bytes with 4-byte check values");
  const out = new Uint8Array((parts.length / 2) * (keyBytes + CHECK_BYTES));
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

/** Bytes of a b field's hex value; bad hex is an Iso8583Error naming the field. */
export function fieldBytes(field: number, hex: string): Uint8Array {
  try {
    return fromHex(hex);
  } catch {
    throw new Iso8583Error(field, 0, "badHex");
  }
}

// ---------------------------------------------------------------- F48 settlement totals (0500/0510)

export interface CurrencyTotals {
  /** Minor units. */
  readonly debitAmount: number;
  readonly debitCount: number;
  readonly creditAmount: number;
  readonly creditCount: number;
  /** 对账应答码: "0" in the request; in 0510 "1" balanced, "2" unbalanced, "3" error. */
  readonly result: string;
}

export interface SettlementTotals {
  /** 内卡 domestic cards. */
  readonly domestic: CurrencyTotals;
  /** 外卡 foreign cards. */
  readonly foreign: CurrencyTotals;
}

const TOTALS_DIGITS = 31;

function encodeCurrency(t: CurrencyTotals, at: number): string {
  return (
    padNumber(t.debitAmount, 12) +
    padNumber(t.debitCount, 3) +
    padNumber(t.creditAmount, 12) +
    padNumber(t.creditCount, 3) +
    digits(48, at + 30, t.result, 1)
  );
}

function decodeCurrency(value: string, at: number): CurrencyTotals {
  return {
    debitAmount: Number(value.slice(at, at + 12)),
    debitCount: Number(value.slice(at + 12, at + 15)),
    creditAmount: Number(value.slice(at + 15, at + 27)),
    creditCount: Number(value.slice(at + 27, at + 30)),
    result: value.slice(at + 30, at + 31),
  };
}

export function encodeSettlementTotals(totals: SettlementTotals): string {
  return encodeCurrency(totals.domestic, 0) + encodeCurrency(totals.foreign, TOTALS_DIGITS);
}

export function decodeSettlementTotals(value: string): SettlementTotals {
  allDigits(48, value);
  if (value.length !== 2 * TOTALS_DIGITS) throw new Iso8583Error(48, 0, "wrongLength", `${2 * TOTALS_DIGITS} digits expected`);
  return { domestic: decodeCurrency(value, 0), foreign: decodeCurrency(value, TOTALS_DIGITS) };
}

// ---------------------------------------------------------------- F53 security control

export interface SecurityControl {
  /** 53.1 PIN block format: "2" = ISO 9564 format 0 with PAN, "1" without PAN, "0" no PIN. */
  readonly pinFormat: string;
  /** 53.2 algorithm: "0" single DES, "6" double-length 3DES, "3" SM4. */
  readonly algorithm: string;
  /** 53.3 F35/F36 are TDK-encrypted. */
  readonly trackEncrypted: boolean;
}

export function encodeSecurityControl(value: SecurityControl): string {
  return digits(53, 0, value.pinFormat, 1) + digits(53, 1, value.algorithm, 1) + (value.trackEncrypted ? "1" : "0") + "0000000000000";
}

export function decodeSecurityControl(value: string): SecurityControl {
  digits(53, 0, value, 16);
  if (value[2] !== "0" && value[2] !== "1") throw new Iso8583Error(53, 2, "nonDigit", "53.3 must be 0 or 1");
  return { pinFormat: value[0], algorithm: value[1], trackEncrypted: value[2] === "1" };
}
