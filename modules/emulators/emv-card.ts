/**
 * Emulated cards. `EmulatedPicc` is what a contactless reader emulator needs
 * from a card in its field; the EMV card below implements it.
 */
import { assert } from "../base/assert";
import { fromAscii, fromHex, toHex } from "../base/hex";
import { encodeTlv, type TlvItem } from "../iso8583/tlv";
import type { TestCard } from "../card/test-cards";

export interface EmulatedPicc {
  /** 4, 7 or 10 bytes. */
  readonly uid: Uint8Array;
  readonly atqa: number;
  readonly sak: number;
  /** Answer to select, TL first. */
  readonly ats: Uint8Array;
  /** The card's R-APDU to a C-APDU, or undefined when it has left the field (stays silent). */
  respond(apdu: Uint8Array): Uint8Array | undefined;
}

/**
 * A table-driven EMV card built from a test card of modules/card/test-cards:
 * PSE (contact) and PPSE (contactless) directories, one application, PDOL,
 * AFL records with the track 2 equivalent, PAN, expiry and PAN sequence
 * number, and GENERATE AC answering ARQC / TC / AAC as the profile says.
 * Contactless Visa answers GPO qVSDC-style with the cryptogram in it.
 * Cryptograms are a checksum (`simulatedCryptogram`), not cryptography.
 */

const AIDS = Object.freeze({ unionpay: "A0000003330101", visa: "A0000000031010" });
const LABELS = Object.freeze({ unionpay: "UnionPay Debit", visa: "VISA CREDIT" });
const CONTACT_PDOL = "9F02065F2A02";
const CONTACTLESS_PDOL = "9F66049F02069F03069F1A0295055F2A029A039C019F3704";
const CDOL1 = "9F02069F03069F1A0295055F2A029A039C019F3704";
const CDOL2 = "8A0291089505" + "9F3704";
const IAD = "07010103A00000";
const SW_OK = Object.freeze([0x90, 0x00]);

function tlv(tag: number, value: Uint8Array | string): TlvItem {
  return { tag, value: typeof value === "string" ? fromHex(value) : value };
}

function answer(items: TlvItem[]): Uint8Array {
  const body = encodeTlv(items);
  const out = new Uint8Array(body.length + 2);
  out.set(body);
  out.set(SW_OK, body.length);
  return out;
}

/** Total value length a DOL asks for (tags of 1 or 2 bytes, 1-byte lengths). */
function dolValueBytes(dolHex: string): number {
  const dol = fromHex(dolHex);
  let total = 0;
  for (let o = 0; o < dol.length;) {
    o += (dol[o] & 0x1f) === 0x1f ? 2 : 1;
    total += dol[o++];
  }
  return total;
}

function status(sw: number): Uint8Array {
  return Uint8Array.of(sw >> 8, sw & 0xff);
}

/** 8 bytes mixed from the PAN, ATC and the CDOL data (FNV-1a, twice): lets a test host recompute it. */
export function simulatedCryptogram(pan: string, atc: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ atc;
  const mix = (b: number): void => {
    h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b ^ (h1 & 0xff), 0x01000193) >>> 0;
  };
  for (let i = 0; i < pan.length; i++) mix(pan.charCodeAt(i));
  mix(atc >> 8);
  mix(atc & 0xff);
  for (const b of data) mix(b);
  for (let i = 0; i < 4; i++) {
    out[i] = (h1 >>> (24 - 8 * i)) & 0xff;
    out[4 + i] = (h2 >>> (24 - 8 * i)) & 0xff;
  }
  return out;
}

export class EmvCardEmulator implements EmulatedPicc {
  readonly uid: Uint8Array;
  readonly atqa = 0x0004;
  readonly sak = 0x20;
  readonly ats = Uint8Array.of(0x05, 0x78, 0x80, 0x70, 0x02);
  readonly #card: TestCard;
  readonly #contactless: boolean;
  readonly #aid: string;
  #atc = 0x0010;
  #answered = 0;
  #processing = false;
  #firstAcDone = false;
  /** Every C-APDU the card saw, hex, for tests. */
  readonly commands: string[] = [];

  constructor(card: TestCard) {
    assert(card.entry !== "swipe", "a magnetic stripe card has no chip");
    this.#card = card;
    this.#contactless = card.entry === "contactless";
    this.#aid = AIDS[card.scheme];
    const digits = card.pan.slice(-8);
    this.uid = Uint8Array.of(
      0x08 ^ Number(digits.slice(0, 2)),
      Number(digits.slice(2, 4)),
      Number(digits.slice(4, 6)),
      Number(digits.slice(6, 8)),
    );
  }

  get removed(): boolean {
    return this.#card.removedAfterApdus !== undefined && this.#answered >= this.#card.removedAfterApdus;
  }

  respond(apdu: Uint8Array): Uint8Array | undefined {
    if (this.removed) return undefined;
    this.#answered++;
    this.commands.push(toHex(apdu));
    if (apdu.length < 4) return status(0x6700);
    const [cla, ins, p1, p2] = apdu;
    const data = apdu.length > 5 ? apdu.subarray(5, 5 + apdu[4]) : new Uint8Array(0);
    if (cla === 0x00 && ins === 0xa4) return p1 === 0x04 && p2 === 0x00 ? this.#select(data) : status(0x6a86);
    if (cla === 0x00 && ins === 0xb2) return this.#readRecord(p1, p2 >> 3);
    if (cla === 0x80 && ins === 0xa8) return this.#gpo(data);
    if (cla === 0x80 && ins === 0xae) return this.#generateAc(p1, data);
    return status(0x6d00);
  }

  #select(name: Uint8Array): Uint8Array {
    const text = toHex(name);
    const label = fromAscii(LABELS[this.#card.scheme]);
    const entry = tlv(0x61, encodeTlv([tlv(0x4f, this.#aid), tlv(0x50, label), tlv(0x87, "01")]));
    if (this.#contactless && text === toHex(fromAscii("2PAY.SYS.DDF01"))) {
      return answer([tlv(0x6f, encodeTlv([tlv(0x84, name), tlv(0xa5, encodeTlv([tlv(0xbf0c, encodeTlv([entry]))]))]))]);
    }
    if (!this.#contactless && text === toHex(fromAscii("1PAY.SYS.DDF01"))) {
      return answer([tlv(0x6f, encodeTlv([tlv(0x84, name), tlv(0xa5, encodeTlv([tlv(0x88, "01")]))]))]);
    }
    if (text !== this.#aid) return status(0x6a82);
    this.#processing = false;
    this.#firstAcDone = false;
    const pdol = this.#contactless ? CONTACTLESS_PDOL : CONTACT_PDOL;
    return answer([
      tlv(0x6f, encodeTlv([tlv(0x84, this.#aid), tlv(0xa5, encodeTlv([tlv(0x50, label), tlv(0x87, "01"), tlv(0x9f38, pdol)]))])),
    ]);
  }

  #track2Equivalent(): string {
    const card = this.#card;
    const nibbles = `${card.pan}D${card.expiry}${card.serviceCode}${card.discretionary}`;
    return nibbles.length % 2 === 0 ? nibbles : `${nibbles}F`;
  }

  #readRecord(record: number, sfi: number): Uint8Array {
    const card = this.#card;
    if (!this.#contactless && sfi === 1) {
      if (record !== 1) return status(0x6a83);
      const entry = encodeTlv([tlv(0x4f, this.#aid), tlv(0x50, fromAscii(LABELS[card.scheme])), tlv(0x87, "01")]);
      return answer([tlv(0x70, encodeTlv([tlv(0x61, entry)]))]);
    }
    const pan = card.pan.length % 2 === 0 ? card.pan : `${card.pan}F`;
    const sequence = tlv(0x5f34, card.panSequence!.slice(-2));
    if (!this.#processing) return status(0x6985);
    if (sfi === 2 && record === 1)
      return answer([tlv(0x70, encodeTlv([tlv(0x57, this.#track2Equivalent()), tlv(0x5f20, fromAscii("TEST/CARD"))]))]);
    if (sfi === 2 && record === 2)
      return answer([
        tlv(
          0x70,
          encodeTlv([tlv(0x5a, pan), tlv(0x5f24, `${card.expiry}31`), sequence, tlv(0x8c, CDOL1), tlv(0x8d, CDOL2), tlv(0x9f07, "FF00")]),
        ),
      ]);
    if (sfi === 3 && record === 1 && this.#contactless)
      return answer([tlv(0x70, encodeTlv([tlv(0x5a, pan), tlv(0x5f24, `${card.expiry}31`)]))]);
    return status(0x6a83);
  }

  #gpo(data: Uint8Array): Uint8Array {
    const valueBytes = dolValueBytes(this.#contactless ? CONTACTLESS_PDOL : CONTACT_PDOL);
    if (data.length !== valueBytes + 2 || data[0] !== 0x83 || data[1] !== valueBytes) return status(0x6700);
    this.#processing = true;
    if (!this.#contactless) return answer([tlv(0x77, encodeTlv([tlv(0x82, "7C00"), tlv(0x94, "10010200")]))]);
    // qVSDC: track 2 equivalent and the ARQC come back with the GPO answer.
    const atc = ++this.#atc;
    this.#firstAcDone = true;
    return answer([
      tlv(
        0x77,
        encodeTlv([
          tlv(0x82, "2000"),
          tlv(0x94, "18010100"),
          tlv(0x57, this.#track2Equivalent()),
          tlv(0x5f34, this.#card.panSequence!.slice(-2)),
          tlv(0x9f10, IAD),
          tlv(0x9f26, simulatedCryptogram(this.#card.pan, atc, data.subarray(2))),
          tlv(0x9f27, "80"),
          tlv(0x9f36, Uint8Array.of(atc >> 8, atc & 0xff)),
        ]),
      ),
    ]);
  }

  #generateAc(p1: number, data: Uint8Array): Uint8Array {
    if (!this.#processing || this.#contactless) return status(0x6985);
    const requested = p1 & 0xc0;
    let cid: number;
    if (!this.#firstAcDone) {
      // An online-only card answers a TC request with an ARQC too.
      cid = requested === 0x00 ? 0x00 : 0x80;
      this.#firstAcDone = true;
    } else {
      if (requested === 0x80) return status(0x6985);
      cid = requested === 0x40 && this.#card.secondAc === "TC" ? 0x40 : 0x00;
      this.#processing = false;
    }
    const atc = ++this.#atc;
    return answer([
      tlv(
        0x77,
        encodeTlv([
          tlv(0x9f27, Uint8Array.of(cid)),
          tlv(0x9f36, Uint8Array.of(atc >> 8, atc & 0xff)),
          tlv(0x9f26, simulatedCryptogram(this.#card.pan, atc, data)),
          tlv(0x9f10, IAD),
        ]),
      ),
    ]);
  }
}
