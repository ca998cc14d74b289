/**
 * NXP MFRC522 over SPI: register access, the 64-byte FIFO, ISO 14443-3A
 * activation (REQA, anticollision, SELECT with cascade levels, RATS) and
 * ISO 14443-4 I-blocks with chaining in host software. CRC_A is computed and
 * checked here, not by the chip, so a corrupted frame is caught the same way on
 * every clone.
 *
 * Wiring assumption: SPI mode 0, MSB first, chip select per register access.
 * Synchronous: each frame waits for the chip's IRQ bits with a bounded number of
 * register reads; the chip's own timer (25 ms) ends a frame the card never answers.
 */
import { assertInteger } from "../base/assert";
import type { Spi } from "../platform/io";
import { CardError, COMMAND_APDU_BYTES_MAX, crcA, RESPONSE_APDU_BYTES_MAX, type Apdu } from "./apdu";
import type { ContactlessTarget } from "./pn532";

const REG = Object.freeze({
  command: 0x01,
  comIrq: 0x04,
  error: 0x06,
  fifoData: 0x09,
  fifoLevel: 0x0a,
  control: 0x0c,
  bitFraming: 0x0d,
  coll: 0x0e,
  mode: 0x11,
  txControl: 0x14,
  txAsk: 0x15,
  tMode: 0x2a,
  tPrescaler: 0x2b,
  tReloadHigh: 0x2c,
  tReloadLow: 0x2d,
  version: 0x37,
});
const COMMAND_IDLE = 0x00;
const COMMAND_TRANSCEIVE = 0x0c;
const COMMAND_SOFT_RESET = 0x0f;
const IRQ_RX = 0x20;
const IRQ_IDLE = 0x10;
const IRQ_TIMER = 0x01;
const ERROR_COLLISION = 0x08;
const ERRORS_FATAL = 0x13; // BufferOvfl, ParityErr, ProtocolErr
const FIFO_BYTES = 64;
/** RATS parameter: FSDI 5 (64 bytes, the FIFO size), CID 0. */
const RATS_PARAMETER = 0x50;
const FSC_TABLE = Object.freeze([16, 24, 32, 40, 48, 64, 96, 128, 256]);
const CASCADE_LEVELS = Object.freeze([0x93, 0x95, 0x97]);
const BLOCKS_PER_APDU_MAX = 24;

export interface Mfrc522Options {
  readonly spi: Spi;
  /** ComIrqReg reads allowed per frame before the driver gives up (the chip timer normally ends it first). */
  readonly pollsMax?: number;
}

export class Mfrc522 implements Apdu {
  readonly #spi: Spi;
  readonly #pollsMax: number;
  readonly #register = new Uint8Array(2);
  readonly #fifo = new Uint8Array(FIFO_BYTES + 1);
  readonly #frame = new Uint8Array(FIFO_BYTES);
  readonly #response = new Uint8Array(RESPONSE_APDU_BYTES_MAX);
  #fsc = 32;
  #blockNumber = 0;
  #active = false;

  constructor(options: Mfrc522Options) {
    this.#spi = options.spi;
    this.#pollsMax = options.pollsMax ?? 1000;
    assertInteger(this.#pollsMax, 1, 1_000_000, "pollsMax");
  }

  /** Soft reset, 25 ms frame timer, 100 % ASK, CRC preset 6363, antenna on; returns VersionReg. */
  begin(): number {
    this.#write(REG.command, COMMAND_SOFT_RESET);
    let resetPolls = 0;
    while ((this.#read(REG.command) & 0x10) !== 0) {
      if (++resetPolls >= this.#pollsMax) throw new CardError("timeout", "MFRC522: soft reset did not finish");
    }
    this.#write(REG.tMode, 0x80); // timer starts at the end of each transmission
    this.#write(REG.tPrescaler, 0xa9); // 40 kHz timer clock
    this.#write(REG.tReloadHigh, 0x03);
    this.#write(REG.tReloadLow, 0xe8); // 1000 ticks = 25 ms
    this.#write(REG.txAsk, 0x40);
    this.#write(REG.mode, 0x3d);
    this.#write(REG.txControl, this.#read(REG.txControl) | 0x03);
    const version = this.#read(REG.version);
    if (version === 0x00 || version === 0xff) throw new CardError("protocol", "MFRC522: no chip on the bus");
    return version;
  }

  /** REQA, anticollision and SELECT through every cascade level, then RATS for an ISO 14443-4 card. */
  activate(): ContactlessTarget {
    this.#active = false;
    this.#write(REG.coll, 0x80); // clear bits after a collision are valid
    this.#frame[0] = 0x26;
    const atqaLength = this.#transceiveFrame(1, 7, "noCard");
    if (atqaLength !== 2) throw new CardError("protocol", `MFRC522: ATQA of ${atqaLength} bytes`);
    const atqa = (this.#fifo[1] << 8) | this.#fifo[0];
    const uid: number[] = [];
    let sak = 0;
    for (const level of CASCADE_LEVELS) {
      this.#frame[0] = level;
      this.#frame[1] = 0x20;
      if (this.#transceiveFrame(2, 0, "timeout") !== 5) throw new CardError("protocol", "MFRC522: anticollision answer is not 5 bytes");
      const bcc = this.#fifo[0] ^ this.#fifo[1] ^ this.#fifo[2] ^ this.#fifo[3];
      if (bcc !== this.#fifo[4]) throw new CardError("crc", "MFRC522: UID check byte (BCC) mismatch");
      this.#frame[0] = level;
      this.#frame[1] = 0x70;
      this.#frame.set(this.#fifo.subarray(0, 5), 2);
      const sakLength = this.#transceiveFrame(this.#withCrc(7), 0, "timeout");
      this.#checkCrc(sakLength);
      if (sakLength !== 3) throw new CardError("protocol", "MFRC522: SAK is not 1 byte");
      sak = this.#fifo[0];
      const cascade = (sak & 0x04) !== 0;
      // At a cascade level the first UID byte is the cascade tag 0x88.
      for (let i = cascade ? 1 : 0; i < 4; i++) uid.push(this.#frame[2 + i]);
      if (!cascade) break;
      if (level === 0x97) throw new CardError("protocol", "MFRC522: UID longer than three cascade levels");
    }
    let ats = new Uint8Array(0);
    if ((sak & 0x20) !== 0) {
      this.#frame[0] = 0xe0;
      this.#frame[1] = RATS_PARAMETER;
      const length = this.#transceiveFrame(this.#withCrc(2), 0, "timeout");
      this.#checkCrc(length);
      if (length < 3 || this.#fifo[0] !== length - 2) throw new CardError("protocol", "MFRC522: ATS length byte disagrees");
      ats = this.#fifo.slice(0, length - 2);
      // T0's FSCI (low nibble), present when TL > 1.
      const fsci = ats.length > 1 ? ats[1] & 0x0f : 2;
      this.#fsc = FSC_TABLE[Math.min(fsci, FSC_TABLE.length - 1)];
      this.#blockNumber = 0;
      this.#active = true;
    }
    return { uid: Uint8Array.from(uid), atqa, sak, ats };
  }

  /** ISO 14443-4 exchange: I-blocks (chained both ways), R(ACK) for each chained block. */
  transceive(command: Uint8Array): Uint8Array {
    if (command.length < 4 || command.length > COMMAND_APDU_BYTES_MAX) throw new CardError("protocol", "command APDU length out of range");
    if (!this.#active) throw new CardError("protocol", "MFRC522: no ISO 14443-4 card activated");
    // Frames are bounded by the card's FSC and by our FIFO: PCB + INF + CRC.
    const infMax = Math.min(this.#fsc, FIFO_BYTES) - 3;
    let sent = 0;
    let blocks = 0;
    let length = 0;
    while (true) {
      if (++blocks > BLOCKS_PER_APDU_MAX) throw new CardError("protocol", "too many blocks for one APDU");
      let frameLength: number;
      if (sent < command.length) {
        const chunk = Math.min(infMax, command.length - sent);
        const chaining = sent + chunk < command.length;
        this.#frame[0] = 0x02 | this.#blockNumber | (chaining ? 0x10 : 0);
        this.#frame.set(command.subarray(sent, sent + chunk), 1);
        sent += chunk;
        frameLength = chunk + 1;
      } else {
        // R(ACK): we hold a chained I-block and want the next one.
        this.#frame[0] = 0xa2 | this.#blockNumber;
        frameLength = 1;
      }
      const received = this.#transceiveFrame(this.#withCrc(frameLength), 0, "timeout");
      this.#checkCrc(received);
      const pcb = this.#fifo[0];
      if (received < 3) throw new CardError("protocol", "empty block from the card");
      if ((pcb & 0x01) !== this.#blockNumber) throw new CardError("protocol", "block number out of sequence");
      this.#blockNumber ^= 1;
      if ((pcb & 0xe6) === 0xa2) {
        // R(ACK) of a chained I-block we sent: send the next part.
        if (sent >= command.length) throw new CardError("protocol", "R(ACK) with nothing left to send");
        continue;
      }
      if ((pcb & 0xe2) !== 0x02) throw new CardError("protocol", `unexpected block PCB 0x${pcb.toString(16)}`);
      const inf = received - 3;
      if (length + inf > this.#response.length) throw new CardError("protocol", "response APDU too long");
      this.#response.set(this.#fifo.subarray(1, 1 + inf), length);
      length += inf;
      if ((pcb & 0x10) === 0) break;
    }
    if (length < 2) throw new CardError("protocol", "response APDU shorter than SW1 SW2");
    return this.#response.slice(0, length);
  }

  /** Appends CRC_A to the frame; returns the new length. */
  #withCrc(length: number): number {
    const crc = crcA(this.#frame, 0, length);
    this.#frame[length] = crc & 0xff;
    this.#frame[length + 1] = crc >> 8;
    return length + 2;
  }

  #checkCrc(length: number): void {
    if (length < 3) throw new CardError("protocol", `frame of ${length} bytes has no CRC`);
    const crc = crcA(this.#fifo, 0, length - 2);
    if (this.#fifo[length - 2] !== (crc & 0xff) || this.#fifo[length - 1] !== crc >> 8)
      throw new CardError("crc", "CRC_A error in the card's frame");
  }

  /**
   * Sends `frame[0, length)` (the last byte with `lastBits` bits, 0 = all 8)
   * and leaves the answer in #fifo; returns its length. A silent card throws
   * `silence` (REQA's silence means no card; later, the card stopped answering).
   */
  #transceiveFrame(length: number, lastBits: number, silence: "noCard" | "timeout"): number {
    this.#write(REG.command, COMMAND_IDLE);
    this.#write(REG.comIrq, 0x7f);
    this.#write(REG.fifoLevel, 0x80);
    this.#writeFifo(length);
    this.#write(REG.bitFraming, lastBits);
    this.#write(REG.command, COMMAND_TRANSCEIVE);
    this.#write(REG.bitFraming, 0x80 | lastBits);
    let irq = 0;
    for (let poll = 0; ; poll++) {
      if (poll >= this.#pollsMax) throw new CardError("timeout", `MFRC522: no IRQ after ${this.#pollsMax} reads`);
      irq = this.#read(REG.comIrq);
      if ((irq & (IRQ_RX | IRQ_IDLE | IRQ_TIMER)) !== 0) break;
    }
    this.#write(REG.bitFraming, 0);
    if ((irq & (IRQ_RX | IRQ_IDLE)) === 0)
      throw new CardError(silence, silence === "noCard" ? "no card in the field" : "the card did not answer");
    const error = this.#read(REG.error);
    if ((error & ERROR_COLLISION) !== 0) throw new CardError("collision", "more than one card in the field");
    if ((error & ERRORS_FATAL) !== 0) throw new CardError("protocol", `MFRC522: ErrorReg 0x${error.toString(16)}`);
    const received = this.#read(REG.fifoLevel) & 0x7f;
    if (received > FIFO_BYTES) throw new CardError("protocol", "MFRC522: FIFO level out of range");
    this.#readFifo(received);
    return received;
  }

  #read(register: number): number {
    this.#register[0] = 0x80 | (register << 1);
    this.#register[1] = 0;
    this.#spi.transfer(this.#register);
    this.#spi.flush(true);
    return this.#register[1];
  }

  #write(register: number, value: number): void {
    this.#register[0] = register << 1;
    this.#register[1] = value;
    this.#spi.transfer(this.#register);
    this.#spi.flush(true);
  }

  #writeFifo(length: number): void {
    const io = this.#fifo;
    io[0] = REG.fifoData << 1;
    io.set(this.#frame.subarray(0, length), 1);
    this.#spi.transfer(io.subarray(0, length + 1));
    this.#spi.flush(true);
  }

  /** Burst read: the read address again for each byte clocked out, 0x00 with the last. */
  #readFifo(count: number): void {
    if (count === 0) return;
    const io = this.#fifo;
    io.fill(0x80 | (REG.fifoData << 1), 0, count);
    io[count] = 0;
    this.#spi.transfer(io.subarray(0, count + 1));
    this.#spi.flush(true);
    io.copyWithin(0, 1, count + 1);
  }
}
