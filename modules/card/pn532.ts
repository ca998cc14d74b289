/**
 * NXP PN532 over SPI (UM0701-02): normal information frames, ACK, status
 * polling, InListPassiveTarget and InDataExchange with MI chaining. The chip
 * runs ISO 14443-4 (T=CL) itself, so this driver carries APDUs only.
 *
 * Wiring assumption: SPI mode 0, LSB first (the PN532's bit order), chip select
 * released between operations. Synchronous: every wait is a bounded number of
 * status reads.
 */
import { assert, assertInteger } from "../base/assert";
import type { Spi } from "../platform/io";
import { CardError, COMMAND_APDU_BYTES_MAX, RESPONSE_APDU_BYTES_MAX, type Apdu } from "./apdu";

const OP_DATA_WRITE = 0x01;
const OP_STATUS_READ = 0x02;
const OP_DATA_READ = 0x03;
const TFI_HOST = 0xd4;
const TFI_CHIP = 0xd5;
const TFI_ERROR = 0x7f;

const CMD_GET_FIRMWARE_VERSION = 0x02;
const CMD_SAM_CONFIGURATION = 0x14;
const CMD_RF_CONFIGURATION = 0x32;
const CMD_IN_LIST_PASSIVE_TARGET = 0x4a;
const CMD_IN_DATA_EXCHANGE = 0x40;
const CMD_IN_RELEASE = 0x52;

/** A normal frame carries LEN ≤ 255 bytes of TFI + command + data. */
const FRAME_DATA_MAX = 253;
/** APDU bytes per InDataExchange frame: LEN less TFI, command and Tg. */
const EXCHANGE_CHUNK_MAX = 252;
const STATUS_MI = 0x40;
const CHAINED_FRAMES_MAX = 8;
const ACK = Object.freeze([0x00, 0x00, 0xff, 0x00, 0xff, 0x00]);

export interface Pn532Options {
  readonly spi: Spi;
  /** Status reads allowed before a command counts as timed out. */
  readonly pollsMax?: number;
  /** InListPassiveTarget retries the chip makes before answering "no target" (RFConfiguration MaxRetries). */
  readonly activationRetries?: number;
}

export interface ContactlessTarget {
  readonly uid: Uint8Array;
  readonly atqa: number;
  readonly sak: number;
  /** Answer to select (TL first); empty when the card is not ISO 14443-4. */
  readonly ats: Uint8Array;
}

/** Status byte of InDataExchange / InListPassiveTarget errors (UM0701 table 7-1) to the engine's reason. */
function statusError(status: number): CardError {
  const code = status & 0x3f;
  if (code === 0x01) return new CardError("timeout", "PN532: the card did not answer (status 0x01)");
  if (code === 0x02) return new CardError("crc", "PN532: CRC error from the card (status 0x02)");
  if (code === 0x03) return new CardError("crc", "PN532: parity error from the card (status 0x03)");
  if (code === 0x04 || code === 0x06) return new CardError("collision", `PN532: collision (status 0x0${code})`);
  return new CardError("protocol", `PN532: error status 0x${code.toString(16).padStart(2, "0")}`);
}

export class Pn532 implements Apdu {
  readonly #spi: Spi;
  readonly #pollsMax: number;
  readonly #activationRetries: number;
  /** One buffer for every SPI transfer: op byte + the largest normal frame. */
  readonly #io = new Uint8Array(1 + 7 + FRAME_DATA_MAX + 2);
  readonly #response = new Uint8Array(RESPONSE_APDU_BYTES_MAX + EXCHANGE_CHUNK_MAX);
  readonly #status = new Uint8Array(2);
  #target = 0;

  constructor(options: Pn532Options) {
    this.#spi = options.spi;
    this.#pollsMax = options.pollsMax ?? 1000;
    this.#activationRetries = options.activationRetries ?? 2;
    assertInteger(this.#pollsMax, 1, 1_000_000, "pollsMax");
    assertInteger(this.#activationRetries, 0, 0xfe, "activationRetries");
  }

  /** SAM in normal mode, bounded activation retries; returns the firmware version (IC, Ver, Rev, Support). */
  begin(): Uint8Array {
    const version = this.#command(CMD_GET_FIRMWARE_VERSION, [], 0).slice();
    if (version.length !== 4) throw new CardError("protocol", "PN532: firmware version is not 4 bytes");
    this.#command(CMD_SAM_CONFIGURATION, [0x01, 0x14, 0x00], 0);
    // RFConfiguration item 5: ATR_RES retries, PSL retries, passive activation retries.
    this.#command(CMD_RF_CONFIGURATION, [0x05, 0xff, 0x01, this.#activationRetries], 0);
    return version;
  }

  /** Activates one ISO 14443A card (the chip sends RATS itself). Two cards in the field is a collision. */
  activate(): ContactlessTarget {
    const reply = this.#command(CMD_IN_LIST_PASSIVE_TARGET, [0x02, 0x00], 0);
    if (reply.length < 1) throw new CardError("protocol", "PN532: empty InListPassiveTarget reply");
    if (reply[0] === 0) throw new CardError("noCard", "no card in the field");
    if (reply[0] > 1) throw new CardError("collision", "more than one card in the field");
    // Tg, SENS_RES(2), SEL_RES, NFCIDLength, NFCID, ATS (TL first).
    if (reply.length < 6) throw new CardError("protocol", "PN532: short target data");
    const uidLength = reply[5];
    if (6 + uidLength > reply.length) throw new CardError("protocol", "PN532: UID runs past the frame");
    const atsAt = 6 + uidLength;
    const atsLength = atsAt < reply.length ? reply[atsAt] : 0;
    if (atsAt + atsLength > reply.length) throw new CardError("protocol", "PN532: ATS runs past the frame");
    this.#target = reply[1];
    return {
      uid: reply.slice(6, 6 + uidLength),
      atqa: (reply[2] << 8) | reply[3],
      sak: reply[4],
      ats: reply.slice(atsAt, atsAt + atsLength),
    };
  }

  transceive(command: Uint8Array): Uint8Array {
    if (command.length < 4 || command.length > COMMAND_APDU_BYTES_MAX) throw new CardError("protocol", "command APDU length out of range");
    assert(this.#target !== 0, "transceive before activate");
    // Outgoing chaining: Tg's MI bit says more of the command follows.
    let sent = 0;
    let reply: Uint8Array;
    do {
      const chunk = Math.min(EXCHANGE_CHUNK_MAX, command.length - sent);
      const more = sent + chunk < command.length;
      reply = this.#command(CMD_IN_DATA_EXCHANGE, [this.#target | (more ? STATUS_MI : 0)], chunk, command, sent);
      sent += chunk;
      if (reply.length < 1) throw new CardError("protocol", "PN532: empty InDataExchange reply");
      if ((reply[0] & 0x3f) !== 0) throw statusError(reply[0]);
    } while (sent < command.length);
    // Incoming chaining: while the status has MI, ask for the rest with an empty exchange.
    let length = 0;
    for (let frame = 0; ; frame++) {
      const part = reply.length - 1;
      if (length + part > this.#response.length) throw new CardError("protocol", "response APDU too long");
      this.#response.set(reply.subarray(1), length);
      length += part;
      if ((reply[0] & STATUS_MI) === 0) break;
      if (frame + 1 >= CHAINED_FRAMES_MAX) throw new CardError("protocol", "too many chained frames");
      reply = this.#command(CMD_IN_DATA_EXCHANGE, [this.#target], 0);
      if (reply.length < 1 || (reply[0] & 0x3f) !== 0)
        throw reply.length < 1 ? new CardError("protocol", "PN532: empty reply") : statusError(reply[0]);
    }
    if (length < 2 || length > RESPONSE_APDU_BYTES_MAX) throw new CardError("protocol", `response APDU of ${length} bytes`);
    return this.#response.slice(0, length);
  }

  /** Releases the target (InRelease) so the next activate starts clean. */
  release(): void {
    if (this.#target === 0) return;
    const target = this.#target;
    this.#target = 0;
    this.#command(CMD_IN_RELEASE, [target], 0);
  }

  /**
   * Writes one command frame, waits for and checks the ACK, waits for the
   * response frame; returns its data after TFI and response code (a view of
   * the shared buffer, valid until the next command).
   */
  #command(code: number, params: readonly number[], dataLength: number, data?: Uint8Array, dataStart = 0): Uint8Array {
    const length = 2 + params.length + dataLength;
    assert(length <= FRAME_DATA_MAX + 2, "PN532 frame length");
    const io = this.#io;
    io[0] = OP_DATA_WRITE;
    io[1] = 0x00;
    io[2] = 0x00;
    io[3] = 0xff;
    io[4] = length;
    io[5] = (0x100 - length) & 0xff;
    io[6] = TFI_HOST;
    io[7] = code;
    let sum = TFI_HOST + code;
    let at = 8;
    for (const p of params) {
      io[at++] = p;
      sum += p;
    }
    for (let i = 0; i < dataLength; i++) {
      const b = data![dataStart + i];
      io[at++] = b;
      sum += b;
    }
    io[at++] = (0x100 - (sum & 0xff)) & 0xff;
    io[at++] = 0x00;
    this.#spi.transfer(io.subarray(0, at));
    this.#spi.flush(true);

    this.#waitReady();
    const ack = this.#read(ACK.length);
    for (let i = 0; i < ACK.length; i++) if (ack[i] !== ACK[i]) throw new CardError("protocol", "PN532: no ACK for the command");
    this.#waitReady();
    return this.#readResponse(code);
  }

  #waitReady(): void {
    for (let poll = 0; poll < this.#pollsMax; poll++) {
      this.#status[0] = OP_STATUS_READ;
      this.#status[1] = 0;
      this.#spi.transfer(this.#status);
      this.#spi.flush(true);
      if ((this.#status[1] & 0x01) !== 0) return;
    }
    throw new CardError("timeout", `PN532: not ready after ${this.#pollsMax} status reads`);
  }

  /** One data-read operation of `count` bytes; returns them (a view of the shared buffer). */
  #read(count: number): Uint8Array {
    const io = this.#io;
    io.fill(0, 0, count + 1);
    io[0] = OP_DATA_READ;
    this.#spi.transfer(io.subarray(0, count + 1));
    this.#spi.flush(true);
    return io.subarray(1, count + 1);
  }

  #readResponse(code: number): Uint8Array {
    const io = this.#io;
    // Header first (preamble, start code, LEN, LCS), then the rest in the same chip-select.
    io.fill(0, 0, 6);
    io[0] = OP_DATA_READ;
    this.#spi.transfer(io.subarray(0, 6));
    if (io[1] !== 0x00 || io[2] !== 0x00 || io[3] !== 0xff) {
      this.#spi.flush(true);
      throw new CardError("protocol", "PN532: bad frame start");
    }
    const length = io[4];
    if (((length + io[5]) & 0xff) !== 0 || length < 1 || length > FRAME_DATA_MAX + 2) {
      this.#spi.flush(true);
      throw new CardError("protocol", "PN532: bad frame length checksum");
    }
    const body = io.subarray(6, 6 + length + 2);
    body.fill(0);
    this.#spi.transfer(body);
    this.#spi.flush(true);
    let sum = 0;
    for (let i = 0; i <= length; i++) sum += body[i];
    if ((sum & 0xff) !== 0) throw new CardError("protocol", "PN532: bad frame data checksum");
    if (body[0] === TFI_ERROR) throw new CardError("protocol", "PN532: application error frame");
    if (body[0] !== TFI_CHIP || length < 2 || body[1] !== code + 1)
      throw new CardError("protocol", "PN532: response does not match the command");
    return body.subarray(2, length);
  }
}
