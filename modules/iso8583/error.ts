/**
 * The one error the codec throws for bad input, on encode and on decode. It
 * names where the problem is (field number and byte offset) and why, as data,
 * so the transaction engine can map it (e.g. an unparsable response → reversal
 * reason 06) and the CLI can print it.
 */

/** Parts of a message that are not numbered fields, in `Iso8583Error.field`. */
export const PART_LENGTH = -3;
export const PART_TPDU = -2;
export const PART_HEADER = -1;
export const PART_MTI = 0;
export const PART_BITMAP = 1;

export type Iso8583Reason =
  /** The bytes end inside a length prefix, bitmap or field. */
  | "truncated"
  /** A length prefix or a value is longer than the field's maximum. */
  | "lengthOverMaximum"
  /** A fixed field's value does not have the declared length. */
  | "wrongLength"
  /** A character other than 0-9 in an n field, MTI or ASCII length prefix. */
  | "nonDigit"
  /** A BCD nibble above 9 in an n field, MTI or length prefix. */
  | "badBcdNibble"
  /** The pad nibble of an odd-length BCD value is not 0. */
  | "badPadNibble"
  /** A character that is not an uppercase hex digit in a z or b value, TPDU, header or ASCII bitmap. */
  | "badHex"
  /** A control character (or, outside ans, a byte above 0x7E) in a text field. */
  | "nonText"
  /** A bitmap bit (or a message field) for which the dialect has no definition. */
  | "undefinedField"
  /** The 2-byte frame length disagrees with the bytes that follow it. */
  | "lengthMismatch"
  /** Bytes remain after the last field the bitmap announces. */
  | "trailingBytes"
  /** The message does not fit the codec's message limit. */
  | "messageTooLong"
  /** The MAC helpers need F64 present as the last field. */
  | "noMacField"
  /** A BER-TLV tag or length form the F55 codec does not accept, or too many items. */
  | "badTlv";

function partName(field: number): string {
  switch (field) {
    case PART_LENGTH:
      return "length prefix";
    case PART_TPDU:
      return "TPDU";
    case PART_HEADER:
      return "header";
    case PART_MTI:
      return "MTI";
    case PART_BITMAP:
      return "bitmap";
    default:
      return `field ${field}`;
  }
}

export class Iso8583Error extends Error {
  override readonly name = "Iso8583Error";
  /** Field number, or one of the PART_ constants. */
  readonly field: number;
  /** Byte offset in the encoded message (decode: where decoding stopped; encode: where the field starts). */
  readonly offset: number;
  readonly reason: Iso8583Reason;

  constructor(field: number, offset: number, reason: Iso8583Reason, detail = "") {
    super(`${partName(field)} at byte ${offset}: ${reason}${detail ? ` (${detail})` : ""}`);
    this.field = field;
    this.offset = offset;
    this.reason = reason;
  }
}
