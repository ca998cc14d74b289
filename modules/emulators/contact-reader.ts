/**
 * An emulated contact reader IC (TDA8029-style, ALPAR-like frames over a
 * serial link) with an EMV card behind a T=0 card layer: case 4 commands
 * answer 61xx and wait for GET RESPONSE, a case 2 command with the wrong P3
 * answers 6Cxx. Bytes come back a few at a time, as a UART delivers them.
 * XS-compatible.
 */
import { assert } from "../base/assert";
import { toHex } from "../base/hex";
import { ALPAR, ALPAR_STATUS, type ByteStream } from "../card/contact";
import type { EmvCardEmulator } from "./emv-card";

/** 3B, T0 = 68 (TB1, TC1, 8 historical bytes), TB1 = 00, TC1 = 00, "XSPOSEMV": T=0 only, no TCK. */
export const EMULATED_ATR = Object.freeze([0x3b, 0x68, 0x00, 0x00, 0x58, 0x53, 0x50, 0x4f, 0x53, 0x45, 0x4d, 0x56]);
const INPUT_BYTES_MAX = 512;
/** Answer frames not yet read: a whole T=0 answer (256 data bytes, SW, GET RESPONSE) fits several times. */
const OUTPUT_BYTES_MAX = 2048;
/** ALPAR frame: ack/nack, length (2), command, data, LRC. */
const FRAME_OVERHEAD_BYTES = 5;
/** Instructions whose T=0 data flows card → terminal (case 2). */
const OUTGOING_INS = Object.freeze([0xb2, 0xc0, 0xca, 0xb0]);

/**
 * Bytes in and out live in fixed typed buffers (no per-byte arrays, no shifts): a
 * chaos run reads thousands of cards through this emulator.
 */
export class ContactReaderEmulator implements ByteStream {
  readonly #bytesPerRead: number;
  readonly #input = new Uint8Array(INPUT_BYTES_MAX);
  #inputLength = 0;
  readonly #output = new Uint8Array(OUTPUT_BYTES_MAX);
  #outputStart = 0;
  #outputEnd = 0;
  readonly #atr = Uint8Array.from(EMULATED_ATR);
  #card: EmvCardEmulator | undefined;
  #powered = false;
  readonly #empty = new Uint8Array(0);
  /** Data of the last case 4 answer, waiting for GET RESPONSE (empty: none). */
  #pending = this.#empty;
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
    for (let i = 0; i < bytes.length; i++) {
      if (this.#inputLength >= INPUT_BYTES_MAX) this.#inputLength = 0;
      this.#input[this.#inputLength++] = bytes[i];
    }
    this.#frames();
  }

  read(into: Uint8Array, start: number, max: number): number {
    const count = Math.min(max, this.#bytesPerRead, this.#outputEnd - this.#outputStart);
    into.set(this.#output.subarray(this.#outputStart, this.#outputStart + count), start);
    this.#outputStart += count;
    return count;
  }

  /** Handles every complete frame in the input; a bad LRC is dropped (the host times out). */
  #frames(): void {
    const input = this.#input;
    while (this.#inputLength >= FRAME_OVERHEAD_BYTES) {
      const length = (input[1] << 8) | input[2];
      const frameBytes = FRAME_OVERHEAD_BYTES + length;
      if (this.#inputLength < frameBytes) return;
      let lrc = 0;
      for (let i = 0; i < frameBytes; i++) lrc ^= input[i];
      const valid = input[0] === ALPAR.ack && lrc === 0;
      const command = input[3];
      const data = valid ? input.slice(4, 4 + length) : undefined;
      input.copyWithin(0, frameBytes, this.#inputLength);
      this.#inputLength -= frameBytes;
      if (data !== undefined) this.#answer(command, data);
    }
  }

  #answer(command: number, data: Uint8Array): void {
    if (command === ALPAR.powerOff) {
      this.#powered = false;
      return this.#send(ALPAR.ack, command, this.#empty);
    }
    if (!this.#card) return this.#send(ALPAR.nack, command, Uint8Array.of(ALPAR_STATUS.cardAbsent));
    if (command === ALPAR.checkPresence) return this.#send(ALPAR.ack, command, Uint8Array.of(0x01));
    if (command === ALPAR.powerUp5V) {
      this.#powered = true;
      this.#pending = this.#empty;
      return this.#send(ALPAR.ack, command, this.#atr);
    }
    if (command !== ALPAR.cardCommand || !this.#powered || data.length < 5) return this.#send(ALPAR.nack, command, Uint8Array.of(0xff));
    this.tpdus.push(toHex(data));
    const answer = this.#t0(data);
    if (answer === undefined) return this.#send(ALPAR.nack, command, Uint8Array.of(ALPAR_STATUS.cardMute));
    this.#send(ALPAR.ack, command, answer);
  }

  /** The card's T=0 behaviour for one TPDU; undefined = the card is silent. */
  #t0(tpdu: Uint8Array): Uint8Array | undefined {
    const cla = tpdu[0];
    const ins = tpdu[1];
    const p1 = tpdu[2];
    const p2 = tpdu[3];
    const p3 = tpdu[4];
    if (ins === 0xc0) {
      const pending = this.#pending;
      if (pending.length === 0) return Uint8Array.of(0x69, 0x85);
      if (p3 !== pending.length) return Uint8Array.of(0x6c, pending.length);
      this.#pending = this.#empty;
      const out = new Uint8Array(pending.length + 2);
      out.set(pending);
      out[pending.length] = 0x90;
      return out;
    }
    this.#pending = this.#empty;
    const outgoing = OUTGOING_INS.includes(ins) && tpdu.length === 5;
    // Rebuild the APDU the card application sees: case 2 with Le, case 3/4 with Le 00.
    let apdu: Uint8Array;
    if (outgoing) apdu = Uint8Array.of(cla, ins, p1, p2, 0x00);
    else {
      apdu = new Uint8Array(tpdu.length + 1);
      apdu.set(tpdu);
    }
    const response = this.#card!.respond(apdu);
    if (response === undefined) return undefined;
    const dataBytes = response.length - 2;
    if (outgoing) {
      if (dataBytes > 0 && p3 !== dataBytes) return Uint8Array.of(0x6c, dataBytes);
      return response;
    }
    if (dataBytes === 0) return response.subarray(dataBytes);
    this.#pending = response.slice(0, dataBytes);
    return Uint8Array.of(0x61, dataBytes);
  }

  #send(status: number, command: number, data: Uint8Array): void {
    const frameBytes = FRAME_OVERHEAD_BYTES + data.length;
    if (this.#outputEnd + frameBytes > OUTPUT_BYTES_MAX) {
      // Unread bytes move to the front; more than the buffer holds unread is a host that never reads.
      this.#output.copyWithin(0, this.#outputStart, this.#outputEnd);
      this.#outputEnd -= this.#outputStart;
      this.#outputStart = 0;
      assert(this.#outputEnd + frameBytes <= OUTPUT_BYTES_MAX, "contact reader emulator: answers not read");
    }
    const out = this.#output;
    let at = this.#outputEnd;
    out[at++] = status;
    out[at++] = data.length >> 8;
    out[at++] = data.length & 0xff;
    out[at++] = command;
    out.set(data, at);
    at += data.length;
    let lrc = 0;
    for (let i = this.#outputEnd; i < at; i++) lrc ^= out[i];
    out[at++] = lrc;
    this.#outputEnd = at;
  }
}
