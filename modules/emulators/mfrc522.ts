/**
 * An emulated NXP MFRC522 on an SPI bus with ISO 14443A cards in its field.
 * The chip side follows the datasheet: address byte (bit 7 read, bits 6..1
 * register), 64-byte FIFO, ComIrqReg set/clear semantics, Transceive started by
 * BitFramingReg.StartSend, TimerIRq when no card answers, CollErr with CollReg
 * when two cards answer differently. The card side is an ISO 14443-3A state
 * machine (REQA/WUPA, anticollision, SELECT with cascade, HLTA, RATS) and an
 * ISO 14443-4 block layer (I-blocks with chaining, R(ACK), DESELECT) over an
 * EmulatedPicc. XS-compatible.
 */
import { assert } from "../base/assert";
import { crcA } from "../card/apdu";
import type { Spi } from "../platform/io";
import type { EmulatedPicc } from "./emv-card";

const FIFO_BYTES = 64;
const FSD_TABLE = Object.freeze([16, 24, 32, 40, 48, 64, 96, 128, 256]);
const CASCADE_TAG = 0x88;

export type Mfrc522Fault = "timeout" | "crc";

type PiccState = "idle" | "ready" | "active" | "protocol" | "halt";

/** One card in the field with its ISO 14443 state. */
class FieldCard {
  state: PiccState = "idle";
  level = 0;
  fsd = 32;
  chainedCommand: number[] = [];
  pendingResponse: number[] = [];
  constructor(readonly picc: EmulatedPicc) {}

  /** UID bytes for cascade level `level` (0-based): 4 bytes, with the cascade tag where more levels follow. */
  uidPart(level: number): number[] {
    const uid = Array.from(this.picc.uid);
    const levels = uid.length === 4 ? 1 : uid.length === 7 ? 2 : 3;
    if (level >= levels) return [];
    if (levels === 1) return uid;
    if (levels === 2) return level === 0 ? [CASCADE_TAG, ...uid.slice(0, 3)] : uid.slice(3, 7);
    return level === 0 ? [CASCADE_TAG, ...uid.slice(0, 3)] : level === 1 ? [CASCADE_TAG, ...uid.slice(3, 6)] : uid.slice(6, 10);
  }

  levels(): number {
    return this.picc.uid.length === 4 ? 1 : this.picc.uid.length === 7 ? 2 : 3;
  }
}

export interface Mfrc522EmulatorOptions {
  /** ComIrqReg reads that still show the transceive in progress. */
  readonly busyPolls?: number;
  readonly version?: number;
}

export class Mfrc522Emulator implements Spi {
  readonly #registers = new Uint8Array(64);
  readonly #fifo: number[] = [];
  readonly #busyPolls: number;
  readonly #version: number;
  #cards: FieldCard[] = [];
  #address = -1;
  #reading = false;
  #pendingIrq = 0;
  #busy = 0;
  #fault: Mfrc522Fault | undefined;
  /** Frames the chip sent to the field (bytes as transmitted), for tests. */
  readonly sent: number[][] = [];

  constructor(options: Mfrc522EmulatorOptions = {}) {
    this.#busyPolls = options.busyPolls ?? 1;
    this.#version = options.version ?? 0x92;
    this.#reset();
  }

  place(...cards: EmulatedPicc[]): void {
    this.#cards = cards.map((card) => new FieldCard(card));
  }

  remove(): void {
    this.#cards = [];
  }

  /** The next frame a card would answer is lost ("timeout") or arrives with a bad CRC_A ("crc"). */
  fault(kind: Mfrc522Fault): void {
    this.#fault = kind;
  }

  transfer(bytes: Uint8Array): void {
    let i = 0;
    if (this.#address < 0) {
      this.#reading = (bytes[0] & 0x80) !== 0;
      this.#address = (bytes[0] >> 1) & 0x3f;
      bytes[0] = 0;
      i = 1;
    }
    for (; i < bytes.length; i++) {
      if (this.#reading) {
        // Each byte clocked in names the next register to read; the value goes out now.
        const next = (bytes[i] >> 1) & 0x3f;
        bytes[i] = this.#readRegister(this.#address);
        this.#address = next;
      } else {
        this.#writeRegister(this.#address, bytes[i]);
        bytes[i] = 0;
      }
    }
  }

  write(bytes: Uint8Array): void {
    this.transfer(bytes.slice());
  }

  read(bytes: Uint8Array): void {
    this.transfer(bytes);
  }

  flush(deselect = true): void {
    if (deselect) this.#address = -1;
  }

  close(): void {}

  #reset(): void {
    this.#registers.fill(0);
    this.#registers[0x01] = 0x20;
    this.#registers[0x0d] = 0x00;
    this.#registers[0x14] = 0x80;
    this.#registers[0x37] = this.#version;
    this.#fifo.length = 0;
  }

  #readRegister(register: number): number {
    switch (register) {
      case 0x09:
        return this.#fifo.length > 0 ? this.#fifo.shift()! : 0;
      case 0x0a:
        return this.#fifo.length;
      case 0x04:
        if (this.#busy > 0) {
          this.#busy--;
          if (this.#busy === 0) this.#registers[0x04] |= this.#pendingIrq;
        }
        return this.#registers[0x04];
      default:
        return this.#registers[register];
    }
  }

  #writeRegister(register: number, value: number): void {
    switch (register) {
      case 0x01:
        if ((value & 0x0f) === 0x0f) this.#reset();
        else this.#registers[0x01] = value & 0x3f;
        return;
      case 0x04:
        // Set1 (bit 7) chooses whether the marked bits are set or cleared.
        if (value & 0x80) this.#registers[0x04] |= value & 0x7f;
        else this.#registers[0x04] &= ~value & 0x7f;
        return;
      case 0x09:
        if (this.#fifo.length < FIFO_BYTES) this.#fifo.push(value);
        else this.#registers[0x06] |= 0x10; // BufferOvfl
        return;
      case 0x0a:
        if (value & 0x80) {
          this.#fifo.length = 0;
          this.#registers[0x06] &= ~0x10;
        }
        return;
      case 0x0d:
        this.#registers[0x0d] = value & 0x7f;
        if (value & 0x80 && (this.#registers[0x01] & 0x0f) === 0x0c) this.#transceive(value & 0x07);
        return;
      case 0x37:
        return;
      default:
        this.#registers[register] = value;
    }
  }

  #transceive(lastBits: number): void {
    const frame = this.#fifo.splice(0, this.#fifo.length);
    this.sent.push(frame);
    this.#registers[0x06] = 0;
    this.#registers[0x0c] = 0;
    const answers: number[][] = [];
    for (const card of this.#cards) {
      const answer = this.#cardAnswer(card, frame, lastBits);
      if (answer) answers.push(answer);
    }
    const fault = this.#fault;
    // A CRC fault waits for a frame long enough to carry a check (REQA's ATQA has none).
    if (answers.length > 0 && (fault !== "crc" || answers[0].length > 2)) this.#fault = undefined;
    if (answers.length === 0 || fault === "timeout") {
      this.#complete(0x01); // TimerIRq: the 25 ms frame timer ran out
      return;
    }
    let answer = answers[0];
    if (answers.some((other) => other.length !== answer.length || other.some((b, i) => b !== answer[i]))) {
      // Cards answering at once: the chip flags the first differing bit.
      this.#registers[0x06] |= 0x08;
      this.#registers[0x0e] = firstDifferingBit(answers[0], answers[1]) & 0x1f;
      this.#fifo.push(...answer);
      this.#complete(0x20 | 0x10 | 0x02);
      return;
    }
    if (fault === "crc" && answer.length > 2) {
      answer = answer.slice();
      answer[answer.length - 1] ^= 0x5a;
    }
    this.#fifo.push(...answer.slice(0, FIFO_BYTES));
    this.#complete(0x20 | 0x10);
  }

  #complete(irq: number): void {
    this.#registers[0x01] = 0x00;
    this.#pendingIrq = irq;
    this.#busy = this.#busyPolls;
    if (this.#busy === 0) this.#registers[0x04] |= irq;
  }

  /** ISO 14443-3A/-4 card behaviour; undefined = the card stays silent. */
  #cardAnswer(card: FieldCard, frame: number[], lastBits: number): number[] | undefined {
    if (lastBits === 7 && frame.length === 1) {
      const wakeup = frame[0] === 0x52;
      if (frame[0] !== 0x26 && !wakeup) return undefined;
      if (card.state === "halt" && !wakeup) return undefined;
      card.state = "ready";
      card.level = 0;
      return [card.picc.atqa & 0xff, card.picc.atqa >> 8];
    }
    const cascade = [0x93, 0x95, 0x97].indexOf(frame[0]);
    if (card.state === "ready" && cascade === card.level && frame[1] === 0x20 && frame.length === 2) {
      const part = card.uidPart(card.level);
      return [...part, part[0] ^ part[1] ^ part[2] ^ part[3]];
    }
    if (!crcOk(frame)) return undefined;
    if (card.state === "ready" && cascade === card.level && frame[1] === 0x70 && frame.length === 9) {
      const part = card.uidPart(card.level);
      if (part.some((b, i) => b !== frame[2 + i])) return undefined;
      card.level++;
      const more = card.level < card.levels();
      if (!more) card.state = "active";
      return withCrc([more ? 0x04 : card.picc.sak]);
    }
    if (frame[0] === 0x50 && frame[1] === 0x00 && frame.length === 4 && card.state === "active") {
      card.state = "halt";
      return undefined;
    }
    if (frame[0] === 0xe0 && frame.length === 4 && card.state === "active") {
      card.fsd = FSD_TABLE[Math.min(frame[1] >> 4, FSD_TABLE.length - 1)];
      card.state = "protocol";
      return withCrc(Array.from(card.picc.ats));
    }
    if (card.state === "protocol") return this.#block(card, frame.slice(0, -2));
    return undefined;
  }

  /** ISO 14443-4 PICC block handling; the card answers with the block number it received. */
  #block(card: FieldCard, block: number[]): number[] | undefined {
    const pcb = block[0];
    const blockNumber = pcb & 0x01;
    if (pcb === 0xc2) {
      card.state = "halt";
      return withCrc([0xc2]);
    }
    if ((pcb & 0xe6) === 0xa2) {
      // R(ACK): the reader wants the next part of a chained response.
      if (card.pendingResponse.length === 0) return undefined;
      return this.#responsePart(card, blockNumber);
    }
    if ((pcb & 0xe2) !== 0x02) return undefined;
    card.chainedCommand.push(...block.slice(1));
    if (pcb & 0x10) return withCrc([0xa2 | blockNumber]);
    const apdu = Uint8Array.from(card.chainedCommand);
    card.chainedCommand = [];
    const response = card.picc.respond(apdu);
    if (response === undefined) {
      card.state = "idle";
      return undefined;
    }
    card.pendingResponse = Array.from(response);
    return this.#responsePart(card, blockNumber);
  }

  #responsePart(card: FieldCard, blockNumber: number): number[] {
    const infMax = Math.min(card.fsd, FIFO_BYTES) - 3;
    const part = card.pendingResponse.splice(0, infMax);
    const chaining = card.pendingResponse.length > 0 ? 0x10 : 0;
    return withCrc([0x02 | chaining | blockNumber, ...part]);
  }
}

function crcOk(frame: number[]): boolean {
  if (frame.length < 3) return false;
  const bytes = Uint8Array.from(frame);
  const crc = crcA(bytes, 0, bytes.length - 2);
  return bytes[bytes.length - 2] === (crc & 0xff) && bytes[bytes.length - 1] === crc >> 8;
}

function withCrc(data: number[]): number[] {
  const crc = crcA(Uint8Array.from(data), 0, data.length);
  return [...data, crc & 0xff, crc >> 8];
}

function firstDifferingBit(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const diff = a[i] ^ b[i];
    if (diff === 0) continue;
    for (let bit = 0; bit < 8; bit++) if ((diff >> bit) & 1) return i * 8 + bit + 1;
  }
  assert(a.length !== b.length, "answers differ");
  return Math.min(a.length, b.length) * 8 + 1;
}
