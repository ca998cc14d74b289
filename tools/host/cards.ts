/**
 * The cards the host plays issuer for: the shared test-card catalogue
 * (modules/card/test-cards.ts) seen from the issuer's side. Every test card
 * has the test PIN; a PIN block that does not carry it answers 55, a past
 * expiry 54, and a sale that passes every check gets the card's hostResponse.
 * A sale without a PIN block is not declined for it (small-amount no-PIN
 * practice; the terminal decides when to ask for a PIN).
 */
import { TEST_CARDS } from "../../modules/card/test-cards";

export const TEST_PIN = "1234";

export interface HostCard {
  readonly name: string;
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  /** The cardholder PIN a PIN block must carry. */
  readonly pin: string;
  /** The issuer's answer to a sale that passes every check. */
  readonly saleResponse: string;
}

export const HOST_TEST_CARDS: readonly HostCard[] = Object.freeze(
  TEST_CARDS.map((card) =>
    Object.freeze({ name: card.name, pan: card.pan, expiry: card.expiry, pin: TEST_PIN, saleResponse: card.hostResponse }),
  ),
);

const byPan = new Map(HOST_TEST_CARDS.map((card) => [card.pan, card]));

export function findCard(pan: string, cards: readonly HostCard[] | undefined): HostCard | undefined {
  if (cards === undefined) return byPan.get(pan);
  return cards.find((card) => card.pan === pan);
}
