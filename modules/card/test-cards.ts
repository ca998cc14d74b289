/**
 * The test cards of docs/contracts.md, one frozen table shared by the card
 * emulators, the host simulator (which plays issuer from it: PAN, expiry, PIN,
 * answer) and the transaction engine's tests: the single source. PANs are test
 * numbers (Luhn-valid, distinct, not real accounts).
 */
export type CardEntry = "swipe" | "chip" | "contactless";

export interface TestCard {
  readonly name: string;
  readonly scheme: "visa" | "unionpay";
  readonly entry: CardEntry;
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  /** The cardholder PIN the issuer (host simulator) expects in a PIN block: a published test value, never a real one. */
  readonly pin: string;
  readonly serviceCode: string;
  /** Discretionary data after the service code on track 2 (PVKI/PVV/CVV stand-ins). */
  readonly discretionary: string;
  /** 5F34, chip and contactless only. */
  readonly panSequence?: string;
  /** What the card answers to the second GENERATE AC when the host approved. */
  readonly secondAc: "TC" | "AAC";
  /** The card leaves the field after this many APDUs (undefined: it stays). */
  readonly removedAfterApdus?: number;
  /** F39 the host simulator gives an otherwise valid sale with this card. */
  readonly hostResponse: string;
}

export const TEST_CARDS: readonly TestCard[] = Object.freeze(
  (
    [
      {
        name: "visa-msr",
        scheme: "visa",
        entry: "swipe",
        pan: "4761730000000011",
        expiry: "3012",
        pin: "1234",
        serviceCode: "101",
        discretionary: "1234567890",
        secondAc: "TC",
        hostResponse: "00",
      },
      {
        name: "unionpay-msr",
        scheme: "unionpay",
        entry: "swipe",
        pan: "6228480000000015",
        expiry: "3012",
        pin: "1234",
        serviceCode: "520",
        discretionary: "0000000000",
        secondAc: "TC",
        hostResponse: "00",
      },
      {
        name: "unionpay-chip",
        scheme: "unionpay",
        entry: "chip",
        pan: "6228480000000023",
        expiry: "3012",
        pin: "1234",
        serviceCode: "220",
        discretionary: "0000000000",
        panSequence: "001",
        secondAc: "TC",
        hostResponse: "00",
      },
      {
        name: "visa-contactless",
        scheme: "visa",
        entry: "contactless",
        pan: "4761730000000029",
        expiry: "3012",
        pin: "1234",
        serviceCode: "201",
        discretionary: "1234567890",
        panSequence: "001",
        secondAc: "TC",
        hostResponse: "00",
      },
      {
        name: "chip-declines-after-approval",
        scheme: "unionpay",
        entry: "chip",
        pan: "6228480000000031",
        expiry: "3012",
        pin: "1234",
        serviceCode: "220",
        discretionary: "0000000000",
        panSequence: "001",
        secondAc: "AAC",
        hostResponse: "00",
      },
      {
        name: "insufficient-funds",
        scheme: "unionpay",
        entry: "swipe",
        pan: "6228480000000049",
        expiry: "3012",
        pin: "1234",
        serviceCode: "520",
        discretionary: "0000000000",
        secondAc: "TC",
        hostResponse: "51",
      },
      {
        name: "expired",
        scheme: "unionpay",
        entry: "swipe",
        pan: "6228480000000056",
        expiry: "2001",
        pin: "1234",
        serviceCode: "520",
        discretionary: "0000000000",
        secondAc: "TC",
        hostResponse: "54",
      },
      {
        name: "chip-removed-mid-transaction",
        scheme: "unionpay",
        entry: "chip",
        pan: "6228480000000064",
        expiry: "3012",
        pin: "1234",
        serviceCode: "220",
        discretionary: "0000000000",
        panSequence: "001",
        secondAc: "TC",
        removedAfterApdus: 6,
        hostResponse: "00",
      },
    ] satisfies TestCard[]
  ).map((card) => Object.freeze(card)),
);

export function findTestCard(name: string): TestCard | undefined {
  return TEST_CARDS.find((card) => card.name === name);
}

/** The magnetic track 2 of a test card, with sentinels: what the emulated reader swipes. */
export function track2Text(card: TestCard): string {
  return `;${card.pan}=${card.expiry}${card.serviceCode}${card.discretionary}?`;
}
