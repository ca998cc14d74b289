/**
 * A reader of journal partition images written from docs/journal-format.md
 * alone: it imports nothing from modules/journal or modules/txn, only the
 * CRC-32 the document names. If the code and the document disagree, the
 * golden test that drives this reader fails. Byte offsets below are the
 * document's; "§n" points at its sections.
 */
import { crc32 } from "../../../modules/base/crc32";

/** What opens a sealed PAN: SM4-GCM under the data-at-rest key (§4). Throws when the tag fails. */
export type OpenSealed = (nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array) => Uint8Array;

export interface SpecHeader {
  readonly sector: number;
  readonly sectorCount: number;
  readonly sectorSeq: number;
  readonly seqFloor: number;
  readonly eraseCount: number;
  readonly epoch: number;
  readonly terminalId: string;
  readonly merchantId: string;
  readonly ifdSerial: string;
  readonly sealed: boolean;
  readonly retiring: boolean;
}

export interface SpecTxn {
  readonly kind: "txn";
  readonly seq: number;
  readonly sector: number;
  readonly slot: number;
  readonly closed: boolean;
  readonly domestic: boolean;
  readonly mti: string;
  readonly processingCode: string;
  readonly amount: number;
  readonly stan: string;
  readonly batch: string;
  readonly timeSeconds: number;
  readonly expiry?: string;
  readonly entryMode: string;
  readonly cardSequence?: string;
  readonly conditionCode: string;
  readonly currency: string;
  readonly originalAuthCode?: string;
  readonly f60: string;
  readonly f61?: string;
  /** The PAN opened with the key; "sealed" without one; undefined when the record has none. */
  readonly pan?: string;
  readonly emv?: { readonly tvr: string; readonly atc: string; readonly issuerApplicationData: string };
  readonly approval: "none" | "void" | "unreadable" | { readonly authCode: string; readonly rrn: string };
}

export interface SpecReversal {
  readonly kind: "reversal";
  readonly seq: number;
  readonly sector: number;
  readonly slot: number;
  readonly failed: boolean;
  readonly target: number;
  readonly reason: string;
  readonly attempts: number;
  readonly authCode?: string;
  /** Uppercase hex. */
  readonly f55?: string;
}

export interface SpecSettle {
  readonly kind: "settle";
  readonly seq: number;
  readonly sector: number;
  readonly slot: number;
  readonly batch: string;
}

export type SpecRecord = SpecTxn | SpecReversal | SpecSettle;

export interface SpecImage {
  readonly headers: SpecHeader[];
  readonly records: SpecRecord[];
}

const SLOT = 128;
const PAYLOAD = 0x08;
const AUTH_ALPHABET = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function ascii(b: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += String.fromCharCode(b[i]);
  return out;
}

function hex(b: Uint8Array): string {
  let out = "";
  for (const byte of b) out += (byte < 16 ? "0" : "") + byte.toString(16).toUpperCase();
  return out;
}

/** BCD digits up to the first nibble above 9 (§1: F-padded). */
function bcd(b: Uint8Array, at: number, bytes: number): string {
  let out = "";
  for (let i = 0; i < bytes * 2; i++) {
    const nibble = i % 2 === 0 ? b[at + (i >> 1)] >> 4 : b[at + (i >> 1)] & 0x0f;
    if (nibble > 9) break;
    out += String(nibble);
  }
  return out;
}

function allBytes(b: Uint8Array, from: number, to: number, value: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== value) return false;
  return true;
}

/** §3: any value but FFFFFFFF is set. */
function marker(b: Uint8Array, at: number): boolean {
  return u32(b, at) !== 0xffffffff;
}

/** §2: a valid sector header, else undefined. */
function header(b: Uint8Array, sector: number, sectorCount: number): SpecHeader | undefined {
  if (b[0] !== 0x31 || b[1] !== 0x4e || b[2] !== 0x4a || b[3] !== 0x58) return undefined;
  if (b[4] !== 1 || b[5] !== sector || (b[6] | (b[7] << 8)) !== sectorCount) return undefined;
  if (u32(b, 0x38) !== crc32(b, 0, 0x38)) return undefined;
  return {
    sector,
    sectorCount,
    sectorSeq: u32(b, 0x08),
    seqFloor: u32(b, 0x0c),
    eraseCount: u32(b, 0x10),
    epoch: u32(b, 0x14),
    terminalId: ascii(b, 0x18, 0x20),
    merchantId: ascii(b, 0x20, 0x2f),
    ifdSerial: ascii(b, 0x30, 0x38),
    sealed: marker(b, 0x70),
    retiring: marker(b, 0x74),
  };
}

/** §5. */
function approval(seq: number, g: Uint8Array): SpecTxn["approval"] {
  if (allBytes(g, 0, 12, 0xff)) return "none";
  if (allBytes(g, 0, 12, 0)) return "void";
  const prefix = new Uint8Array([seq & 0xff, (seq >>> 8) & 0xff, (seq >>> 16) & 0xff, seq >>> 24]);
  const check = crc32(g, 0, 9, crc32(prefix));
  if (g[9] !== check >>> 24 || g[10] !== ((check >>> 16) & 0xff) || g[11] !== ((check >>> 8) & 0xff)) return "unreadable";
  let code = u32(g, 0);
  if (code >= 37 ** 6) return "unreadable";
  let authCode = "";
  for (let i = 0; i < 6; i++) {
    authCode = AUTH_ALPHABET[code % 37] + authCode;
    code = Math.floor(code / 37);
  }
  let rrn = 0;
  for (let i = 8; i >= 4; i--) rrn = rrn * 256 + g[i];
  return { authCode, rrn: String(rrn).padStart(12, "0") };
}

/** §4: the nonce of a sealed PAN. */
function panNonce(epoch: number, seq: number): Uint8Array {
  return new Uint8Array([epoch >>> 24, (epoch >>> 16) & 0xff, (epoch >>> 8) & 0xff, epoch & 0xff, 0, 0, 0, 0, ...u32Bytes(seq)]);
}

function u32Bytes(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

function txn(s: Uint8Array, place: { seq: number; sector: number; slot: number }, epoch: number, open?: OpenSealed): SpecTxn {
  const p = PAYLOAD;
  const flags = s[p];
  let at = p + 37;
  const f60Digits = s[at];
  const f60 = bcd(s, at + 1, (f60Digits + 1) >> 1).slice(0, f60Digits);
  at += 1 + ((f60Digits + 1) >> 1);
  const f61Digits = s[at];
  const f61 = f61Digits === 0xff ? undefined : bcd(s, at + 1, (f61Digits + 1) >> 1).slice(0, f61Digits);
  at += 1 + (f61Digits === 0xff ? 0 : (f61Digits + 1) >> 1);
  const sealedLength = s[at];
  const sealed = s.slice(at + 1, at + 1 + sealedLength);
  at += 1 + sealedLength;
  let pan: string | undefined;
  if (sealedLength > 0) {
    if (open === undefined) {
      pan = "sealed";
    } else {
      const aad = new Uint8Array([0x5a, 0x11, 0, 0, ...u32Bytes(place.seq)]);
      pan = bcd(open(panNonce(epoch, place.seq), sealed, aad), 0, 10);
    }
  }
  const emvLength = s[at];
  const emv =
    emvLength === 0
      ? undefined
      : {
          tvr: hex(s.subarray(at + 1, at + 6)),
          atc: hex(s.subarray(at + 6, at + 8)),
          issuerApplicationData: hex(s.subarray(at + 9, at + 9 + s[at + 8])),
        };
  if (emv !== undefined && emvLength !== 8 + s[at + 8]) throw new Error(`seq ${place.seq}: EMV length ${emvLength} is not 8 + 9F10 length`);
  return {
    kind: "txn",
    ...place,
    closed: marker(s, 0x70),
    domestic: (flags & 1) !== 0,
    mti: bcd(s, p + 1, 2),
    processingCode: bcd(s, p + 3, 3),
    amount: Number(bcd(s, p + 6, 6)),
    stan: bcd(s, p + 12, 3),
    batch: bcd(s, p + 15, 3),
    timeSeconds: u32(s, p + 18),
    ...((flags & 2) !== 0 ? { expiry: bcd(s, p + 22, 2) } : {}),
    entryMode: bcd(s, p + 24, 2),
    ...((flags & 4) !== 0 ? { cardSequence: bcd(s, p + 26, 2) } : {}),
    conditionCode: bcd(s, p + 28, 1),
    currency: bcd(s, p + 29, 2),
    ...((flags & 8) !== 0 ? { originalAuthCode: ascii(s, p + 31, p + 37) } : {}),
    f60,
    ...(f61 !== undefined ? { f61 } : {}),
    ...(pan !== undefined ? { pan } : {}),
    ...(emv !== undefined ? { emv } : {}),
    approval: approval(place.seq, s.subarray(0x74, 0x80)),
  };
}

function reversal(s: Uint8Array, place: { seq: number; sector: number; slot: number }): SpecReversal {
  const p = PAYLOAD;
  let zeros = 0;
  for (let w = 0; w < 3; w++) {
    const word = u32(s, 0x74 + 4 * w);
    for (let bit = 0; bit < 32; bit++) if ((word & (1 << bit)) === 0) zeros++;
  }
  const f55Length = s[p + 13];
  if (f55Length > 86) throw new Error(`seq ${place.seq}: REVERSAL F55 length ${f55Length} is over 86`);
  return {
    kind: "reversal",
    ...place,
    failed: marker(s, 0x70),
    target: u32(s, p),
    reason: ascii(s, p + 4, p + 6),
    attempts: s[p + 6] + zeros,
    ...(allBytes(s, p + 7, p + 13, 0xff) ? {} : { authCode: ascii(s, p + 7, p + 13) }),
    ...(f55Length > 0 ? { f55: hex(s.subarray(p + 14, p + 14 + f55Length)) } : {}),
  };
}

/** Every valid header and every record slot (§3: magic, kind · version, CRC, self-location) of a journal partition image. */
export function readJournalImage(image: Uint8Array, blockSize: number, open?: OpenSealed): SpecImage {
  const sectorCount = image.length / blockSize;
  const headers: SpecHeader[] = [];
  for (let s = 0; s < sectorCount; s++) {
    const h = header(image.subarray(s * blockSize, s * blockSize + SLOT), s, sectorCount);
    if (h !== undefined) headers.push(h);
  }
  // §2: the epoch is copied into every header; take the newest's.
  const newest = headers.reduce<SpecHeader | undefined>((a, h) => (a === undefined || h.sectorSeq > a.sectorSeq ? h : a), undefined);
  const records: SpecRecord[] = [];
  for (const h of headers) {
    for (let slot = 1; slot < blockSize / SLOT; slot++) {
      const at = h.sector * blockSize + slot * SLOT;
      const s = image.subarray(at, at + SLOT);
      if (s[0] !== 0x5a || (s[1] & 0x0f) !== 1) continue;
      if (u32(s, 0x6c) !== crc32(s, 0, 0x6c) || s[2] !== h.sector || s[3] !== slot) continue;
      const place = { seq: u32(s, 4), sector: h.sector, slot };
      const kind = s[1] >> 4;
      if (kind === 1) records.push(txn(s, place, newest!.epoch, open));
      else if (kind === 2) records.push(reversal(s, place));
      else if (kind === 3) records.push({ kind: "settle", ...place, batch: bcd(s, PAYLOAD, 3) });
    }
  }
  return { headers, records };
}

export interface SpecState {
  readonly seq: number;
  readonly stanNext: number;
  readonly batch: string;
  readonly signedOn: boolean;
  readonly settlement?: { readonly batch: string; readonly phase: "upload" | "end"; readonly next: number };
}

/** §11: the newest valid slot of the two state sectors, or undefined. */
export function readStateRecord(image: Uint8Array): SpecState | undefined {
  let newest: SpecState | undefined;
  for (let at = 0; at + 32 <= image.length; at += 32) {
    const s = image.subarray(at, at + 32);
    if (s[0] !== 0x58 || s[1] !== 0x53 || s[2] !== 0x54 || s[3] !== 0x31) continue;
    if (u32(s, 28) !== crc32(s, 0, 28)) continue;
    const stanNext = u32(s, 8);
    const batch = bcd(s, 12, 3);
    if (stanNext < 1 || stanNext > 999_999 || batch.length !== 6) continue;
    const flags = s[15];
    const settling = bcd(s, 16, 3);
    if ((flags & 2) !== 0 && settling.length !== 6) continue;
    const state: SpecState = {
      seq: u32(s, 4),
      stanNext,
      batch,
      signedOn: (flags & 1) !== 0,
      ...((flags & 2) !== 0
        ? { settlement: { batch: settling, phase: (flags & 4) !== 0 ? ("end" as const) : ("upload" as const), next: s[19] | (s[20] << 8) } }
        : {}),
    };
    if (newest === undefined || state.seq > newest.seq) newest = state;
  }
  return newest;
}
