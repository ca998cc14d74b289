/**
 * The card module's one face to the transaction engine: a swipe, a contact
 * chip or a contactless card becomes a `CardRead` with the F22 entry mode, the
 * PAN, expiry, service code, track 2 (for the request being built, nothing
 * else) and F55; a chip read is finished by `completeChip` with the host's
 * answer. Every result has `wipe()`: call it once the request is built.
 */
import { assert } from "../base/assert";
import { fromAscii } from "../base/hex";
import { CardError, type Apdu } from "./apdu";
import type { Atr } from "./contact";
import { EmvKernel, type ApduTraceEntry, type IssuerResponse, type TerminalData } from "./emv";
import { decodeMsr } from "./msr";
import type { ContactlessTarget } from "./pn532";

export type ChipKind = "chip" | "contactless";

/** F22 POS entry mode: 021 swipe, 051 contact chip, 071 contactless. */
export const ENTRY_MODES = Object.freeze({ swipe: "021", chip: "051", contactless: "071" });

export interface CardRead {
  readonly entryMode: string;
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly serviceCode: string;
  /** F23, 3 digits, chip and contactless only. */
  readonly panSequence?: string;
  /** Track 2 as nibble text with the `D` separator (ASCII bytes): into F35 only. */
  readonly track2: Uint8Array;
  /** F55 of the first GENERATE AC; empty for a swipe. */
  readonly f55: Uint8Array;
  /** "ARQC" | "TC" | "AAC" for chip reads, "" for a swipe. */
  readonly cryptogram: string;
  readonly aid: string;
  wipe(): void;
}

export interface ContactlessDevice extends Apdu {
  activate(): ContactlessTarget;
}

export interface ContactDevice extends Apdu {
  powerUp(): Atr;
  powerOff(): void;
}

export interface CardReaderOptions {
  readonly contactless?: ContactlessDevice;
  readonly contact?: ContactDevice;
  readonly onExchange?: (entry: ApduTraceEntry) => void;
}

export class CardReader {
  readonly #options: CardReaderOptions;
  #kernel: EmvKernel | undefined;
  #kind: ChipKind | undefined;

  constructor(options: CardReaderOptions) {
    this.#options = options;
  }

  /** A finished swipe from the strobe capture (native ISR or MsrCapture). Throws MsrError. */
  readSwipe(bits: Uint8Array, count: number): CardRead {
    const track = decodeMsr(bits, count);
    // Track 1 carries no track 2: build the equivalent from its fields (no discretionary data).
    let text = "";
    if (track.track === 2) for (const c of track.data) text += c === 0x3d ? "D" : String.fromCharCode(c);
    else text = `${track.pan}D${track.expiry}${track.serviceCode}`;
    track.wipe();
    const track2 = fromAscii(text);
    return freezeRead({
      entryMode: ENTRY_MODES.swipe,
      pan: track.pan,
      expiry: track.expiry,
      serviceCode: track.serviceCode,
      track2,
      f55: new Uint8Array(0),
      cryptogram: "",
      aid: "",
      wipe: () => track2.fill(0),
    });
  }

  /** Activates the card, runs the EMV read flow and the first GENERATE AC. Throws CardError. */
  readCard(kind: ChipKind, terminal: TerminalData): CardRead {
    const device = kind === "chip" ? this.#options.contact : this.#options.contactless;
    if (!device) throw new CardError("noCard", `no ${kind} reader configured`);
    if (kind === "chip") this.#options.contact!.powerUp();
    else this.#options.contactless!.activate();
    const kernel = new EmvKernel({ apdu: device, contactless: kind === "contactless", onExchange: this.#options.onExchange });
    this.#kernel = kernel;
    this.#kind = kind;
    const app = kernel.readApplication(terminal);
    const first = kernel.generateFirstAc();
    return freezeRead({
      entryMode: ENTRY_MODES[kind],
      pan: app.pan,
      expiry: app.expiry,
      serviceCode: app.serviceCode,
      panSequence: app.panSequence,
      track2: app.track2,
      f55: first.f55,
      cryptogram: first.cryptogram,
      aid: app.aid,
      wipe: () => app.track2.fill(0),
    });
  }

  /** Second GENERATE AC with the host's answer; `approved` is the card's word (TC), not the host's alone. */
  completeChip(issuer: IssuerResponse): { readonly approved: boolean; readonly f55: Uint8Array } {
    const kernel = this.#kernel;
    assert(kernel !== undefined, "completeChip without a chip read");
    this.#kernel = undefined;
    try {
      const second = kernel.generateSecondAc(issuer);
      return { approved: issuer.approved && second.cryptogram === "TC", f55: second.f55 };
    } finally {
      kernel.wipe();
      if (this.#kind === "chip") this.#options.contact!.powerOff();
    }
  }
}

function freezeRead(read: CardRead): CardRead {
  assert(read.track2.length <= 40, "track 2 within 40 characters");
  return Object.freeze(read);
}
