/**
 * An emulated contact reader IC (TDA8029-style, ALPAR-like frames over a
 * serial link) with an EMV card behind a T=0 card layer: case 4 commands
 * answer 61xx and wait for GET RESPONSE, a case 2 command with the wrong P3
 * answers 6Cxx. Bytes come back a few at a time, as a UART delivers them.
 * XS-compatible.
 */
import { ALPAR, ALPAR_STATUS, type ByteStream } from "../card/contact";
import type { EmvCardEmulator } from "./emv-card";

/** 3B, T0 = 68 (TB1, TC1, 8 historical bytes), TB1 = 00, TC1 = 00, "XSPOSEMV": T=0 only, no TCK. */
export const EMULATED_ATR = Object.freeze([0x3b, 0x68, 0x00, 0x00, 0x58, 0x53, 0x50, 0x4f, 0x53, 0x45, 0x4d, 0x56]);
const INPUT_BYTES_MAX = 512;
/** Instructions whose T=0 data flows card → terminal (case 2). */
const OUTGOING_INS = Object.freeze([0xb2, 0xc0, 0xca, 0xb0]);

export class ContactReaderEmulator implements ByteStream {
  readonly #bytesPerRead: number;
  #input: number[] = [];
  #output: number[] = [];
  #card: EmvCardEmulator | undefined;
  #powered = false;
  #pending: number[] = [];
  /** TPDUs the card received (hex), for tests. */
  readonly tpdus: string[] = [];

  constructor(options: { bytesPerRead?: number } = {}) {
    this.#bytesPerRead = options.bytesPerRead ?? 3;
  }

  insert(card: EmvCardEmulator): void {
    this.#card = card;
    this.#powered = false;
  }

  remove(): void {
    this.#card = undefined;
    this.#powered = false;
  }

  write(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (this.#input.length >= INPUT_BYTES_MAX) this.#input = [];
      this.#input.push(b);
    }
    this.#frames();
  }

  read(into: Uint8Array, start: number, max: number): number {
    const count = Math.min(max, this.#bytesPerRead, this.#output.length);
    for (let i = 0; i < count; i++) into[start + i] = this.#output.shift()!;
    return count;
  }

  /** Handles every complete frame in the input; a bad LRC is dropped (the host times out). */
  #frames(): void {
    while (this.#input.length >= 5) {
      const length = (this.#input[1] << 8) | this.#input[2];
      if (this.#input.length < 5 + length) return;
      const frame = this.#input.splice(0, 5 + length);
      if (frame[0] !== ALPAR.ack || frame.reduce((x, b) => x ^ b, 0) !== 0) continue;
      this.#answer(frame[3], frame.slice(4, 4 + length));
    }
  }

  #answer(command: number, data: number[]): void {
    if (command === ALPAR.powerOff) {
      this.#powered = false;
      return this.#send(ALPAR.ack, command, []);
    }
    if (!this.#card) return this.#send(ALPAR.nack, command, [ALPAR_STATUS.cardAbsent]);
    if (command === ALPAR.checkPresence) return this.#send(ALPAR.ack, command, [0x01]);
    if (command === ALPAR.powerUp5V) {
      this.#powered = true;
      this.#pending = [];
      return this.#send(ALPAR.ack, command, [...EMULATED_ATR]);
    }
    if (command !== ALPAR.cardCommand || !this.#powered || data.length < 5) return this.#send(ALPAR.nack, command, [0xff]);
    this.tpdus.push(
      data
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("")
        .toUpperCase(),
    );
    const answer = this.#t0(data);
    if (answer === undefined) return this.#send(ALPAR.nack, command, [ALPAR_STATUS.cardMute]);
    this.#send(ALPAR.ack, command, answer);
  }

  /** The card's T=0 behaviour for one TPDU; undefined = the card is silent. */
  #t0(tpdu: number[]): number[] | undefined {
    const [cla, ins, p1, p2, p3] = tpdu;
    if (ins === 0xc0) {
      if (this.#pending.length === 0) return [0x69, 0x85];
      if (p3 !== this.#pending.length) return [0x6c, this.#pending.length];
      const data = this.#pending;
      this.#pending = [];
      return [...data, 0x90, 0x00];
    }
    this.#pending = [];
    const outgoing = OUTGOING_INS.includes(ins) && tpdu.length === 5;
    // Rebuild the APDU the card application sees: case 2 with Le, case 3/4 with Le 00.
    const apdu = outgoing ? Uint8Array.of(cla, ins, p1, p2, 0x00) : Uint8Array.of(...tpdu, 0x00);
    const response = this.#card!.respond(apdu);
    if (response === undefined) return undefined;
    const data = Array.from(response.subarray(0, response.length - 2));
    const sw = Array.from(response.subarray(response.length - 2));
    if (outgoing) {
      if (data.length > 0 && p3 !== data.length) return [0x6c, data.length];
      return [...data, ...sw];
    }
    if (data.length === 0) return sw;
    this.#pending = data;
    return [0x61, data.length];
  }

  #send(status: number, command: number, data: number[]): void {
    const frame = [status, data.length >> 8, data.length & 0xff, command, ...data];
    frame.push(frame.reduce((x, b) => x ^ b, 0));
    this.#output.push(...frame);
  }
}
