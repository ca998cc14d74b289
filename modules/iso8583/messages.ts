/**
 * Builders for every CUP message the terminal sends, and the check a response
 * must pass before the terminal trusts it. Builders return an IsoMessage ready
 * for Iso8583Codec.encode; messages that carry a MAC get F64 as 8 zero bytes,
 * to be overwritten with Iso8583Codec.writeMac after encoding.
 * Field choices: docs/cup-dialect.md (messages, the reversal, settlement).
 */
import type { IsoFields, IsoMessage } from "./codec";
import {
  encodeField60,
  encodeField61,
  encodeSecurityControl,
  encodeSettlementTotals,
  padNumber,
  type SecurityControl,
  type SettlementTotals,
} from "./subfields";

export interface TerminalIdentity {
  /** 10 hex digits: `60` + destination (NII) + source. */
  readonly tpdu: string;
  /** 12 hex digits, e.g. `603100311312`. */
  readonly header: string;
  /** F41, 8 characters. */
  readonly tid: string;
  /** F42, 15 characters. */
  readonly mid: string;
  /** 60.4 read capability: "6" IC + contactless, "5" IC, "2" magnetic stripe only. */
  readonly readCapability: string;
}

export interface CardData {
  /** F2 (keyed and chip cards; swiped cards usually send only track 2). */
  readonly pan?: string;
  /** F14 YYMM. */
  readonly expiry?: string;
  /** F22, 3 digits: entry mode (02 swipe, 05 contact, 07 contactless, 01 keyed) + PIN (1 with, 2 without). */
  readonly entryMode: string;
  /** F23, 3 digits (chip cards). */
  readonly cardSequence?: string;
  /** F35 / F36 nibbles, `D` separator. */
  readonly track2?: string;
  readonly track3?: string;
  /** F55 hex (BER-TLV). */
  readonly icc?: string;
  /** F52: the PIN block encrypted under the PIK, hex. */
  readonly pinBlock?: string;
  /** F53 when a PIN block or encrypted track data is sent. */
  readonly security?: SecurityControl;
  /** 60.5 IC condition code, 1 digit (0 normal, 2 fallback after a chip failure). */
  readonly icCondition?: string;
}

interface Base {
  readonly terminal: TerminalIdentity;
  /** F11, 6 digits. */
  readonly stan: string;
  /** 60.2, 6 digits. */
  readonly batch: string;
}

export const MAC_PLACEHOLDER = "0000000000000000";
export const CURRENCY_CNY = "156";
/** F26 when a PIN is captured: maximum PIN length the terminal accepts. */
const PIN_CAPTURE_CODE = "06";

function message(mti: string, terminal: TerminalIdentity, fields: IsoFields): IsoMessage {
  return { tpdu: terminal.tpdu, header: terminal.header, mti, fields };
}

function management(base: Base, mti: string, netCode: string): IsoMessage {
  return message(mti, base.terminal, {
    11: base.stan,
    41: base.terminal.tid,
    42: base.terminal.mid,
    60: encodeField60({ type: "00", batch: base.batch, netCode }),
  });
}

/** The fields of a financial request; F64 placeholder last. */
function financial(base: Base, processingCode: string, type: string, card: CardData, amount?: number): IsoFields {
  const fields: IsoFields = {
    3: processingCode,
    11: base.stan,
    22: card.entryMode,
    25: "00",
    41: base.terminal.tid,
    42: base.terminal.mid,
    49: CURRENCY_CNY,
  };
  if (card.pan !== undefined) fields[2] = card.pan;
  if (amount !== undefined) fields[4] = padNumber(amount, 12);
  if (card.expiry !== undefined) fields[14] = card.expiry;
  if (card.cardSequence !== undefined) fields[23] = card.cardSequence;
  if (card.track2 !== undefined) fields[35] = card.track2;
  if (card.track3 !== undefined) fields[36] = card.track3;
  if (card.pinBlock !== undefined) {
    fields[26] = PIN_CAPTURE_CODE;
    fields[52] = card.pinBlock;
  }
  if (card.security !== undefined) fields[53] = encodeSecurityControl(card.security);
  if (card.icc !== undefined) fields[55] = card.icc;
  fields[60] = encodeField60({
    type,
    batch: base.batch,
    netCode: "000",
    readCapability: base.terminal.readCapability,
    icCondition: card.icCondition ?? "0",
  });
  fields[64] = MAC_PLACEHOLDER;
  return fields;
}

// ---------------------------------------------------------------- management

export interface SignOnInput extends Base {
  /** 60.3: "001" single DES keys, "003" double-length keys. */
  readonly netCode: string;
  /** F63 operator, e.g. "01 ". */
  readonly operator: string;
  /** F62 terminal information (hex), e.g. the serial-number block some acquirers ask for. */
  readonly terminalInfo?: string;
}

export function buildSignOn(input: SignOnInput): IsoMessage {
  const m = management(input, "0800", input.netCode);
  if (input.terminalInfo !== undefined) m.fields[62] = input.terminalInfo;
  m.fields[63] = input.operator;
  return m;
}

export function buildSignOff(input: Base): IsoMessage {
  return management(input, "0820", "002");
}

export function buildEcho(input: Base): IsoMessage {
  return management(input, "0820", "301");
}

// ---------------------------------------------------------------- financial

export interface SaleInput extends Base {
  /** Minor units (fen). */
  readonly amount: number;
  readonly card: CardData;
}

export function buildSale(input: SaleInput): IsoMessage {
  return message("0200", input.terminal, financial(input, "000000", "22", input.card, input.amount));
}

export interface BalanceInput extends Base {
  readonly card: CardData;
}

export function buildBalance(input: BalanceInput): IsoMessage {
  return message("0200", input.terminal, financial(input, "310000", "01", input.card));
}

export interface OriginalTransaction {
  readonly batch: string;
  readonly stan: string;
  /** F37 of the original's response. */
  readonly rrn?: string;
  /** F38 of the original's response. */
  readonly authCode?: string;
  /** MMDD of the original (refunds). */
  readonly date?: string;
}

/** Void (0200, 60.1 23) and refund (0220, 60.1 25) both point at an original: F37, F38 and F61. */
export interface OriginalReferenceInput extends SaleInput {
  readonly original: OriginalTransaction;
}

function referencing(input: OriginalReferenceInput, mti: string, type: string, date: string | undefined): IsoMessage {
  const fields = financial(input, "200000", type, input.card, input.amount);
  if (input.original.rrn !== undefined) fields[37] = input.original.rrn;
  if (input.original.authCode !== undefined) fields[38] = input.original.authCode;
  fields[61] = encodeField61({ batch: input.original.batch, stan: input.original.stan, date });
  return message(mti, input.terminal, fields);
}

export function buildVoid(input: OriginalReferenceInput): IsoMessage {
  return referencing(input, "0200", "23", undefined);
}

/** Refunds may be made without the original's batch/STAN (zeros then); 61.3 is the original's MMDD or 0000. */
export function buildRefund(input: OriginalReferenceInput): IsoMessage {
  return referencing(input, "0220", "25", input.original.date ?? "0000");
}

// ---------------------------------------------------------------- settlement and batch upload

export interface SettlementInput extends Base {
  readonly totals: SettlementTotals;
  readonly operator: string;
}

export function buildSettlement(input: SettlementInput): IsoMessage {
  const m = management(input, "0500", "201");
  m.fields[48] = encodeSettlementTotals(input.totals);
  m.fields[49] = CURRENCY_CNY;
  m.fields[63] = input.operator;
  m.fields[64] = MAC_PLACEHOLDER;
  return m;
}

export interface BatchUploadInput extends Base {
  /** 60.3: "201" magnetic-stripe details, "203" IC TC upload, "207" end of upload. */
  readonly netCode: string;
  /** F48 digits: record count + records, layout per acquirer (201/207). */
  readonly records?: string;
  /** IC TC upload (203): the approved transaction's card, amount and F55. */
  readonly card?: CardData;
  readonly amount?: number;
}

export function buildBatchUpload(input: BatchUploadInput): IsoMessage {
  const m = management(input, "0320", input.netCode);
  const card = input.card;
  if (card !== undefined) {
    if (card.pan !== undefined) m.fields[2] = card.pan;
    if (card.cardSequence !== undefined) m.fields[23] = card.cardSequence;
    m.fields[22] = card.entryMode;
    if (card.icc !== undefined) m.fields[55] = card.icc;
  }
  if (input.amount !== undefined) m.fields[4] = padNumber(input.amount, 12);
  if (input.records !== undefined) m.fields[48] = input.records;
  if (input.amount !== undefined || input.card !== undefined) m.fields[49] = CURRENCY_CNY;
  return m;
}

// ---------------------------------------------------------------- responses

/** A host reply swaps destination and source of the TPDU. */
export function responseTpdu(tpdu: string): string {
  return tpdu.slice(0, 2) + tpdu.slice(6, 10) + tpdu.slice(2, 6);
}

export interface ResponseProblem {
  /** 0 for the MTI, else the field. */
  readonly field: number;
  readonly reason: "mti" | "missing" | "mismatch";
}

/** Must be echoed whenever the request carried them. */
const ALWAYS_ECHOED = Object.freeze([3, 11, 41]);
/** Must match when the response carries them (hosts omit F42 on some declines, F4 differs on partial approval 10). */
const ECHOED_WHEN_PRESENT = Object.freeze([4, 42]);

/**
 * Why `response` does not answer `request`, or null when it does: MTI =
 * request + 10, F3/F11/F41 echoed, F4/F42 equal when present, F39 present.
 * A problem means the response is not trusted (reversal reason 06).
 */
export function checkResponse(request: IsoMessage, response: IsoMessage): ResponseProblem | null {
  const expectedMti = String(Number(request.mti) + 10).padStart(4, "0");
  if (response.mti !== expectedMti) return { field: 0, reason: "mti" };
  for (const n of ALWAYS_ECHOED) {
    if (request.fields[n] === undefined) continue;
    if (response.fields[n] === undefined) return { field: n, reason: "missing" };
    if (response.fields[n] !== request.fields[n]) return { field: n, reason: "mismatch" };
  }
  for (const n of ECHOED_WHEN_PRESENT) {
    const value = response.fields[n];
    if (value === undefined || request.fields[n] === undefined) continue;
    if (n === 4 && response.fields[39] === "10") continue;
    if (value !== request.fields[n]) return { field: n, reason: "mismatch" };
  }
  if (response.fields[39] === undefined) return { field: 39, reason: "missing" };
  return null;
}
