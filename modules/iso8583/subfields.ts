/**
 * Sub-field codecs of the CUP private fields (docs/cup-dialect.md: encodings,
 * settlement, keys). Each works on the field value as the codec gives it
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

/** Zero-padded decimal of a non-negative integer amount or count; a value too wide is a programming error (assert). */
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

const F60_DIGITS_MAX = 17;

export function decodeField60(value: string): Field60 {
  allDigits(60, value);
  // Refused, not cut: digits past 60.7 would be dropped without a word.
  if (value.length > F60_DIGITS_MAX)
    throw new Iso8583Error(60, F60_DIGITS_MAX, "lengthOverMaximum", `${value.length} digits; 60.1 to 60.7 hold ${F60_DIGITS_MAX}`);
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

/** 61.1–61.3: what voids and refunds carry. Longer values are refused, not cut (61.4 on is not read here). */
const F61_DIGITS_MAX = 16;

export function decodeField61(value: string): Field61 {
  allDigits(61, value);
  if (value.length > F61_DIGITS_MAX)
    throw new Iso8583Error(61, F61_DIGITS_MAX, "lengthOverMaximum", `${value.length} digits; 61.1 to 61.3 hold ${F61_DIGITS_MAX}`);
  if (value.length !== 12 && value.length !== 16) throw new Iso8583Error(61, 0, "wrongLength", `${value.length} digits; 12 or 16 expected`);
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

/** A count or amount of F48 in `width` digits; one that does not fit is an Iso8583Error naming it, never cut. */
function totalsNumber(value: number, width: number, at: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Iso8583Error(48, at, "nonDigit", `${what} must be a non-negative integer`);
  if (value > 10 ** width - 1) throw new Iso8583Error(48, at, "lengthOverMaximum", `${what} ${value} does not fit ${width} digits`);
  return String(value).padStart(width, "0");
}

function encodeCurrency(t: CurrencyTotals, at: number): string {
  return (
    totalsNumber(t.debitAmount, 12, at, "debit amount") +
    totalsNumber(t.debitCount, 3, at + 12, "debit count") +
    totalsNumber(t.creditAmount, 12, at + 15, "credit amount") +
    totalsNumber(t.creditCount, 3, at + 27, "credit count") +
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
  // 53.4 is reserved: digits there would be dropped by this decoder, so they are refused.
  for (let i = 3; i < 16; i++) if (value[i] !== "0") throw new Iso8583Error(53, i, "nonDigit", "53.4 (reserved) must be all 0");
  return { pinFormat: value[0], algorithm: value[1], trackEncrypted: value[2] === "1" };
}

// ---------------------------------------------------------------- F54 balance amounts (0210 of a balance inquiry)

/** One 20-character amount of F54 (ISO 8583:1987 / CUP layout). */
export interface BalanceAmount {
  /** 54.1 account type, 2 digits ("00" unspecified, "10" savings, "20" cheque, "30" credit). */
  readonly accountType: string;
  /** 54.2 amount type, 2 digits ("01" ledger balance, "02" available balance). */
  readonly amountType: string;
  /** 54.3 currency, 3 digits (ISO 4217 numeric, "156" CNY). */
  readonly currency: string;
  /** 54.4 "C" credit (the account holds money), "D" debit (it owes). */
  readonly sign: "C" | "D";
  /** 54.5 minor units, 12 digits on the wire. */
  readonly amount: number;
}

const F54_ITEM_CHARS = 20;
/** LLLVAR an...120: at most six amounts. */
export const F54_ITEMS_MAX = 6;

/** The amounts of an F54 value, in order; anything but whole 20-character items of the layout is an Iso8583Error at its position. */
export function decodeField54(value: string): BalanceAmount[] {
  if (value.length === 0 || value.length % F54_ITEM_CHARS !== 0)
    throw new Iso8583Error(54, 0, "wrongLength", `${value.length} characters; whole ${F54_ITEM_CHARS}-character amounts expected`);
  if (value.length > F54_ITEMS_MAX * F54_ITEM_CHARS)
    throw new Iso8583Error(54, F54_ITEMS_MAX * F54_ITEM_CHARS, "lengthOverMaximum", `at most ${F54_ITEMS_MAX} amounts`);
  const items: BalanceAmount[] = [];
  for (let at = 0; at < value.length; at += F54_ITEM_CHARS) {
    const accountType = digits(54, at, value.slice(at, at + 2), 2);
    const amountType = digits(54, at + 2, value.slice(at + 2, at + 4), 2);
    const currency = digits(54, at + 4, value.slice(at + 4, at + 7), 3);
    const sign = value[at + 7];
    if (sign !== "C" && sign !== "D") throw new Iso8583Error(54, at + 7, "nonText", "54.4 sign must be C or D");
    const amount = Number(digits(54, at + 8, value.slice(at + 8, at + 20), 12));
    items.push({ accountType, amountType, currency, sign, amount });
  }
  return items;
}

export function encodeField54(items: readonly BalanceAmount[]): string {
  if (items.length === 0 || items.length > F54_ITEMS_MAX)
    throw new Iso8583Error(54, 0, "wrongLength", `${items.length} amounts; 1 to ${F54_ITEMS_MAX} expected`);
  let out = "";
  for (const item of items) {
    const at = out.length;
    if (item.sign !== "C" && item.sign !== "D") throw new Iso8583Error(54, at + 7, "nonText", "54.4 sign must be C or D");
    if (!Number.isSafeInteger(item.amount) || item.amount < 0 || item.amount > 999_999_999_999)
      throw new Iso8583Error(54, at + 8, "lengthOverMaximum", "54.5 amount must be 0 to 999999999999 minor units");
    out +=
      digits(54, at, item.accountType, 2) +
      digits(54, at + 2, item.amountType, 2) +
      digits(54, at + 4, item.currency, 3) +
      item.sign +
      String(item.amount).padStart(12, "0");
  }
  return out;
}
