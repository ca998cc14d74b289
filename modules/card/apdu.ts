/**
 * The one interface the EMV layer sees from any reader: a C-APDU in, an R-APDU
 * (data ‖ SW1 SW2) out. Contactless (PN532, MFRC522) and contact (T=0 through
 * a reader IC) drivers all implement it.
 */
export interface Apdu {
  /** Sends a command APDU; returns the response APDU including SW1 SW2. Throws CardError. */
  transceive(command: Uint8Array): Uint8Array;
}

/** ISO 7816-4 short APDU limits: 5 header bytes + 255 data + Le; 256 data + SW. */
export const COMMAND_APDU_BYTES_MAX = 261;
export const RESPONSE_APDU_BYTES_MAX = 258;

export type CardFailure = "noCard" | "collision" | "timeout" | "crc" | "protocol";

/** A reader or card failure; `reason` is what the engine acts on (ask for one card, try again, ...). */
export class CardError extends Error {
  override readonly name = "CardError";
  constructor(
    readonly reason: CardFailure,
    message: string,
  ) {
    super(message);
  }
}

/** ISO/IEC 14443-3 CRC_A (initial 0x6363, reflected polynomial 0x8408) over `bytes[start, end)`; low byte first on the air. */
export function crcA(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0x6363;
  for (let i = start; i < end; i++) {
    let b = bytes[i] ^ (crc & 0xff);
    b = (b ^ (b << 4)) & 0xff;
    crc = ((crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)) & 0xffff;
  }
  return crc;
}
