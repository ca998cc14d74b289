/**
 * Request messages of the CUP POS dialect as field maps
 * (docs/cup-dialect.md: messages, the reversal, settlement). The engine
 * encodes them and writes the MAC; nothing here does IO.
 */
import { fromHex, toHex } from "../base/hex";
import type { IsoFields, IsoMessage } from "../iso8583/codec";
import { decodeTlv, encodeTlv, type TlvItem } from "../iso8583/tlv";
import { Iso8583Error } from "../iso8583/error";
import { decodeField54, padNumber, type BalanceAmount } from "../iso8583/subfields";
import type { ApprovedRecord, PresentedCard, ReversalReason, ReversalRecord } from "./ports";

export const TPDU = "6000030000";
export const HEADER = "603100310000";
const CURRENCY_CNY = "156";
const OPERATOR = "01 ";
/** F64 placeholder: the engine writes the MAC over the encoded bytes. */
export const MAC_PLACEHOLDER = "0000000000000000";

export interface Identity {
  readonly terminalId: string;
  readonly merchantId: string;
}

function message(mti: string, fields: IsoFields): IsoMessage {
  return { tpdu: TPDU, header: HEADER, mti, fields };
}

/** Response MTI of a request MTI: 0200 → 0210. */
export function responseMti(mti: string): string {
  return mti.slice(0, 2) + String(Number(mti[2]) + 1) + mti[3];
}

export function signOn(id: Identity, stan: string, batch: string): IsoMessage {
  return message("0800", { 11: stan, 41: id.terminalId, 42: id.merchantId, 60: `00${batch}003`, 63: OPERATOR });
}

/** 0820 network management: 002 sign-off, 301 echo test. */
export function networkManagement(id: Identity, stan: string, batch: string, code: "002" | "301"): IsoMessage {
  return message("0820", { 11: stan, 41: id.terminalId, 42: id.merchantId, 60: `00${batch}${code}` });
}

/** A TMS request (docs/tms.md): 0800, 60.3 the TMS code, F62 the payload (hex), MAC'd. */
export function tms(id: Identity, stan: string, batch: string, netCode: string, payloadHex: string | undefined): IsoMessage {
  const fields: IsoFields = { 11: stan, 41: id.terminalId, 42: id.merchantId, 60: `00${batch}${netCode}` };
  if (payloadHex !== undefined) fields[62] = payloadHex;
  fields[64] = MAC_PLACEHOLDER;
  return message("0800", fields);
}

export interface CardRequest {
  readonly stan: string;
  readonly batch: string;
  readonly card: PresentedCard;
  /** Encrypted PIN block (hex), when a PIN was entered. */
  readonly pinBlock?: string;
}

/** Card fields shared by balance and sale: chip cards carry F2/F23/F55, swiped ones F35. */
function cardFields(id: Identity, request: CardRequest): IsoFields {
  const card = request.card;
  const fields: IsoFields = { 11: request.stan, 22: card.entryMode, 25: "00", 41: id.terminalId, 42: id.merchantId, 49: CURRENCY_CNY };
  if (card.track2 !== undefined) fields[35] = card.track2;
  else {
    fields[2] = card.pan;
    fields[14] = card.expiry;
  }
  if (card.cardSequence !== undefined) fields[23] = card.cardSequence;
  if (card.f55 !== undefined) fields[55] = card.f55;
  if (request.pinBlock !== undefined) {
    fields[26] = "12";
    fields[52] = request.pinBlock;
    fields[53] = "2600000000000000";
  }
  fields[64] = MAC_PLACEHOLDER;
  return fields;
}

export function balance(id: Identity, request: CardRequest): IsoMessage {
  return message("0200", { ...cardFields(id, request), 3: "310000", 60: `01${request.batch}` });
}

export function sale(id: Identity, request: CardRequest, amount: number): IsoMessage {
  return message("0200", { ...cardFields(id, request), 3: "000000", 4: padNumber(amount, 12), 60: `22${request.batch}` });
}

export function refund(id: Identity, request: CardRequest, amount: number, originalStan: string | undefined): IsoMessage {
  const fields: IsoFields = { ...cardFields(id, request), 3: "200000", 4: padNumber(amount, 12), 60: `25${request.batch}` };
  if (originalStan !== undefined) fields[61] = `000000${originalStan}`;
  return message("0220", fields);
}

/** A void re-sends the original's card as keyed data (F2, F14): the log keeps it protected. */
export function voidSale(id: Identity, stan: string, batch: string, original: ApprovedRecord, pan: string, expiry: string): IsoMessage {
  return message("0200", {
    2: pan,
    3: "200000",
    4: padNumber(original.amount, 12),
    11: stan,
    14: expiry,
    22: "012",
    25: "00",
    41: id.terminalId,
    42: id.merchantId,
    49: CURRENCY_CNY,
    60: `23${batch}`,
    61: `${original.batch}${original.stan}`,
    64: MAC_PLACEHOLDER,
  });
}

/** Fields of the original a 0400 repeats (§2.4): no F35/F36, F52, F53, F26, F37. */
const REVERSAL_FIELDS = Object.freeze([2, 3, 4, 11, 14, 22, 23, 25, 38, 41, 42, 49, 55, 60, 61]);

/** F55 of a 0400 (§2.4, C-newpos stReversalTagList): TVR, IFD serial, issuer application data, ATC, script results. */
export const REVERSAL_F55_TAGS = Object.freeze([0x95, 0x9f1e, 0x9f10, 0x9f36, 0xdf31]);

/** The reversal tag set out of a request's or a second GENERATE AC's F55 (hex). */
export function reversalF55(f55: string): string {
  const items = decodeTlv(fromHex(f55));
  const kept: TlvItem[] = [];
  for (const tag of REVERSAL_F55_TAGS) {
    const item = items.find((i) => i.tag === tag);
    if (item !== undefined) kept.push(item);
  }
  return toHex(encodeTlv(kept));
}

/** The part of a request the reversal record keeps. */
export function reversalFields(request: IsoMessage): IsoFields {
  const out: IsoFields = {};
  for (const n of REVERSAL_FIELDS) if (request.fields[n] !== undefined) out[n] = request.fields[n];
  // A swiped card's reversal goes without F2 (C-pax "磁条卡交易冲正,不上送2域"): the host finds it by STAN.
  if (request.fields[35] !== undefined) delete out[2];
  if (out[55] !== undefined) out[55] = reversalF55(out[55]);
  return out;
}

/** The one 0400 builder: the record as the journal keeps it, the same STAN, F39 the reason. */
export function reversal(record: Pick<ReversalRecord, "fields">, reason: ReversalReason): IsoMessage {
  return message("0400", { ...record.fields, 39: reason, 64: MAC_PLACEHOLDER });
}

export function settlement(id: Identity, stan: string, batch: string, totals: string): IsoMessage {
  return message("0500", {
    11: stan,
    41: id.terminalId,
    42: id.merchantId,
    48: totals,
    49: CURRENCY_CNY,
    60: `00${batch}201`,
    63: OPERATOR,
    64: MAC_PLACEHOLDER,
  });
}

/** One batch-upload record: kind (00 sale, 20 refund), STAN, amount. */
export function batchUpload(id: Identity, stan: string, batch: string, record: ApprovedRecord): IsoMessage {
  const kind = record.op === "refund" ? "20" : "00";
  return message("0320", {
    4: padNumber(record.amount, 12),
    11: stan,
    41: id.terminalId,
    42: id.merchantId,
    48: `${kind}${record.stan}${padNumber(record.amount, 12)}`,
    60: `00${batch}201`,
    64: MAC_PLACEHOLDER,
  });
}

export function batchUploadEnd(id: Identity, stan: string, batch: string, uploaded: number): IsoMessage {
  return message("0320", {
    11: stan,
    41: id.terminalId,
    42: id.merchantId,
    48: padNumber(uploaded, 4),
    60: `00${batch}207`,
    64: MAC_PLACEHOLDER,
  });
}

const AMOUNT_TYPE_AVAILABLE = "02";

/** The balance a 0210 reports (F54): the available balance if given, else the first; undefined when absent or malformed (the sale's own check is F39). */
export function balanceOf(f54: string | undefined): number | undefined {
  if (f54 === undefined) return undefined;
  let amounts: BalanceAmount[];
  try {
    amounts = decodeField54(f54);
  } catch (error) {
    if (error instanceof Iso8583Error) return undefined;
    throw error;
  }
  const chosen = amounts.find((a) => a.amountType === AMOUNT_TYPE_AVAILABLE) ?? amounts[0];
  return chosen.sign === "D" ? -chosen.amount : chosen.amount;
}

/**
 * An approval's references as CUP sends them and the journal keeps them: F38 six of space, 0-9 and A-Z, F37
 * twelve digits (docs/cup-dialect.md). ISO 8583 allows any alphanumeric (an6, an12), so the codec takes more;
 * an approval with other references is a bad answer (reversed with 06), not one the terminal cannot log.
 */
export function approvalReferencesValid(f38: string | undefined, f37: string | undefined): boolean {
  return (f38 === undefined || /^[ 0-9A-Z]{6}$/.test(f38)) && (f37 === undefined || /^[0-9]{12}$/.test(f37));
}
