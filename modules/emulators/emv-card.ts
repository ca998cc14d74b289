/**
 * Emulated cards. `EmulatedPicc` is what a contactless reader emulator needs
 * from a card in its field; the EMV card below implements it.
 */

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
