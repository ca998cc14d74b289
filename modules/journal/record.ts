/**
 * Payload codecs of the three record kinds (docs/journal-format.md §4). What
 * is stored follows PCI DSS 3.3.1: never track data, CVV, PIN or PIN block;
 * the PAN only as the cipher sealed it.
 */
import { assert } from "../base/assert";
import { fromAscii, toAscii } from "../base/hex";
import { JournalFormatError, JournalInputError } from "./errors";
import { PAYLOAD_BYTES, PAYLOAD_OFFSET, readBcd, readU32, writeBcd, writeU32 } from "./format";

export type ReversalReason = "98" | "A0" | "06";
const REASONS: readonly string[] = Object.freeze(["98", "A0", "06"]);

/** EMV data of the request that the 0400 repeats (with 9F1E from the terminal identity). */
export interface EmvAtArm {
  /** 95 TVR, 5 bytes. */
  readonly tvr: Uint8Array;
  /** 9F36 ATC, 2 bytes. */
  readonly atc: Uint8Array;
  /** 9F10 issuer application data, at most 32 bytes (what fits; see the doc). */
  readonly issuerApplicationData: Uint8Array;
}

/** What `arm` stores: enough to rebuild the 0400 exactly (CUP reference §2.4). */
export interface TransactionData {
  /** MTI of the request, e.g. "0200". */
  readonly mti: string;
  /** F3, 6 digits. */
  readonly processingCode: string;
  /** F4 in minor units. */
  readonly amount: number;
  /** F11, 6 digits. */
  readonly stan: string;
  /** F60.2, 6 digits. */
  readonly batch: string;
  /** When the request was built, seconds since 1970. */
  readonly timeSeconds: number;
  /** F14 YYMM. */
  readonly expiry?: string;
  /** F22, 3 digits. */
  readonly entryMode: string;
  /** F23, 3 digits. */
  readonly cardSequence?: string;
  /** F25, 2 digits. */
  readonly conditionCode: string;
  /** F49, 3 digits. */
  readonly currency: string;
  /** F38 carried by the request itself (pre-auth completion), 6 characters. */
  readonly originalAuthCode?: string;
  /** F60 digits (at most 17). */
  readonly f60: string;
  /** F61 digits (voids: original batch + STAN), at most 18. */
  readonly f61?: string;
  /** Domestic (UnionPay) card: settlement totals split on it. */
  readonly domestic: boolean;
  readonly emv?: EmvAtArm;
}

/** The PAN is given to `arm` separately, sealed before it reaches the record and never kept in clear. */
export interface StoredTransaction extends TransactionData {
  readonly hasPan: boolean;
}

/** An AEAD: the shape of modules/crypto/aead.ts `Gcm` (SM4-GCM). `open` throws when the tag fails. */
export interface PanCipher {
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

export const PAN_BCD_BYTES = 10;
const SEALED_PAN_BYTES_MAX = 40;
const F60_DIGITS_MAX = 17;
const F61_DIGITS_MAX = 18;
const IAD_BYTES_MAX = 32;

const FLAG_DOMESTIC = 1;
const FLAG_F14 = 2;
const FLAG_F23 = 4;
const FLAG_F38 = 8;

function digits(value: string | undefined, count: number, what: string): void {
  if (value === undefined || value.length !== count || !/^[0-9]+$/.test(value))
    throw new JournalInputError(what, `${what} must be ${count} digits`);
}

/** Writes a TXN payload at PAYLOAD_OFFSET of `slot`; `sealedPan` is empty when there is no PAN. */
export function encodeTransaction(txn: TransactionData, sealedPan: Uint8Array, slot: Uint8Array): void {
  digits(txn.mti, 4, "mti");
  digits(txn.processingCode, 6, "processingCode");
  digits(txn.stan, 6, "stan");
  digits(txn.batch, 6, "batch");
  digits(txn.entryMode, 3, "entryMode");
  digits(txn.conditionCode, 2, "conditionCode");
  digits(txn.currency, 3, "currency");
  if (txn.expiry !== undefined) digits(txn.expiry, 4, "expiry");
  if (txn.cardSequence !== undefined) digits(txn.cardSequence, 3, "cardSequence");
  if (!Number.isSafeInteger(txn.amount) || txn.amount < 0 || txn.amount > 999999999999)
    throw new JournalInputError("amount", "amount must be 0..999999999999");
  if (!Number.isInteger(txn.timeSeconds) || txn.timeSeconds < 0 || txn.timeSeconds > 0xffffffff)
    throw new JournalInputError("timeSeconds", "time must be a u32");
  if (txn.originalAuthCode !== undefined && !/^[ -~]{6}$/.test(txn.originalAuthCode))
    throw new JournalInputError("originalAuthCode", "F38 must be 6 printable characters");
  if (txn.f60.length > F60_DIGITS_MAX) throw new JournalInputError("f60", `F60 must be at most ${F60_DIGITS_MAX} digits`);
  if (txn.f61 !== undefined && txn.f61.length > F61_DIGITS_MAX)
    throw new JournalInputError("f61", `F61 must be at most ${F61_DIGITS_MAX} digits`);
  if (sealedPan.length > SEALED_PAN_BYTES_MAX) throw new JournalInputError("pan", "sealed PAN is too long");
  const emv = txn.emv;
  if (emv !== undefined) {
    if (emv.tvr.length !== 5 || emv.atc.length !== 2) throw new JournalInputError("emv", "95 must be 5 bytes and 9F36 2 bytes");
    if (emv.issuerApplicationData.length > IAD_BYTES_MAX) throw new JournalInputError("emv", `9F10 must be at most ${IAD_BYTES_MAX} bytes`);
  }
  const f60Bytes = (txn.f60.length + 1) >> 1;
  const f61Bytes = txn.f61 === undefined ? 0 : (txn.f61.length + 1) >> 1;
  const emvBytes = emv === undefined ? 0 : 8 + emv.issuerApplicationData.length;
  const needed = 37 + 1 + f60Bytes + 1 + f61Bytes + 1 + sealedPan.length + 1 + emvBytes;
  if (needed > PAYLOAD_BYTES)
    throw new JournalInputError("record", `the record needs ${needed} payload bytes, the slot holds ${PAYLOAD_BYTES}`);

  const p = PAYLOAD_OFFSET;
  slot.fill(0xff, p, p + PAYLOAD_BYTES);
  slot[p] =
    (txn.domestic ? FLAG_DOMESTIC : 0) |
    (txn.expiry !== undefined ? FLAG_F14 : 0) |
    (txn.cardSequence !== undefined ? FLAG_F23 : 0) |
    (txn.originalAuthCode !== undefined ? FLAG_F38 : 0);
  writeBcd(slot, p + 1, 2, txn.mti, "mti");
  writeBcd(slot, p + 3, 3, txn.processingCode, "processingCode");
  writeBcd(slot, p + 6, 6, String(txn.amount).padStart(12, "0"), "amount");
  writeBcd(slot, p + 12, 3, txn.stan, "stan");
  writeBcd(slot, p + 15, 3, txn.batch, "batch");
  writeU32(slot, p + 18, txn.timeSeconds);
  if (txn.expiry !== undefined) writeBcd(slot, p + 22, 2, txn.expiry, "expiry");
  writeBcd(slot, p + 24, 2, txn.entryMode, "entryMode");
  if (txn.cardSequence !== undefined) writeBcd(slot, p + 26, 2, txn.cardSequence, "cardSequence");
  writeBcd(slot, p + 28, 1, txn.conditionCode, "conditionCode");
  writeBcd(slot, p + 29, 2, txn.currency, "currency");
  if (txn.originalAuthCode !== undefined) slot.set(fromAscii(txn.originalAuthCode), p + 31);
  let at = p + 37;
  slot[at] = txn.f60.length;
  writeBcd(slot, at + 1, f60Bytes, txn.f60, "f60");
  at += 1 + f60Bytes;
  slot[at] = txn.f61 === undefined ? 0xff : txn.f61.length;
  if (txn.f61 !== undefined) writeBcd(slot, at + 1, f61Bytes, txn.f61, "f61");
  at += 1 + f61Bytes;
  slot[at] = sealedPan.length;
  slot.set(sealedPan, at + 1);
  at += 1 + sealedPan.length;
  if (emv === undefined) {
    slot[at] = 0;
  } else {
    slot[at] = emvBytes;
    slot.set(emv.tvr, at + 1);
    slot.set(emv.atc, at + 6);
    slot[at + 8] = emv.issuerApplicationData.length;
    slot.set(emv.issuerApplicationData, at + 9);
  }
}

export interface DecodedTransaction {
  readonly txn: StoredTransaction;
  readonly sealedPan: Uint8Array;
}

export function decodeTransaction(slot: Uint8Array): DecodedTransaction {
  const p = PAYLOAD_OFFSET;
  const flags = slot[p];
  let at = p + 37;
  const f60Length = Math.min(slot[at], F60_DIGITS_MAX);
  const f60 = readBcd(slot, at + 1, (f60Length + 1) >> 1).slice(0, f60Length);
  at += 1 + ((f60Length + 1) >> 1);
  const f61Length = slot[at] === 0xff ? -1 : Math.min(slot[at], F61_DIGITS_MAX);
  const f61 = f61Length < 0 ? undefined : readBcd(slot, at + 1, (f61Length + 1) >> 1).slice(0, f61Length);
  at += 1 + (f61Length < 0 ? 0 : (f61Length + 1) >> 1);
  const panLength = Math.min(slot[at], SEALED_PAN_BYTES_MAX);
  const sealedPan = slot.slice(at + 1, at + 1 + panLength);
  at += 1 + panLength;
  const emvLength = slot[at];
  const end = p + PAYLOAD_BYTES;
  const emv =
    emvLength === 0 || at + 9 > end
      ? undefined
      : {
          tvr: slot.slice(at + 1, at + 6),
          atc: slot.slice(at + 6, at + 8),
          issuerApplicationData: slot.slice(at + 9, Math.min(end, at + 9 + slot[at + 8])),
        };
  const txn: StoredTransaction = {
    mti: readBcd(slot, p + 1, 2),
    processingCode: readBcd(slot, p + 3, 3),
    amount: Number(readBcd(slot, p + 6, 6)),
    stan: readBcd(slot, p + 12, 3),
    batch: readBcd(slot, p + 15, 3),
    timeSeconds: readU32(slot, p + 18),
    ...(flags & FLAG_F14 ? { expiry: readBcd(slot, p + 22, 2) } : {}),
    entryMode: readBcd(slot, p + 24, 2),
    ...(flags & FLAG_F23 ? { cardSequence: readBcd(slot, p + 26, 2) } : {}),
    conditionCode: readBcd(slot, p + 28, 1),
    currency: readBcd(slot, p + 29, 2),
    ...(flags & FLAG_F38 ? { originalAuthCode: toAscii(slot, p + 31, p + 37) } : {}),
    f60,
    ...(f61 !== undefined ? { f61 } : {}),
    domestic: (flags & FLAG_DOMESTIC) !== 0,
    ...(emv !== undefined ? { emv } : {}),
    hasPan: panLength > 0,
  };
  return { txn, sealedPan };
}

/** Batch number of a TXN payload as an integer (index key), without a full decode. */
export function transactionBatch(slot: Uint8Array): number {
  return Number(readBcd(slot, PAYLOAD_OFFSET + 15, 3));
}

/** F11 STAN of a TXN payload as an integer (index key), without a full decode; NaN when not digits (damage). */
export function transactionStan(slot: Uint8Array): number {
  return Number(readBcd(slot, PAYLOAD_OFFSET + 12, 3));
}

// ---- REVERSAL ----

export interface ReversalData {
  readonly target: number;
  readonly reason: ReversalReason;
  /** Attempts carried over from an earlier REVERSAL of the same target. */
  readonly attemptsBase: number;
  /** F38 received in a response (approval then card decline, reason 06). */
  readonly authCode?: string;
  /** Refreshed F55 (TLV) for the 0400. */
  readonly f55?: Uint8Array;
}

/** The payload after target (4), reason (2), attempts (1), F38 (6) and the length byte (1): docs §4. */
export const REVERSAL_F55_BYTES_MAX = PAYLOAD_BYTES - 14;

export function encodeReversal(data: ReversalData, slot: Uint8Array): void {
  if (!REASONS.includes(data.reason)) throw new JournalInputError("reason", "reversal reason must be 98, A0 or 06");
  if (data.authCode !== undefined && !/^[ -~]{6}$/.test(data.authCode))
    throw new JournalInputError("authCode", "F38 must be 6 printable characters");
  if (data.f55 !== undefined && data.f55.length > REVERSAL_F55_BYTES_MAX)
    throw new JournalInputError("f55", `F55 must be at most ${REVERSAL_F55_BYTES_MAX} bytes, got ${data.f55.length}`);
  assert(data.attemptsBase >= 0 && data.attemptsBase <= 255, "attemptsBase out of range");
  const p = PAYLOAD_OFFSET;
  slot.fill(0xff, p, p + PAYLOAD_BYTES);
  writeU32(slot, p, data.target);
  slot.set(fromAscii(data.reason), p + 4);
  slot[p + 6] = data.attemptsBase;
  if (data.authCode !== undefined) slot.set(fromAscii(data.authCode), p + 7);
  slot[p + 13] = data.f55 === undefined ? 0 : data.f55.length;
  if (data.f55 !== undefined) slot.set(data.f55, p + 14);
}

export function decodeReversal(slot: Uint8Array): ReversalData {
  const p = PAYLOAD_OFFSET;
  const reasonText = toAscii(slot, p + 4, p + 6);
  const f55Length = slot[p + 13];
  // No writer of this version makes a longer one (the CRC held): refused, never cut.
  if (f55Length > REVERSAL_F55_BYTES_MAX)
    throw new JournalFormatError(`REVERSAL F55 length ${f55Length} is over ${REVERSAL_F55_BYTES_MAX} bytes`);
  return {
    target: readU32(slot, p),
    reason: (REASONS.includes(reasonText) ? reasonText : "06") as ReversalReason,
    attemptsBase: slot[p + 6],
    ...(slot[p + 7] !== 0xff ? { authCode: toAscii(slot, p + 7, p + 13) } : {}),
    ...(f55Length > 0 ? { f55: slot.slice(p + 14, p + 14 + f55Length) } : {}),
  };
}

export function reversalTarget(slot: Uint8Array): number {
  return readU32(slot, PAYLOAD_OFFSET);
}

// ---- SETTLE ----

export function encodeSettle(batch: string, slot: Uint8Array): void {
  digits(batch, 6, "batch");
  slot.fill(0xff, PAYLOAD_OFFSET, PAYLOAD_OFFSET + PAYLOAD_BYTES);
  writeBcd(slot, PAYLOAD_OFFSET, 3, batch, "batch");
}

export function settleBatch(slot: Uint8Array): number {
  return Number(readBcd(slot, PAYLOAD_OFFSET, 3));
}

// ---- PAN ----

export function panToBcd(pan: string): Uint8Array {
  if (!/^[0-9]{12,19}$/.test(pan)) throw new JournalInputError("pan", "PAN must be 12 to 19 digits");
  const out = new Uint8Array(PAN_BCD_BYTES);
  writeBcd(out, 0, PAN_BCD_BYTES, pan, "pan");
  return out;
}

export function panFromBcd(bcd: Uint8Array): string {
  return readBcd(bcd, 0, PAN_BCD_BYTES);
}
