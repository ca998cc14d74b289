/**
 * From a reader's CardRead to the engine's PresentedCard, the one glue every
 * host uses: which cards count as domestic (UnionPay) in the settlement
 * totals, the EMV terminal data of each read, and the second GENERATE AC with
 * the host's answer. Track data leaves the read only into the card handed to
 * the engine, which puts it into the request and nowhere else.
 */
import { fromHex, toHex } from "../base/hex";
import type { TerminalData } from "../card/emv";
import type { CardRead, CardReader } from "../card/reader";
import { decodeTlv, findTlv } from "../iso8583/tlv";
import type { Random } from "../platform/random";
import type { Operation } from "../txn/events";
import type { PresentedCard } from "../txn/ports";

/** UnionPay's IIN prefix: domestic totals in settlement (F48). */
const UNIONPAY_IIN = "62";
const CURRENCY_CNY = "156";
const COUNTRY_CN = "156";
const SEQUENCE_COUNTER_MAX = 99_999_999;
const TAG_ISSUER_AUTHENTICATION = 0x91;
/** EMV 9C of each card operation. */
const TRANSACTION_TYPES: Readonly<Partial<Record<Operation, number>>> = Object.freeze({ sale: 0x00, balance: 0x31, refund: 0x20 });

/** UnionPay cards go into the domestic totals; every other scheme into the foreign ones. */
export function isDomestic(pan: string): boolean {
  return pan.startsWith(UNIONPAY_IIN);
}

export interface EmvTerminalDataOptions {
  /** 9F1E: the terminal's IFD serial. */
  readonly ifdSerial: string;
  /** 9F37 unpredictable numbers. */
  readonly random: Random;
  /** Wall-clock milliseconds, for 9A (YYMMDD). */
  readonly nowMs: () => number;
}

/** What the terminal tells the card at each read: amount, date, type, a fresh unpredictable number, the sequence counter. */
export class EmvTerminalData {
  readonly #options: EmvTerminalDataOptions;
  readonly #unpredictable = new Uint8Array(4);
  #sequenceCounter = 0;

  constructor(options: EmvTerminalDataOptions) {
    this.#options = options;
  }

  next(op: Operation, amountMinor: number): TerminalData {
    this.#options.random.fill(this.#unpredictable);
    this.#sequenceCounter = (this.#sequenceCounter % SEQUENCE_COUNTER_MAX) + 1;
    const d = new Date(this.#options.nowMs());
    const two = (n: number) => String(n).padStart(2, "0");
    return {
      amountMinor,
      currency: CURRENCY_CNY,
      country: COUNTRY_CN,
      date: two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()),
      transactionType: TRANSACTION_TYPES[op] ?? 0x00,
      unpredictableNumber: this.#unpredictable,
      ifdSerial: this.#options.ifdSerial,
      sequenceCounter: this.#sequenceCounter,
    };
  }
}

/** A swipe's card: track 2 into the request, the read wiped. */
export function swipedCard(read: CardRead): PresentedCard {
  const track2 = String.fromCharCode(...read.track2);
  read.wipe();
  return { entryMode: read.entryMode, pan: read.pan, expiry: read.expiry, track2, domestic: isDomestic(read.pan) };
}

/** A chip or contactless read's card; `completeChip` runs the second GENERATE AC on `reader`, then `onCompleted` (card removal). */
export function chipCard(read: CardRead, reader: CardReader, onCompleted?: () => void): PresentedCard {
  const f55 = toHex(read.f55);
  read.wipe();
  return {
    entryMode: read.entryMode,
    pan: read.pan,
    expiry: read.expiry,
    ...(read.panSequence !== undefined ? { cardSequence: read.panSequence.padStart(3, "0") } : {}),
    f55,
    domestic: isDomestic(read.pan),
    completeChip: (f39, issuerData) => {
      const issuerAuthenticationData =
        issuerData === undefined ? undefined : findTlv(decodeTlv(fromHex(issuerData)), TAG_ISSUER_AUTHENTICATION);
      const second = reader.completeChip({
        approved: f39 === "00",
        responseCode: f39,
        ...(issuerAuthenticationData !== undefined ? { issuerAuthenticationData } : {}),
      });
      onCompleted?.();
      return { accepted: second.approved, f55: toHex(second.f55) };
    },
  };
}
