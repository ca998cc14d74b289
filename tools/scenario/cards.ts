/**
 * The contract's test cards (shared/contracts.md) as the engine's
 * PresentedCard: what the readers deliver for each. A stand-in for the card
 * module's catalogue and readers until the scenario runner reads them through
 * the emulated readers; PANs and PINs match the host's catalogue (tools/host/cards.ts).
 */
import type { PresentedCard } from "../../modules/txn/ports";

const EXPIRY = "3012";
/** F55 of a first GENERATE AC: ARQC (9F26), CID 80 (9F27), ATC (9F36), TVR (95). */
const F55_ARQC = "9F2608A1B2C3D4E5F607189F2701809F3602000195050000000000";
/** The second GENERATE AC answered AAC (CID 00), with a new cryptogram: the reversal's F55. */
const F55_AAC = "9F2608C1C2C3C4C5C6C7C89F2701009F360200019505000000800000";
const F55_TC = "9F2608D1D2D3D4D5D6D7D89F2701409F360200019505000000000000";

function swiped(pan: string): PresentedCard {
  return { entryMode: "021", pan, expiry: EXPIRY, track2: `${pan}D${EXPIRY}1010000000`, domestic: pan.startsWith("62") };
}

function chip(pan: string, entryMode: "051" | "071", declinesAfterApproval: boolean): PresentedCard {
  return {
    entryMode,
    pan,
    expiry: EXPIRY,
    cardSequence: "001",
    f55: F55_ARQC,
    domestic: pan.startsWith("62"),
    completeChip: () => (declinesAfterApproval ? { accepted: false, f55: F55_AAC } : { accepted: true, f55: F55_TC }),
  };
}

export const TEST_CARDS: Readonly<Record<string, PresentedCard>> = Object.freeze({
  "visa-msr": swiped("4761730000000011"),
  "unionpay-msr": swiped("6228480000000015"),
  "unionpay-chip": chip("6228480000000023", "051", false),
  "visa-contactless": chip("4761730000000029", "071", false),
  "chip-declines-after-approval": chip("6228480000000031", "051", true),
  "insufficient-funds": swiped("6228480000000049"),
});
