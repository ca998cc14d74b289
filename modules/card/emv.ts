/**
 * EMV kernel-lite: the read flow and the two GENERATE ACs of an online-only
 * terminal (EMV Book 3), over any reader's `Apdu`. No offline data
 * authentication, no terminal risk management: the host decides.
 *
 * SELECT PPSE (contactless) or PSE (contact, list of AIDs as fallback) →
 * SELECT AID → GET PROCESSING OPTIONS (PDOL) → READ RECORD (AFL) →
 * GENERATE AC (ARQC, CDOL1) → after the host: GENERATE AC (TC/AAC, CDOL2).
 * A contactless card that returns its cryptogram in the GPO answer
 * (Visa qVSDC style) needs neither GENERATE AC.
 */
import { assert } from "../base/assert";
import { fromAscii, fromHex, toHex } from "../base/hex";
import { decodeTlv, encodeTlv, type TlvItem } from "../iso8583/tlv";
import { CardError, type Apdu } from "./apdu";
import { luhnValid } from "../crypto/pan";

const PPSE = "2PAY.SYS.DDF01";
const PSE = "1PAY.SYS.DDF01";
/** AIDs tried when a contact card has no PSE: UnionPay debit, credit; Visa credit/debit. */
const KNOWN_AIDS = Object.freeze(["A0000003330101", "A0000003330102", "A0000000031010"]);
const RECORDS_MAX = 32;
const TLV_DEPTH_MAX = 4;
const TRACE_MAX = 64;

/** The DE 55 tag set CUP expects in an authorisation request, in this order. */
export const F55_TAGS = Object.freeze([
  0x9f26, 0x9f27, 0x9f10, 0x9f37, 0x9f36, 0x95, 0x9a, 0x9c, 0x9f02, 0x5f2a, 0x82, 0x9f1a, 0x9f03, 0x9f33, 0x9f34, 0x9f35, 0x9f1e, 0x84,
  0x9f09, 0x9f41,
]);

export interface TerminalData {
  /** Amount authorised, minor units. */
  readonly amountMinor: number;
  /** ISO 4217 numeric, e.g. "156". */
  readonly currency: string;
  /** ISO 3166 numeric, e.g. "156". */
  readonly country: string;
  /** YYMMDD. */
  readonly date: string;
  /** 9C: 00 purchase, 31 balance, 20 refund. */
  readonly transactionType: number;
  /** 9F37, 4 bytes from the platform Random. */
  readonly unpredictableNumber: Uint8Array;
  /** 9F1E, 8 ASCII characters. */
  readonly ifdSerial: string;
  /** 9F41, up to 8 digits. */
  readonly sequenceCounter: number;
}

export interface ApduTraceEntry {
  readonly command: string;
  readonly response: string;
}

export interface EmvApplication {
  readonly aid: string;
  readonly label: string;
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly serviceCode: string;
  /** 5F34 as 3 digits, when the card has it. */
  readonly panSequence?: string;
  /** Tag 57 as nibbles, `D` separator, pad F dropped: only for the request being built. */
  readonly track2: Uint8Array;
}

export interface EmvOptions {
  readonly apdu: Apdu;
  readonly contactless: boolean;
  /** Called with every exchange (hex, no secrets beyond what the card sent): for traces in tools and tests. */
  readonly onExchange?: (entry: ApduTraceEntry) => void;
}

/** Issuer answer fed to the second GENERATE AC. */
export interface IssuerResponse {
  readonly approved: boolean;
  /** F39, two characters: becomes 8A. */
  readonly responseCode: string;
  /** 91 issuer authentication data, when the host sent it. */
  readonly issuerAuthenticationData?: Uint8Array;
}

export interface CryptogramResult {
  /** 9F27 top bits: "ARQC" | "TC" | "AAC". */
  readonly cryptogram: "AAC" | "TC" | "ARQC";
  readonly f55: Uint8Array;
}

export class EmvKernel {
  readonly #apdu: Apdu;
  readonly #contactless: boolean;
  readonly #onExchange: ((entry: ApduTraceEntry) => void) | undefined;
  /** Every primitive tag the card and the terminal supplied, for DOLs and F55. */
  readonly #data = new Map<number, Uint8Array>();
  #exchanges = 0;
  #firstAcDone = false;

  constructor(options: EmvOptions) {
    this.#apdu = options.apdu;
    this.#contactless = options.contactless;
    this.#onExchange = options.onExchange;
  }

  /** Selection, GPO and records; returns the application data. */
  readApplication(terminal: TerminalData): EmvApplication {
    this.#data.clear();
    this.#setTerminalData(terminal);
    const aid = this.#selectApplication();
    const fci = this.#data.get(0x9f38);
    const pdol = fci === undefined ? new Uint8Array(0) : this.#dolData(fci);
    const gpo = new Uint8Array(pdol.length + 2);
    gpo[0] = 0x83;
    gpo[1] = pdol.length;
    gpo.set(pdol, 2);
    const gpoAnswer = this.#command(0x80, 0xa8, 0x00, 0x00, gpo);
    if (gpoAnswer.length >= 1 && gpoAnswer[0] === 0x80) {
      // Format 1: AIP (2) ‖ AFL inside a primitive 80.
      const value = decodeTlvSafe(gpoAnswer)[0]?.value;
      if (!value || value.length < 2) throw new CardError("protocol", "GPO format 1 without AIP");
      this.#data.set(0x82, value.slice(0, 2));
      this.#data.set(0x94, value.slice(2));
    } else this.#collect(gpoAnswer, 0);
    if (this.#data.has(0x9f26)) this.#firstAcDone = true;
    this.#readRecords(this.#data.get(0x94));
    return this.#application(aid);
  }

  /** First GENERATE AC asking for an ARQC (online-only); skipped when the GPO already returned the cryptogram. */
  generateFirstAc(): CryptogramResult {
    if (!this.#firstAcDone) {
      this.#generateAc(0x80, this.#data.get(0x8c), "CDOL1");
      this.#firstAcDone = true;
    }
    return { cryptogram: this.#cryptogramType(), f55: this.f55() };
  }

  /** Second GENERATE AC with the host's answer: TC when the host approved, AAC otherwise. Not done on contactless. */
  generateSecondAc(issuer: IssuerResponse): CryptogramResult {
    assert(this.#firstAcDone, "second GENERATE AC before the first");
    this.#data.set(0x8a, fromAscii(issuer.responseCode));
    if (issuer.issuerAuthenticationData) this.#data.set(0x91, issuer.issuerAuthenticationData);
    if (this.#contactless) return { cryptogram: issuer.approved ? "TC" : "AAC", f55: this.f55() };
    this.#generateAc(issuer.approved ? 0x40 : 0x00, this.#data.get(0x8d), "CDOL2");
    return { cryptogram: this.#cryptogramType(), f55: this.f55() };
  }

  /** DE 55: the CUP tag set, each tag the card or terminal supplied. */
  f55(): Uint8Array {
    const items: TlvItem[] = [];
    for (const tag of F55_TAGS) {
      const value = this.#data.get(tag);
      if (value !== undefined) items.push({ tag, value });
    }
    return encodeTlv(items);
  }

  /** Overwrites everything the card sent (track 2 equivalent included). */
  wipe(): void {
    for (const value of this.#data.values()) value.fill(0);
    this.#data.clear();
  }

  #setTerminalData(terminal: TerminalData): void {
    assert(terminal.unpredictableNumber.length === 4, "9F37 is 4 bytes");
    assert(/^[0-9]{6}$/.test(terminal.date), "date is YYMMDD");
    assert(terminal.ifdSerial.length === 8, "9F1E is 8 characters");
    const set = (tag: number, hex: string): void => void this.#data.set(tag, fromHex(hex));
    set(0x9f02, numeric(terminal.amountMinor, 12));
    set(0x9f03, "000000000000");
    set(0x5f2a, terminal.currency.padStart(4, "0"));
    set(0x9f1a, terminal.country.padStart(4, "0"));
    set(0x9a, terminal.date);
    set(0x9c, numeric(terminal.transactionType, 2));
    set(0x95, "0000000000");
    set(0x9f33, "E0F8C8"); // manual key entry, magstripe, IC; online PIN, signature; SDA/DDA/CDA capable
    set(0x9f34, "420300"); // enciphered PIN verified online
    set(0x9f35, "22"); // attended, merchant-operated, online only
    set(0x9f09, "0030");
    set(0x9f66, this.#contactless ? "36004000" : "00000000"); // TTQ: qVSDC, online PIN, online cryptogram
    set(0x9f41, numeric(terminal.sequenceCounter, 8));
    this.#data.set(0x9f37, terminal.unpredictableNumber.slice());
    this.#data.set(0x9f1e, fromAscii(terminal.ifdSerial));
  }

  #selectApplication(): string {
    const directory = this.#contactless ? PPSE : PSE;
    const answer = this.#select(fromAscii(directory));
    const candidates: Uint8Array[] = [];
    if (answer !== undefined) {
      const entries = new Map<number, Uint8Array>();
      this.#collect(answer, 0, entries, candidates);
      const sfi = entries.get(0x88);
      // A PSE points at a directory file: its records hold the 61 entries.
      if (!this.#contactless && sfi !== undefined && sfi.length === 1) {
        for (let record = 1; record <= RECORDS_MAX; record++) {
          const response = this.#transceive(apduOf(0x00, 0xb2, record, (sfi[0] << 3) | 4, undefined, true));
          if (sw(response) === 0x6a83) break;
          this.#collect(checkedData(response, "READ RECORD (directory)"), 0, new Map(), candidates);
        }
      }
    } else if (this.#contactless) throw new CardError("protocol", "the card has no PPSE");
    if (candidates.length === 0) for (const aid of KNOWN_AIDS) candidates.push(fromHex(aid));
    for (const aid of candidates) {
      const fci = this.#select(aid);
      if (fci === undefined) continue;
      this.#collect(fci, 0);
      const dfName = this.#data.get(0x84);
      if (!dfName) this.#data.set(0x84, aid.slice());
      return toHex(this.#data.get(0x84)!);
    }
    throw new CardError("protocol", "no supported application on the card");
  }

  /** SELECT by name; undefined when the card does not have it (6A82). */
  #select(name: Uint8Array): Uint8Array | undefined {
    const response = this.#transceive(apduOf(0x00, 0xa4, 0x04, 0x00, name, true));
    if (sw(response) === 0x6a82) return undefined;
    return checkedData(response, "SELECT");
  }

  #readRecords(afl: Uint8Array | undefined): void {
    if (!afl || afl.length === 0 || afl.length % 4 !== 0) throw new CardError("protocol", "the card has no valid AFL");
    let reads = 0;
    for (let entry = 0; entry < afl.length; entry += 4) {
      const sfi = afl[entry] >> 3;
      const first = afl[entry + 1];
      const last = afl[entry + 2];
      if (sfi < 1 || sfi > 30 || first < 1 || last < first) throw new CardError("protocol", "malformed AFL entry");
      for (let record = first; record <= last; record++) {
        if (++reads > RECORDS_MAX) throw new CardError("protocol", "too many records");
        this.#collect(this.#command(0x00, 0xb2, record, (sfi << 3) | 4), 0);
      }
    }
  }

  #generateAc(p1: number, cdol: Uint8Array | undefined, what: string): void {
    if (!cdol) throw new CardError("protocol", `the card has no ${what}`);
    const answer = this.#command(0x80, 0xae, p1, 0x00, this.#dolData(cdol));
    if (answer[0] === 0x80) {
      // Format 1: CID (1) ‖ ATC (2) ‖ AC (8) ‖ IAD.
      const value = decodeTlvSafe(answer)[0]?.value;
      if (!value || value.length < 11) throw new CardError("protocol", "GENERATE AC format 1 too short");
      this.#data.set(0x9f27, value.slice(0, 1));
      this.#data.set(0x9f36, value.slice(1, 3));
      this.#data.set(0x9f26, value.slice(3, 11));
      if (value.length > 11) this.#data.set(0x9f10, value.slice(11));
    } else this.#collect(answer, 0);
    if (!this.#data.has(0x9f26) || !this.#data.has(0x9f27)) throw new CardError("protocol", "GENERATE AC without a cryptogram");
  }

  #cryptogramType(): "AAC" | "TC" | "ARQC" {
    const cid = this.#data.get(0x9f27)![0] & 0xc0;
    return cid === 0x80 ? "ARQC" : cid === 0x40 ? "TC" : "AAC";
  }

  /** Values for a data object list: each tag's known value, left-padded (n) or right-padded with zeros to its length. */
  #dolData(dol: Uint8Array): Uint8Array {
    const entries: { tag: number; length: number }[] = [];
    let total = 0;
    for (let o = 0; o < dol.length;) {
      let tag = dol[o++];
      if ((tag & 0x1f) === 0x1f) {
        if (o >= dol.length) throw new CardError("protocol", "DOL tag truncated");
        tag = (tag << 8) | dol[o++];
      }
      if (o >= dol.length) throw new CardError("protocol", "DOL length truncated");
      const length = dol[o++];
      total += length;
      if (total > 252) throw new CardError("protocol", "DOL data longer than one APDU");
      entries.push({ tag, length });
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const { tag, length } of entries) {
      const value = this.#data.get(tag);
      if (value) {
        const take = Math.min(length, value.length);
        if (NUMERIC_TAGS.includes(tag)) out.set(value.subarray(value.length - take), at + length - take);
        else out.set(value.subarray(0, take), at);
      }
      at += length;
    }
    return out;
  }

  #application(aid: string): EmvApplication {
    const track2 = this.#data.get(0x57);
    if (!track2) throw new CardError("protocol", "the card has no track 2 equivalent (57)");
    const nibbles = toHex(track2).replace(/F+$/, "");
    const separator = nibbles.indexOf("D");
    if (separator < 12 || separator > 19 || nibbles.length < separator + 8) throw new CardError("protocol", "malformed track 2 equivalent");
    const panFromTrack = nibbles.slice(0, separator);
    const panTag = this.#data.get(0x5a);
    const pan = panTag ? toHex(panTag).replace(/F+$/, "") : panFromTrack;
    if (pan !== panFromTrack) throw new CardError("protocol", "PAN (5A) disagrees with track 2 equivalent");
    if (!luhnValid(pan)) throw new CardError("protocol", "PAN fails the Luhn check");
    const expiryTag = this.#data.get(0x5f24);
    const expiry = expiryTag ? toHex(expiryTag).slice(0, 4) : nibbles.slice(separator + 1, separator + 5);
    const sequence = this.#data.get(0x5f34);
    const label = this.#data.get(0x50);
    let labelText = "";
    if (label) for (const c of label) labelText += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : "?";
    return {
      aid,
      label: labelText,
      pan,
      expiry,
      serviceCode: nibbles.slice(separator + 5, separator + 8),
      panSequence: sequence ? toHex(sequence).padStart(3, "0") : undefined,
      track2: fromAscii(nibbles),
    };
  }

  /** Puts every primitive tag found in `bytes` (recursing into templates) into `into`; 61 entries' AIDs into `aids`. */
  #collect(bytes: Uint8Array, depth: number, into = this.#data, aids?: Uint8Array[]): void {
    if (depth > TLV_DEPTH_MAX) throw new CardError("protocol", "TLV nested too deep");
    for (const { tag, value } of decodeTlvSafe(bytes)) {
      const first = tag > 0xffff ? tag >> 16 : tag > 0xff ? tag >> 8 : tag;
      if (tag === 0x61 && aids) {
        const entry = new Map<number, Uint8Array>();
        this.#collect(value, depth + 1, entry);
        const aid = entry.get(0x4f);
        if (aid) aids.push(aid.slice());
      } else if ((first & 0x20) !== 0) this.#collect(value, depth + 1, into, aids);
      else into.set(tag, value.slice());
    }
  }

  /** A command whose answer must be 90 00; returns the data. */
  #command(cla: number, ins: number, p1: number, p2: number, data?: Uint8Array): Uint8Array {
    return checkedData(this.#transceive(apduOf(cla, ins, p1, p2, data, true)), `command ${toHex(Uint8Array.of(ins))}`);
  }

  #transceive(command: Uint8Array): Uint8Array {
    if (++this.#exchanges > TRACE_MAX) throw new CardError("protocol", "too many APDUs in one transaction");
    const response = this.#apdu.transceive(command);
    this.#onExchange?.({ command: toHex(command), response: toHex(response) });
    return response;
  }
}

/** Tags of format n, padded on the left in a DOL. */
const NUMERIC_TAGS: readonly number[] = Object.freeze([0x9f02, 0x9f03, 0x5f2a, 0x9f1a, 0x9a, 0x9c, 0x9f41]);

function numeric(value: number, digits: number): string {
  assert(Number.isInteger(value) && value >= 0 && value < 10 ** digits, "numeric value fits its digits");
  return String(value).padStart(digits, "0");
}

function apduOf(cla: number, ins: number, p1: number, p2: number, data: Uint8Array | undefined, withLe: boolean): Uint8Array {
  const dataLength = data?.length ?? 0;
  assert(dataLength <= 255, "short APDU data");
  const out = new Uint8Array(4 + (dataLength > 0 ? 1 + dataLength : 0) + (withLe ? 1 : 0));
  out.set([cla, ins, p1, p2]);
  if (data && dataLength > 0) {
    out[4] = dataLength;
    out.set(data, 5);
  }
  return out;
}

function sw(response: Uint8Array): number {
  if (response.length < 2) throw new CardError("protocol", "response shorter than SW1 SW2");
  return (response[response.length - 2] << 8) | response[response.length - 1];
}

function checkedData(response: Uint8Array, what: string): Uint8Array {
  const status = sw(response);
  if (status !== 0x9000) throw new CardError("protocol", `${what} answered ${status.toString(16).toUpperCase().padStart(4, "0")}`);
  return response.subarray(0, response.length - 2);
}

/** Card data as BER-TLV, the 00/FF padding cards may put between objects skipped (EMV Book 3, Annex B). */
function decodeTlvSafe(bytes: Uint8Array): TlvItem[] {
  try {
    return decodeTlv(bytes, { skipPadding: true });
  } catch (error) {
    throw new CardError("protocol", `card data is not valid BER-TLV: ${(error as Error).message}`);
  }
}
