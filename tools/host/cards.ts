/**
 * The cards the host plays issuer for: the shared test-card catalogue
 * (modules/card/test-cards.ts, the single source of PAN, expiry, PIN and
 * answer) seen from the issuer's side. A PIN block that does not carry the
 * card's PIN answers 55, a past expiry 54, and a sale that passes every check
 * gets the card's hostResponse. A sale without a PIN block is not declined for
 * it (small-amount no-PIN practice; the terminal decides when to ask for a PIN).
 */
import { TEST_CARDS, type TestCard } from "../../modules/card/test-cards";

/** What the issuer knows of a card; a catalogue passed to HostCore needs only these fields. */
export type HostCard = Pick<TestCard, "name" | "pan" | "expiry" | "pin" | "hostResponse">;

const byPan: ReadonlyMap<string, HostCard> = new Map(TEST_CARDS.map((card) => [card.pan, card]));

export function findCard(pan: string, cards: readonly HostCard[] | undefined): HostCard | undefined {
  if (cards === undefined) return byPan.get(pan);
  return cards.find((card) => card.pan === pan);
}
