/**
 * What must never be stored or logged (PCI DSS): every test card's full PAN,
 * its track 2 equivalent and its PIN blocks, in every encoding a bug would
 * leave them in: ASCII text, packed BCD at either nibble alignment, and raw
 * or hex PIN blocks (clear format 0, and encrypted under each PIK a sign-on
 * delivered). Masked PANs (first 6 / last 4) are fine and do not match.
 */
import { fromAscii, toHex } from "../../modules/base/hex";
import { typedSoftwareCiphers } from "../../modules/crypto/ciphers";
import type { WorkingKeys } from "../../modules/crypto/keys";
import { pinBlockFormat0 } from "../../modules/crypto/pin-block";
import { TEST_CARDS, track2Text, type TestCard } from "../../modules/card/test-cards";

export type SecretKind = "pan" | "track2" | "pinBlock";

interface TextNeedle {
  readonly kind: SecretKind;
  readonly card: string;
  readonly text: string;
}

interface ByteNeedle {
  readonly kind: SecretKind;
  readonly card: string;
  readonly encoding: string;
  readonly bytes: Buffer;
}

export interface SecretHit {
  readonly kind: SecretKind;
  readonly card: string;
  readonly encoding: string;
  readonly offset: number;
}

/** The flash's sector size: the unit in which erased (all FF) memory is skipped before a scan. */
const ERASED_SCAN_SECTOR_BYTES = 4096;
const ERASED_SECTORS = new Map<number, Buffer>();

/** An erased sector's contents (all FF), one per size per process. */
function erasedSector(bytes: number): Buffer {
  let sector = ERASED_SECTORS.get(bytes);
  if (sector === undefined) ERASED_SECTORS.set(bytes, (sector = Buffer.alloc(bytes, 0xff)));
  return sector;
}

/** The PIK's cipher on typed DES tables (V8 reads the frozen ones several times slower). */
const CIPHERS = typedSoftwareCiphers();

/** PINs the workload enters: the right one and a wrong one. */
export const WORKLOAD_PINS = Object.freeze(["1234", "9999"]);

/** Packed BCD of a digit string (`D` → nibble D), padded with F to whole bytes. */
function bcd(nibbles: string): Buffer {
  const even = nibbles.length % 2 === 0 ? nibbles : `${nibbles}F`;
  return Buffer.from(even, "hex");
}

/** Track 2 as the terminal carries it in F35 (nibbles, `D` separator). */
function trackOf(card: TestCard): string {
  return `${card.pan}D${card.expiry}${card.serviceCode}${card.discretionary}`;
}

/** Needles of the card catalogue, built once per process (the scanner adds per-run PIN blocks to copies). */
const CATALOGUE = buildCatalogue();

/** Every test card's clear PIN blocks for the workload's PINs, built once per process (each sign-on encrypts them). */
const CLEAR_PIN_BLOCKS: readonly { readonly card: string; readonly block: Uint8Array }[] = TEST_CARDS.flatMap((card) =>
  WORKLOAD_PINS.map((pin) => ({ card: card.name, block: pinBlockFormat0(pin, card.pan) })),
);

interface Needles {
  readonly text: TextNeedle[];
  readonly bytes: ByteNeedle[];
  /** Clear PIN blocks and their encryptions, by hex, so the same block is never added twice. */
  readonly pinBlocks: Set<string>;
  /** The shortest text needle: most event fields (MTIs, STANs, outcomes) are shorter and need no search. */
  textLengthMin: number;
}

function buildCatalogue(): Needles {
  const needles: Needles = { text: [], bytes: [], pinBlocks: new Set(), textLengthMin: Number.MAX_SAFE_INTEGER };
  for (const card of TEST_CARDS) {
    const track = trackOf(card);
    addText(needles, "pan", card.name, card.pan);
    addText(needles, "track2", card.name, track);
    addText(needles, "track2", card.name, track2Text(card));
    addBytes(needles, "pan", card.name, "ascii", Buffer.from(fromAscii(card.pan)));
    // BCD at an even nibble offset, and at an odd one (the middle whole bytes of "0" + PAN).
    addBytes(needles, "pan", card.name, "bcd", bcd(card.pan));
    addBytes(needles, "pan", card.name, "bcd-odd", bcd(`0${card.pan}`).subarray(1, card.pan.length / 2));
    addBytes(needles, "track2", card.name, "bcd", bcd(track));
    for (const pin of WORKLOAD_PINS) addPinBlock(needles, card.name, pinBlockFormat0(pin, card.pan));
  }
  return needles;
}

function addPinBlock(needles: Needles, card: string, block: Uint8Array): void {
  const hex = toHex(block);
  if (needles.pinBlocks.has(hex)) return;
  needles.pinBlocks.add(hex);
  addText(needles, "pinBlock", card, hex);
  addBytes(needles, "pinBlock", card, "raw", Buffer.from(block));
}

function addText(needles: Needles, kind: SecretKind, card: string, text: string): void {
  needles.text.push({ kind, card, text });
  needles.textLengthMin = Math.min(needles.textLengthMin, text.length);
  if (text !== text.toLowerCase()) needles.text.push({ kind, card, text: text.toLowerCase() });
}

function addBytes(needles: Needles, kind: SecretKind, card: string, encoding: string, bytes: Buffer): void {
  needles.bytes.push({ kind, card, encoding, bytes });
  if (encoding === "ascii") addBytes(needles, kind, card, "hex-ascii", Buffer.from(toHex(bytes)));
}

export class SecretScanner {
  readonly #needles: Needles = {
    text: [...CATALOGUE.text],
    bytes: [...CATALOGUE.bytes],
    pinBlocks: new Set(CATALOGUE.pinBlocks),
    textLengthMin: CATALOGUE.textLengthMin,
  };

  /** A sign-on delivered a PIK: the encrypted PIN blocks under it are secrets too. */
  addWorkingKeys(keys: WorkingKeys): void {
    const pik = keys.pik.createCipher(CIPHERS);
    for (const { card, block } of CLEAR_PIN_BLOCKS) {
      const encrypted = new Uint8Array(block.length);
      pik.encryptBlock(block, 0, encrypted, 0);
      addPinBlock(this.#needles, card, encrypted);
    }
  }

  /** First secret in a log line or event, if any. */
  scanText(line: string): SecretHit | undefined {
    if (line.length < this.#needles.textLengthMin) return undefined;
    for (const needle of this.#needles.text) {
      const offset = line.indexOf(needle.text);
      if (offset >= 0) return { kind: needle.kind, card: needle.card, encoding: "text", offset };
    }
    return undefined;
  }

  /**
   * First secret in a memory image (flash), if any. Erased sectors (all FF) are
   * skipped first: no needle is all FF, so a match lies within the written
   * sectors and a needle's length either side of them; only then is the whole
   * image searched, in needle order, for the same first hit as always.
   */
  scanBytes(image: Uint8Array, sectorBytes = ERASED_SCAN_SECTOR_BYTES): SecretHit | undefined {
    const buffer = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
    if (!this.#anyInWritten(buffer, sectorBytes)) return undefined;
    for (const needle of this.#needles.bytes) {
      const offset = buffer.indexOf(needle.bytes);
      if (offset >= 0) return { kind: needle.kind, card: needle.card, encoding: needle.encoding, offset };
    }
    return undefined;
  }

  /** Whether any needle occurs in the image's written sectors (with a needle's length around each run of them). */
  #anyInWritten(buffer: Buffer, sectorBytes: number): boolean {
    const needles = this.#needles.bytes;
    let margin = 0;
    for (const needle of needles) {
      // An all-FF needle could hide in an erased sector: search everything.
      if (needle.bytes.every((b) => b === 0xff)) return true;
      margin = Math.max(margin, needle.bytes.length - 1);
    }
    const index = indexByPrefix(needles);
    const erased = erasedSector(sectorBytes);
    const isErased = (at: number) =>
      at + sectorBytes <= buffer.length && buffer.compare(erased, 0, sectorBytes, at, at + sectorBytes) === 0;
    for (let start = 0; start < buffer.length;) {
      if (isErased(start)) {
        start += sectorBytes;
        continue;
      }
      let end = start + sectorBytes;
      while (end < buffer.length && !isErased(end)) end += sectorBytes;
      const region = buffer.subarray(Math.max(0, start - margin), Math.min(buffer.length, end + margin));
      if (holdsAny(region, index, needles)) return true;
      start = end;
    }
    return false;
  }
}

/** The needles by their first two bytes: one pass over a region finds whether any occurs. */
interface PrefixIndex {
  /** 1 where some needle starts with these two bytes (first << 8 | second). */
  readonly starts: Uint8Array;
  readonly byPrefix: Map<number, Buffer[]>;
}

/** The index, or undefined when a needle is shorter than two bytes (then each needle is searched on its own). */
function indexByPrefix(needles: readonly ByteNeedle[]): PrefixIndex | undefined {
  const starts = new Uint8Array(1 << 16);
  const byPrefix = new Map<number, Buffer[]>();
  for (const { bytes } of needles) {
    if (bytes.length < 2) return undefined;
    const prefix = (bytes[0] << 8) | bytes[1];
    starts[prefix] = 1;
    const list = byPrefix.get(prefix);
    if (list === undefined) byPrefix.set(prefix, [bytes]);
    else list.push(bytes);
  }
  return { starts, byPrefix };
}

/**
 * Whether any needle occurs in `region`: one pass over it with the prefix index (Buffer.indexOf per needle
 * was a few percent of a chaos seed, its cost mostly per call, with a hundred needles after a few sign-ons).
 */
function holdsAny(region: Buffer, index: PrefixIndex | undefined, needles: readonly ByteNeedle[]): boolean {
  if (index === undefined) return needles.some((needle) => region.indexOf(needle.bytes) >= 0);
  const { starts, byPrefix } = index;
  for (let i = 0; i + 1 < region.length; i++) {
    const prefix = (region[i] << 8) | region[i + 1];
    if (starts[prefix] === 0) continue;
    for (const bytes of byPrefix.get(prefix)!) if (occursAt(region, i, bytes)) return true;
  }
  return false;
}

function occursAt(region: Buffer, at: number, bytes: Buffer): boolean {
  if (at + bytes.length > region.length) return false;
  for (let k = 2; k < bytes.length; k++) if (region[at + k] !== bytes[k]) return false;
  return true;
}
