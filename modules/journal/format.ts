/**
 * Byte layout of the reversal journal (docs/journal-format.md §2–§5): sector
 * headers, 128-byte record slots, payload codecs and the APPROVAL group.
 * Pure functions over Uint8Array; no flash access here.
 */
import { assert, assertInteger } from "../base/assert";
import { crc32 } from "../base/crc32";
import { fromAscii, toAscii } from "../base/hex";
import { JournalInputError } from "./errors";

export const FORMAT_VERSION = 1;
export const SLOT_BYTES = 128;
export const HEADER_MAGIC = 0x584a4e31; // "XJN1"
export const RECORD_MAGIC = 0x5a;
/** The body (header, payload, CRC) is one program; the marker words follow. */
export const BODY_BYTES = 0x70;
export const PAYLOAD_OFFSET = 0x08;
export const PAYLOAD_BYTES = 100;
export const BODY_CRC_OFFSET = 0x6c;
export const WORD_A_OFFSET = 0x70;
export const GROUP_OFFSET = 0x74;
export const GROUP_BYTES = 12;
export const HEADER_BODY_BYTES = 0x3c;
export const HEADER_CRC_OFFSET = 0x38;
export const SEALED_OFFSET = 0x70;
export const RETIRING_OFFSET = 0x74;
export const ATTEMPTS_MAX = 96;

export const KIND_TXN = 1;
export const KIND_REVERSAL = 2;
export const KIND_SETTLE = 3;
export type Kind = 1 | 2 | 3;

export interface TerminalIdentity {
  /** F41, 8 characters. */
  readonly terminalId: string;
  /** F42, 15 characters. */
  readonly merchantId: string;
  /** EMV 9F1E, 8 characters. */
  readonly ifdSerial: string;
}

export interface SectorHeader {
  readonly sectorIndex: number;
  readonly sectorCount: number;
  readonly sectorSeq: number;
  readonly seqFloor: number;
  readonly eraseCount: number;
  readonly epoch: number;
  readonly identity: TerminalIdentity;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

export function isAll(bytes: Uint8Array, start: number, end: number, value: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== value) return false;
  return true;
}

export function encodeHeader(header: SectorHeader, out: Uint8Array): void {
  assert(out.length === SLOT_BYTES, "header buffer must be one slot");
  out.fill(0xff);
  writeU32(out, 0, HEADER_MAGIC);
  out[4] = FORMAT_VERSION;
  out[5] = header.sectorIndex;
  out[6] = header.sectorCount & 0xff;
  out[7] = header.sectorCount >>> 8;
  writeU32(out, 0x08, header.sectorSeq);
  writeU32(out, 0x0c, header.seqFloor);
  writeU32(out, 0x10, header.eraseCount);
  writeU32(out, 0x14, header.epoch);
  out.set(fromAscii(header.identity.terminalId), 0x18);
  out.set(fromAscii(header.identity.merchantId), 0x20);
  out.set(fromAscii(header.identity.ifdSerial), 0x30);
  writeU32(out, HEADER_CRC_OFFSET, crc32(out, 0, HEADER_CRC_OFFSET));
}

/** The header of a sector image, or undefined when it is not valid (a dirty sector). */
export function decodeHeader(slot: Uint8Array, sectorIndex: number, sectorCount: number): SectorHeader | undefined {
  if (readU32(slot, 0) !== HEADER_MAGIC || slot[4] !== FORMAT_VERSION || slot[5] !== sectorIndex) return undefined;
  if ((slot[6] | (slot[7] << 8)) !== sectorCount) return undefined;
  if (readU32(slot, HEADER_CRC_OFFSET) !== crc32(slot, 0, HEADER_CRC_OFFSET)) return undefined;
  return {
    sectorIndex,
    sectorCount,
    sectorSeq: readU32(slot, 0x08),
    seqFloor: readU32(slot, 0x0c),
    eraseCount: readU32(slot, 0x10),
    epoch: readU32(slot, 0x14),
    identity: { terminalId: toAscii(slot, 0x18, 0x20), merchantId: toAscii(slot, 0x20, 0x2f), ifdSerial: toAscii(slot, 0x30, 0x38) },
  };
}

export function checkIdentity(identity: TerminalIdentity): void {
  if (!/^[ -~]{8}$/.test(identity.terminalId)) throw new JournalInputError("terminalId", "F41 must be 8 printable characters");
  if (!/^[ -~]{15}$/.test(identity.merchantId)) throw new JournalInputError("merchantId", "F42 must be 15 printable characters");
  if (!/^[ -~]{8}$/.test(identity.ifdSerial)) throw new JournalInputError("ifdSerial", "9F1E must be 8 printable characters");
}

export function sameIdentity(a: TerminalIdentity, b: TerminalIdentity): boolean {
  return a.terminalId === b.terminalId && a.merchantId === b.merchantId && a.ifdSerial === b.ifdSerial;
}

/** Writes the record header bytes and the body CRC into a 128-byte slot image whose payload is filled. */
export function sealBody(slot: Uint8Array, kind: Kind, seq: number, sector: number, slotIndex: number): void {
  slot[0] = RECORD_MAGIC;
  slot[1] = (kind << 4) | FORMAT_VERSION;
  slot[2] = sector;
  slot[3] = slotIndex;
  writeU32(slot, 4, seq);
  writeU32(slot, BODY_CRC_OFFSET, crc32(slot, 0, BODY_CRC_OFFSET));
}

export type SlotClass = "blank" | "void" | "record" | "misplaced" | "invalid";

export function classifySlot(slot: Uint8Array, sector: number, slotIndex: number): SlotClass {
  if (isAll(slot, 0, SLOT_BYTES, 0xff)) return "blank";
  if (isAll(slot, 0, 4, 0)) return "void";
  if (!hasRecordMagic(slot)) return "invalid";
  if (readU32(slot, BODY_CRC_OFFSET) !== crc32(slot, 0, BODY_CRC_OFFSET)) return "invalid";
  return slot[2] === sector && slot[3] === slotIndex ? "record" : "misplaced";
}

export function hasRecordMagic(slot: Uint8Array): boolean {
  const kind = slot[1] >> 4;
  return slot[0] === RECORD_MAGIC && (slot[1] & 0x0f) === FORMAT_VERSION && kind >= KIND_TXN && kind <= KIND_SETTLE;
}

export function slotKind(slot: Uint8Array): Kind {
  return (slot[1] >> 4) as Kind;
}

/** A marker word reads as set when any bit is 0 (docs §3). */
export function markerSet(slot: Uint8Array, at: number): boolean {
  return readU32(slot, at) !== 0xffffffff;
}

// ---- the PAN seal (docs §4) ----

export const NONCE_BYTES = 12;

/**
 * The one nonce the journal seals with, byte for byte as docs/journal-format.md §4 says (format
 * version 1): epoch as 4 bytes big-endian ‖ 00 00 00 00 ‖ seq as 4 bytes little-endian. The epoch's
 * byte order is the one exception to "integers are little-endian"; images already written depend on it.
 */
export function writePanNonce(epoch: number, seq: number, out: Uint8Array): Uint8Array {
  assert(out.length === NONCE_BYTES, "a nonce is 12 bytes");
  assertInteger(epoch, 0, 0xffffffff, "epoch");
  assertInteger(seq, 0, 0xffffffff, "seq");
  out[0] = epoch >>> 24;
  out[1] = (epoch >>> 16) & 0xff;
  out[2] = (epoch >>> 8) & 0xff;
  out[3] = epoch & 0xff;
  writeU32(out, 4, 0);
  writeU32(out, 8, seq);
  return out;
}

/** AAD of a sealed PAN: the record's first 8 bytes with the self-location (bytes 2–3) zeroed, so a copy-forward keeps it valid. */
export function writePanAad(kind: Kind, seq: number, out: Uint8Array): Uint8Array {
  assert(out.length === 8, "the AAD is 8 bytes");
  out[0] = RECORD_MAGIC;
  out[1] = (kind << 4) | FORMAT_VERSION;
  out[2] = 0;
  out[3] = 0;
  writeU32(out, 4, seq);
  return out;
}

// ---- digits ----

/** Packs `digits` (0-9) into `bytes` BCD nibbles at `at`, padding the field with F. */
export function writeBcd(out: Uint8Array, at: number, fieldBytes: number, digits: string, what: string): void {
  if (!/^[0-9]*$/.test(digits) || digits.length > fieldBytes * 2)
    throw new JournalInputError(what, `${what} must be at most ${fieldBytes * 2} digits`);
  for (let i = 0; i < fieldBytes; i++) {
    const hi = 2 * i < digits.length ? digits.charCodeAt(2 * i) - 48 : 15;
    const lo = 2 * i + 1 < digits.length ? digits.charCodeAt(2 * i + 1) - 48 : 15;
    out[at + i] = (hi << 4) | lo;
  }
}

/** Digits of a BCD field up to its first F nibble. */
export function readBcd(bytes: Uint8Array, at: number, fieldBytes: number): string {
  let out = "";
  for (let i = 0; i < 2 * fieldBytes; i++) {
    const nibble = i % 2 === 0 ? bytes[at + (i >> 1)] >> 4 : bytes[at + (i >> 1)] & 0x0f;
    if (nibble > 9) break;
    out += String.fromCharCode(48 + nibble);
  }
  return out;
}

// ---- the APPROVAL group (docs §5) ----

const AUTH_ALPHABET = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

export function encodeApproval(seq: number, authCode: string, rrn: string, out: Uint8Array): void {
  assert(out.length === GROUP_BYTES, "approval group is 12 bytes");
  if (authCode.length !== 6) throw new JournalInputError("authCode", "F38 must be 6 characters");
  let code = 0;
  for (let i = 0; i < 6; i++) {
    const index = AUTH_ALPHABET.indexOf(authCode[i]);
    if (index < 0) throw new JournalInputError("authCode", "F38 characters must be space, 0-9 or A-Z");
    code = code * 37 + index;
  }
  if (!/^[0-9]{12}$/.test(rrn)) throw new JournalInputError("rrn", "F37 must be 12 digits");
  writeU32(out, 0, code);
  let value = Number(rrn);
  for (let i = 4; i < 9; i++) {
    out[i] = value % 256;
    value = Math.floor(value / 256);
  }
  const check = approvalCheck(seq, out);
  out[9] = check >>> 16;
  out[10] = (check >>> 8) & 0xff;
  out[11] = check & 0xff;
}

export type ApprovalState =
  { readonly state: "none" | "void" | "unreadable" } | { readonly state: "approved"; readonly authCode: string; readonly rrn: string };

export function decodeApproval(seq: number, group: Uint8Array): ApprovalState {
  if (isAll(group, 0, GROUP_BYTES, 0xff)) return { state: "none" };
  if (isAll(group, 0, GROUP_BYTES, 0)) return { state: "void" };
  const check = approvalCheck(seq, group);
  if (group[9] !== check >>> 16 || group[10] !== ((check >>> 8) & 0xff) || group[11] !== (check & 0xff)) return { state: "unreadable" };
  let code = readU32(group, 0);
  if (code >= 37 ** 6) return { state: "unreadable" };
  let authCode = "";
  for (let i = 0; i < 6; i++) {
    authCode = AUTH_ALPHABET[code % 37] + authCode;
    code = Math.floor(code / 37);
  }
  let value = 0;
  for (let i = 8; i >= 4; i--) value = value * 256 + group[i];
  if (value > 999999999999) return { state: "unreadable" };
  return { state: "approved", authCode, rrn: String(value).padStart(12, "0") };
}

function approvalCheck(seq: number, group: Uint8Array): number {
  const prefix = new Uint8Array(4);
  writeU32(prefix, 0, seq);
  return crc32(group, 0, 9, crc32(prefix)) >>> 8;
}
