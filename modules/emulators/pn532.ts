/**
 * An emulated NXP PN532 on an SPI bus, as UM0701-02 describes it: data write,
 * status read and data read operations selected by the first byte after chip
 * select; every accepted command frame is ACKed, and the response frame becomes
 * ready after a number of status reads. Cards are EmulatedPicc objects in the
 * field; faults make the next exchange time out, fail CRC, or never answer.
 * XS-compatible.
 */
import { assert } from "../base/assert";
import type { Spi } from "../platform/io";
import type { EmulatedPicc } from "./emv-card";

const FRAME_BYTES_MAX = 264;
const ACK = Object.freeze([0x00, 0x00, 0xff, 0x00, 0xff, 0x00]);
/** The application-level error frame the chip sends for a syntax error in a command. */
const ERROR_FRAME = Object.freeze([0x00, 0x00, 0xff, 0x01, 0xff, 0x7f, 0x81, 0x00]);

export type Pn532Fault = "timeout" | "crc" | "mute";

export interface Pn532EmulatorOptions {
  /** Status reads answered "busy" before a response is ready. */
  readonly busyPolls?: number;
  /** Largest APDU response part per InDataExchange frame; more is chained with MI. */
  readonly exchangeChunkMax?: number;
}

export class Pn532Emulator implements Spi {
  readonly #busyPolls: number;
  readonly #chunkMax: number;
  readonly #in = new Uint8Array(FRAME_BYTES_MAX);
  #inLength = 0;
  #operation = -1;
  /** The frame being read out (an ACK, then the response), in fixed typed arrays: no per-byte arrays. */
  #out: Uint8Array = new Uint8Array(0);
  #outIsAck = false;
  #outAt = 0;
  #pending: Uint8Array | undefined;
  #busy = 0;
  #cards: EmulatedPicc[] = [];
  #target: EmulatedPicc | undefined;
  #fault: Pn532Fault | undefined;
  /** An APDU arriving in chained parts (MI), and its length so far. */
  readonly #command = new Uint8Array(FRAME_BYTES_MAX * 4);
  #commandLength = 0;
  /** A response going out in parts, and where the next part starts. */
  #chained: Uint8Array = new Uint8Array(0);
  #chainedAt = 0;
  /** Every command code the chip received, for tests. */
  readonly commands: number[] = [];

  constructor(options: Pn532EmulatorOptions = {}) {
    this.#busyPolls = options.busyPolls ?? 2;
    this.#chunkMax = options.exchangeChunkMax ?? 252;
  }

  /** Puts cards in the field (replacing any there). */
  place(...cards: EmulatedPicc[]): void {
    this.#cards = cards;
  }

  remove(): void {
    this.#cards = [];
    this.#target = undefined;
  }

  /** Arms a fault for the next InDataExchange ("mute": the chip never becomes ready). */
  fault(kind: Pn532Fault): void {
    this.#fault = kind;
  }

  transfer(bytes: Uint8Array): void {
    let i = 0;
    if (this.#operation < 0) {
      this.#operation = bytes[0];
      bytes[0] = 0xff;
      i = 1;
    }
    for (; i < bytes.length; i++) {
      if (this.#operation === 0x01) {
        assert(this.#inLength < FRAME_BYTES_MAX, "PN532 emulator: frame too long");
        this.#in[this.#inLength++] = bytes[i];
        bytes[i] = 0xff;
      } else if (this.#operation === 0x02) {
        bytes[i] = this.#ready() ? 0x01 : 0x00;
      } else if (this.#operation === 0x03) {
        bytes[i] = this.#outAt < this.#out.length ? this.#out[this.#outAt++] : 0x00;
      } else bytes[i] = 0xff;
    }
  }

  write(bytes: Uint8Array): void {
    this.transfer(bytes.slice());
  }

  read(bytes: Uint8Array): void {
    bytes.fill(0);
    this.transfer(bytes);
  }

  flush(deselect = true): void {
    if (!deselect) return;
    const operation = this.#operation;
    this.#operation = -1;
    if (operation === 0x01) {
      this.#accept(this.#in.subarray(0, this.#inLength));
      this.#inLength = 0;
    } else if (operation === 0x03 && this.#outAt > 0) {
      // A frame read ends with chip select: the ACK makes room for the response.
      const wasAck = this.#outIsAck;
      this.#out = new Uint8Array(0);
      this.#outIsAck = false;
      this.#outAt = 0;
      if (wasAck && this.#pending) this.#busy = this.#busyPolls;
    }
  }

  close(): void {}

  #ready(): boolean {
    if (this.#out.length > 0) return true;
    if (!this.#pending) return false;
    if (this.#busy > 0) {
      this.#busy--;
      return false;
    }
    this.#out = this.#pending;
    this.#outIsAck = false;
    this.#outAt = 0;
    this.#pending = undefined;
    return true;
  }

  /** Checks a host frame; a bad one is ignored, as the chip does (the host times out). */
  #accept(frame: Uint8Array): void {
    if (frame.length < 8 || frame[0] !== 0x00 || frame[1] !== 0x00 || frame[2] !== 0xff) return;
    const length = frame[3];
    if (((length + frame[4]) & 0xff) !== 0 || frame.length < 5 + length + 2) return;
    let sum = 0;
    for (let i = 0; i <= length; i++) sum += frame[5 + i];
    if ((sum & 0xff) !== 0 || frame[5] !== 0xd4) return;
    const code = frame[6];
    this.commands.push(code);
    this.#out = Uint8Array.from(ACK);
    this.#outIsAck = true;
    this.#outAt = 0;
    const reply = this.#execute(code, frame.subarray(7, 5 + length));
    this.#pending = reply === undefined ? undefined : reply === ERROR_REPLY ? Uint8Array.from(ERROR_FRAME) : frameOf(code + 1, reply);
  }

  #execute(code: number, params: Uint8Array): ArrayLike<number> | typeof ERROR_REPLY | undefined {
    switch (code) {
      case 0x02:
        return [0x32, 0x01, 0x06, 0x07];
      case 0x14:
      case 0x32:
      case 0x12:
        return [];
      case 0x4a:
        return this.#listPassiveTarget(params);
      case 0x40:
        return this.#dataExchange(params);
      case 0x52:
        this.#target = undefined;
        return [0x00];
      default:
        return ERROR_REPLY;
    }
  }

  #listPassiveTarget(params: Uint8Array): number[] | typeof ERROR_REPLY {
    if (params.length < 2 || params[0] < 1 || params[0] > 2 || params[1] !== 0x00) return ERROR_REPLY;
    const found = this.#cards.slice(0, params[0]);
    this.#target = found.length === 1 ? found[0] : undefined;
    const reply = [found.length];
    found.forEach((card, index) => {
      reply.push(index + 1, card.atqa >> 8, card.atqa & 0xff, card.sak, card.uid.length, ...card.uid);
      if (card.sak & 0x20) reply.push(...card.ats);
    });
    return reply;
  }

  #dataExchange(params: Uint8Array): ArrayLike<number> | undefined {
    const fault = this.#fault;
    this.#fault = undefined;
    if (fault === "mute") return undefined;
    if (params.length < 1 || (params[0] & 0x3f) !== 1 || !this.#target) return [0x27];
    if (fault === "timeout") return [0x01];
    if (fault === "crc") return [0x02];
    if (params.length === 1 && this.#chainedAt < this.#chained.length) return this.#nextChunk();
    const part = params.subarray(1);
    assert(this.#commandLength + part.length <= this.#command.length, "PN532 emulator: chained command too long");
    this.#command.set(part, this.#commandLength);
    this.#commandLength += part.length;
    if (params[0] & 0x40) return [0x00];
    const apdu = this.#command.slice(0, this.#commandLength);
    this.#commandLength = 0;
    const response = this.#target.respond(apdu);
    if (response === undefined) {
      this.#target = undefined;
      return [0x01];
    }
    this.#chained = response;
    this.#chainedAt = 0;
    return this.#nextChunk();
  }

  /** Status byte (MI set while more follows) and the next part of the response. */
  #nextChunk(): Uint8Array {
    const part = this.#chained.subarray(this.#chainedAt, this.#chainedAt + this.#chunkMax);
    this.#chainedAt += part.length;
    const out = new Uint8Array(1 + part.length);
    out[0] = this.#chainedAt < this.#chained.length ? 0x40 : 0x00;
    out.set(part, 1);
    return out;
  }
}

const ERROR_REPLY = Symbol("error frame");

function frameOf(code: number, data: ArrayLike<number>): Uint8Array {
  const length = 2 + data.length;
  assert(length <= 255, "PN532 emulator: reply fits a normal frame");
  const out = new Uint8Array(length + 7);
  out[2] = 0xff;
  out[3] = length;
  out[4] = (0x100 - length) & 0xff;
  out[5] = 0xd5;
  out[6] = code;
  let sum = 0xd5 + code;
  for (let i = 0; i < data.length; i++) {
    out[7 + i] = data[i];
    sum += data[i];
  }
  out[7 + data.length] = (0x100 - (sum & 0xff)) & 0xff;
  return out;
}
