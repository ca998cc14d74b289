/**
 * Contact chip cards through a reader IC that runs ISO 7816-3 itself (an NXP
 * TDA8029-style part spoken to over a UART with ALPAR-like frames), plus the
 * host's share of T=0: case 2/4 APDUs mapped to TPDUs, 61xx answered with
 * GET RESPONSE and 6Cxx with the command re-issued with the right Le.
 *
 * Frame (both directions): 60 LEN_H LEN_L CMD DATA… LRC, LRC = XOR of all
 * bytes before it; the reader answers a failure with E0 … and one status byte.
 * The exact ALPAR command and status codes of a given TDA8029 mask must be
 * checked against NXP AN10207 before use on hardware.
 */
import { assert, assertInteger } from "../base/assert";
import { CardError, COMMAND_APDU_BYTES_MAX, RESPONSE_APDU_BYTES_MAX, type Apdu } from "./apdu";

/** The serial link to the reader IC: bytes out, and whatever bytes have arrived so far. */
export interface ByteStream {
  write(bytes: Uint8Array): void;
  /** Copies up to `max` received bytes into `into` at `start`; returns how many (0 when none yet). */
  read(into: Uint8Array, start: number, max: number): number;
}

export const ALPAR = Object.freeze({ ack: 0x60, nack: 0xe0, cardCommand: 0x00, checkPresence: 0x09, powerOff: 0x4d, powerUp5V: 0x6e });
export const ALPAR_STATUS = Object.freeze({ cardAbsent: 0xc0, cardMute: 0xa2 });
const FRAME_DATA_MAX = 506;
const PROCEDURE_ROUNDS_MAX = 8;

export interface Atr {
  readonly convention: "direct" | "inverse";
  /** Protocols offered (TD1…); [0] when there is no TD1. */
  readonly protocols: readonly number[];
  /** TA1 (Fi/Di), when present. */
  readonly ta1?: number;
  readonly historical: Uint8Array;
}

/** ISO 7816-3 ATR: TS, T0, interface bytes, historical bytes, TCK when any protocol other than T=0 is offered. */
export function parseAtr(atr: Uint8Array): Atr {
  if (atr.length < 2 || atr.length > 33) throw new CardError("protocol", `ATR of ${atr.length} bytes`);
  if (atr[0] !== 0x3b && atr[0] !== 0x3f) throw new CardError("protocol", `ATR TS 0x${atr[0].toString(16)} is neither 3B nor 3F`);
  const protocols: number[] = [];
  let ta1: number | undefined;
  let at = 2;
  let y = atr[1] >> 4;
  const historicalLength = atr[1] & 0x0f;
  for (let level = 1; level <= 8; level++) {
    for (const bit of [0x1, 0x2, 0x4]) {
      if ((y & bit) === 0) continue;
      if (at >= atr.length) throw new CardError("protocol", "ATR interface bytes truncated");
      if (level === 1 && bit === 0x1) ta1 = atr[at];
      at++;
    }
    if ((y & 0x8) === 0) break;
    if (at >= atr.length) throw new CardError("protocol", "ATR TD byte missing");
    const td = atr[at++];
    protocols.push(td & 0x0f);
    y = td >> 4;
  }
  if (at + historicalLength > atr.length) throw new CardError("protocol", "ATR historical bytes truncated");
  const historical = atr.slice(at, at + historicalLength);
  at += historicalLength;
  const needsTck = protocols.some((p) => p !== 0);
  if (needsTck) {
    if (at !== atr.length - 1) throw new CardError("protocol", "ATR TCK missing");
    let check = 0;
    for (let i = 1; i < atr.length; i++) check ^= atr[i];
    if (check !== 0) throw new CardError("protocol", "ATR TCK mismatch");
  } else if (at !== atr.length) throw new CardError("protocol", "ATR has trailing bytes");
  return { convention: atr[0] === 0x3b ? "direct" : "inverse", protocols: protocols.length > 0 ? protocols : [0], ta1, historical };
}

export interface ContactReaderOptions {
  readonly link: ByteStream;
  /** Link reads allowed while waiting for one answer frame. */
  readonly pollsMax?: number;
}

export class ContactReader implements Apdu {
  readonly #link: ByteStream;
  readonly #pollsMax: number;
  readonly #frame = new Uint8Array(4 + FRAME_DATA_MAX + 1);
  readonly #response = new Uint8Array(RESPONSE_APDU_BYTES_MAX);
  #powered = false;

  constructor(options: ContactReaderOptions) {
    this.#link = options.link;
    this.#pollsMax = options.pollsMax ?? 1000;
    assertInteger(this.#pollsMax, 1, 1_000_000, "pollsMax");
  }

  /** Activates the card at 5 V; returns its parsed ATR. T=0 only here. */
  powerUp(): Atr {
    const atr = parseAtr(this.#exchange(ALPAR.powerUp5V, undefined, 0).slice());
    if (!atr.protocols.includes(0)) throw new CardError("protocol", "the card does not offer T=0");
    this.#powered = true;
    return atr;
  }

  powerOff(): void {
    this.#powered = false;
    this.#exchange(ALPAR.powerOff, undefined, 0);
  }

  /** Case 1–4 APDU over T=0, procedure bytes 61xx and 6Cxx handled here. */
  transceive(command: Uint8Array): Uint8Array {
    if (command.length < 4 || command.length > COMMAND_APDU_BYTES_MAX) throw new CardError("protocol", "command APDU length out of range");
    assert(this.#powered, "transceive before powerUp");
    const tpdu = new Uint8Array(Math.max(5, command.length));
    tpdu.set(command.subarray(0, Math.min(command.length, tpdu.length)));
    let tpduLength: number;
    const caseTwo = command.length === 5;
    if (command.length <= 5)
      tpduLength = 5; // case 1 (P3 = 0) or case 2 (P3 = Le)
    else {
      const lc = command[4];
      if (command.length !== 5 + lc && command.length !== 6 + lc) throw new CardError("protocol", "APDU Lc disagrees with its length");
      tpduLength = 5 + lc; // case 3 or 4: Le is not sent in T=0
    }
    let length = 0;
    for (let round = 0; round < PROCEDURE_ROUNDS_MAX; round++) {
      const answer = this.#exchange(ALPAR.cardCommand, tpdu, tpduLength);
      if (answer.length < 2) throw new CardError("protocol", "card answer shorter than SW1 SW2");
      const sw1 = answer[answer.length - 2];
      const sw2 = answer[answer.length - 1];
      if (sw1 === 0x6c && (caseTwo || tpdu[1] === 0xc0)) {
        // Wrong Le: the card says how many bytes it has; send the same command again with that P3.
        tpdu[4] = sw2;
        tpduLength = 5;
        continue;
      }
      const data = answer.length - 2;
      if (length + data > this.#response.length - 2) throw new CardError("protocol", "response APDU too long");
      this.#response.set(answer.subarray(0, data), length);
      length += data;
      if (sw1 === 0x61) {
        // More data waiting: GET RESPONSE with Le = SW2.
        tpdu.set([command[0], 0xc0, 0x00, 0x00, sw2]);
        tpduLength = 5;
        continue;
      }
      this.#response[length] = sw1;
      this.#response[length + 1] = sw2;
      return this.#response.slice(0, length + 2);
    }
    throw new CardError("protocol", `more than ${PROCEDURE_ROUNDS_MAX} T=0 procedure rounds`);
  }

  /** One command frame out, one answer frame in; returns the answer's data (a view, valid until the next exchange). */
  #exchange(command: number, data: Uint8Array | undefined, dataLength: number): Uint8Array {
    assert(dataLength <= FRAME_DATA_MAX, "ALPAR frame length");
    const frame = this.#frame;
    frame[0] = ALPAR.ack;
    frame[1] = dataLength >> 8;
    frame[2] = dataLength & 0xff;
    frame[3] = command;
    if (data) frame.set(data.subarray(0, dataLength), 4);
    let lrc = 0;
    for (let i = 0; i < 4 + dataLength; i++) lrc ^= frame[i];
    frame[4 + dataLength] = lrc;
    this.#link.write(frame.subarray(0, 5 + dataLength));

    this.#receive(0, 4);
    const ack = frame[0];
    if ((ack !== ALPAR.ack && ack !== ALPAR.nack) || frame[3] !== command)
      throw new CardError("protocol", "reader answer does not match the command");
    const length = (frame[1] << 8) | frame[2];
    if (length > FRAME_DATA_MAX) throw new CardError("protocol", "reader answer too long");
    this.#receive(4, length + 1);
    let check = 0;
    for (let i = 0; i < 5 + length; i++) check ^= frame[i];
    if (check !== 0) throw new CardError("protocol", "reader answer LRC mismatch");
    if (ack === ALPAR.nack) {
      const status = length > 0 ? frame[4] : 0;
      if (status === ALPAR_STATUS.cardAbsent) throw new CardError("noCard", "no card in the contact reader");
      if (status === ALPAR_STATUS.cardMute) throw new CardError("timeout", "the card did not answer");
      throw new CardError("protocol", `reader status 0x${status.toString(16)}`);
    }
    return frame.subarray(4, 4 + length);
  }

  #receive(start: number, count: number): void {
    let received = 0;
    for (let poll = 0; received < count; poll++) {
      if (poll >= this.#pollsMax) throw new CardError("timeout", "the contact reader did not answer");
      received += this.#link.read(this.#frame, start + received, count - received);
    }
  }
}
