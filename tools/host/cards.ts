/**
 * The cards the host plays issuer for, and how it answers them. The names are
 * the test cards of shared/contracts.md; a PIN mismatch answers 55 and a past
 * expiry 54 whatever the card.
 */

export interface HostCard {
  readonly name: string;
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  /** The cardholder PIN; absent = the card is used without a PIN. */
  readonly pin: string | undefined;
  /** The issuer's answer to a sale that passes every check. */
  readonly saleResponse: string;
}

export const HOST_TEST_CARDS: readonly HostCard[] = Object.freeze(
  [
    { name: "visa-msr", pan: "4761730000000011", expiry: "3012", pin: "1234", saleResponse: "00" },
    { name: "unionpay-msr", pan: "6228480000000015", expiry: "3012", pin: "1234", saleResponse: "00" },
    { name: "unionpay-chip", pan: "6228480000000023", expiry: "3012", pin: "1234", saleResponse: "00" },
    { name: "visa-contactless", pan: "4761730000000029", expiry: "3012", pin: undefined, saleResponse: "00" },
    { name: "chip-declines-after-approval", pan: "6228480000000031", expiry: "3012", pin: "1234", saleResponse: "00" },
    { name: "insufficient-funds", pan: "6228480000000049", expiry: "3012", pin: "1234", saleResponse: "51" },
    { name: "expired", pan: "6228480000000056", expiry: "2001", pin: "1234", saleResponse: "00" },
  ].map((card) => Object.freeze(card)),
);

const byPan = new Map(HOST_TEST_CARDS.map((card) => [card.pan, card]));

export function findCard(pan: string, cards: readonly HostCard[] | undefined): HostCard | undefined {
  if (cards === undefined) return byPan.get(pan);
  return cards.find((card) => card.pan === pan);
}
