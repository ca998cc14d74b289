/**
 * The terminal application as the ESP32 runs it, free of native bindings so
 * that the XS device bench (tools/checks/device-sale.ts) runs this very file:
 * the journal partition split into the reversal journal and the terminal
 * state record (modules/txn), the transaction engine, the screens of
 * modules/ui painted on a display, the keypad, the magstripe capture buffer
 * and the contactless reader (PN532 or MFRC522) polled while a card is asked
 * for. Every engine event goes to the log.
 *
 * Boot order: the engine's boot mounts the journal (recovery turns every
 * armed record into a reversal due), then sends the reversals due before
 * anything else is allowed online.
 */
import { assertInteger } from "../../modules/base/assert";
import { fromHex, toHex } from "../../modules/base/hex";
import { CardError } from "../../modules/card/apdu";
import type { TerminalData } from "../../modules/card/emv";
import { MsrError } from "../../modules/card/msr";
import { CardReader, type ContactlessDevice } from "../../modules/card/reader";
import type { CipherProvider } from "../../modules/crypto/block-cipher";
import type { KeyStore } from "../../modules/crypto/key-store";
import type { SecretKey } from "../../modules/crypto/keys";
import { decodeTlv, findTlv } from "../../modules/iso8583/tlv";
import type { TerminalIdentity } from "../../modules/journal/format";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import type { Flash } from "../../modules/platform/flash";
import type { Logger } from "../../modules/platform/log";
import type { Random } from "../../modules/platform/random";
import type { Transport, TransportEndpoint } from "../../modules/platform/transport";
import { TxnEngine, TxnRequestError, type TxnEvent } from "../../modules/txn/engine";
import { FlashJournal } from "../../modules/txn/flash-journal";
import { FlashRegion } from "../../modules/txn/flash-region";
import { FlashStateStore } from "../../modules/txn/flash-state";
import type { PresentedCard, WallClock } from "../../modules/txn/ports";
import type { Language } from "../../modules/ui/texts";
import {
  render,
  TerminalUi,
  type EngineInput,
  type Intent,
  type Key,
  type RenderedScreen,
  type Screen,
} from "../../modules/ui/terminal-ui";

/** The terminal state record takes the last two sectors of the partition; the journal the rest. */
export const STATE_SECTORS = 2;
/** The journal format's range (docs/journal-format.md). */
const JOURNAL_SECTORS_MIN = 3;
const JOURNAL_SECTORS_MAX = 64;
/** EMV 9C purchase; the device menu offers sales only. */
const TRANSACTION_TYPE_PURCHASE = 0x00;
const CURRENCY_CNY = "156";
const COUNTRY_CN = "156";
/** UnionPay's IIN prefix: domestic totals in settlement (F48). */
const UNIONPAY_IIN = "62";
const SEQUENCE_COUNTER_MAX = 99_999_999;
const TAG_ISSUER_AUTHENTICATION = 0x91;

/** A text display: a character LCD, or the serial console in a bring-up build (TraceDisplay in main.ts). */
export interface Display {
  show(screen: RenderedScreen): void;
}

/** Engine knobs from the terminal parameters (hosts/esp32/preferences.ts). */
export interface EngineParameters {
  readonly responseTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reversalRetries: number;
  readonly blockSalesWhileReversalFailed: boolean;
}

export interface DeviceTerminalOptions {
  readonly clock: Clock;
  readonly transport: Transport;
  readonly endpoint: TransportEndpoint;
  /** The whole journal partition: the journal, then STATE_SECTORS for the state record. */
  readonly flash: Flash;
  readonly random: Random;
  readonly keys: KeyStore;
  /** SM4 data-at-rest key sealing the PAN in the journal. */
  readonly dataKey: SecretKey;
  /** The engine's MAC and PIN ciphers (cipher-route.ts); default modules/crypto's TypeScript ones. */
  readonly ciphers?: CipherProvider;
  readonly identity: TerminalIdentity;
  readonly parameters: EngineParameters;
  readonly wallClock: WallClock;
  readonly log: Logger;
  readonly display: Display;
  readonly language?: Language;
  /** A contactless reader after its `begin()`; none = swipe only. */
  readonly contactless?: ContactlessDevice;
  /** Screen countdown and contactless polling period. */
  readonly tickMs?: number;
}

interface PendingSale {
  readonly amount: number;
  card?: PresentedCard;
}

export class DeviceTerminal {
  readonly #options: DeviceTerminalOptions;
  readonly #journal: FlashJournal;
  readonly #ui: TerminalUi;
  readonly #engine: TxnEngine;
  readonly #swipeReader = new CardReader({});
  readonly #contactlessReader: CardReader | undefined;
  readonly #unpredictable = new Uint8Array(4);
  readonly #tickMs: number;
  #pending: PendingSale | undefined;
  #sequenceCounter = 0;
  #deadlineMs: number | undefined;
  #timer: TimerHandle | undefined;

  constructor(options: DeviceTerminalOptions) {
    this.#options = options;
    this.#tickMs = options.tickMs ?? 250;
    assertInteger(this.#tickMs, 10, 10_000, "tickMs");
    const sectors = options.flash.byteLength / options.flash.blockSize;
    const journalSectors = sectors - STATE_SECTORS;
    assertInteger(journalSectors, JOURNAL_SECTORS_MIN, JOURNAL_SECTORS_MAX, "journal sectors of the partition");
    this.#journal = new FlashJournal({
      flash: new FlashRegion(options.flash, 0, journalSectors),
      dataKey: options.dataKey,
      random: options.random,
      identity: options.identity,
      nowSeconds: () => Math.floor(options.wallClock.nowMs() / 1000),
      onAlarm: (alarm) => options.log.error("journal: alarm, reconcile with the host", { kind: alarm.kind }),
    });
    this.#ui = new TerminalUi({ onScreen: (screen) => this.#paint(screen), onIntent: (intent) => this.#onIntent(intent) });
    this.#engine = new TxnEngine({
      clock: options.clock,
      transport: options.transport,
      endpoint: options.endpoint,
      journal: this.#journal,
      state: new FlashStateStore(new FlashRegion(options.flash, journalSectors, STATE_SECTORS)),
      keys: options.keys,
      terminalId: options.identity.terminalId,
      merchantId: options.identity.merchantId,
      ...options.parameters,
      wallClock: options.wallClock,
      ciphers: options.ciphers,
      onEvent: (event) => this.#logEvent(event),
      onUi: (input) => this.#onEngineUi(input),
    });
    this.#contactlessReader = options.contactless === undefined ? undefined : new CardReader({ contactless: options.contactless });
  }

  get engine(): TxnEngine {
    return this.#engine;
  }

  get screen(): Screen {
    return this.#ui.screen;
  }

  /** Recovery, then the reversals due go out before anything else; the screen ticks from here on. */
  boot(): void {
    this.#paint(this.#ui.screen);
    this.#engine.boot();
    this.#timer = this.#options.clock.schedule(this.#tickMs, () => this.#tick());
  }

  press(key: Key): void {
    this.#guard(() => this.#ui.press(key));
  }

  /** A finished swipe from the capture buffer (native ISR); `bits` is wiped by the caller after this returns. */
  swipe(bits: Uint8Array, count: number): void {
    const pending = this.#pending;
    if (pending === undefined || pending.card !== undefined || this.#ui.screen.kind !== "presentCard") {
      this.#options.log.info("msr: swipe ignored, no card asked for", { bits: count });
      return;
    }
    let read;
    try {
      read = this.#swipeReader.readSwipe(bits, count);
    } catch (error) {
      if (!(error instanceof MsrError)) throw error;
      this.#options.log.warn("msr: unreadable swipe, swipe again", { reason: error.reason });
      return;
    }
    const track2 = String.fromCharCode(...read.track2);
    read.wipe();
    this.#cardRead(pending, { entryMode: read.entryMode, pan: read.pan, expiry: read.expiry, track2, domestic: isDomestic(read.pan) });
  }

  signOn(): void {
    this.#guard(() => this.#engine.signOn());
  }

  settle(): void {
    this.#guard(() => this.#engine.settle());
  }

  close(): void {
    if (this.#timer !== undefined) this.#options.clock.cancel(this.#timer);
    this.#timer = undefined;
  }

  #onIntent(intent: Intent): void {
    if (intent.kind === "sale") {
      this.#pending = { amount: intent.amount };
      this.#ui.show({ kind: "presentCard", op: "sale", amount: intent.amount });
      return;
    }
    const pending = this.#pending;
    this.#pending = undefined;
    // The keypad has no menu keys: refunds and voids are not started here.
    if (intent.kind !== "pin" || pending?.card === undefined) return;
    const pin = intent.pin === "" ? undefined : intent.pin;
    this.#guard(() => this.#engine.sale({ amount: pending.amount, card: pending.card!, pin }));
  }

  #cardRead(pending: PendingSale, card: PresentedCard): void {
    pending.card = card;
    this.#ui.show({ kind: "enterPin" });
  }

  /** Contactless polling while a card is asked for: one activation attempt per tick. */
  #pollContactless(): void {
    const reader = this.#contactlessReader;
    const pending = this.#pending;
    if (reader === undefined || pending === undefined || pending.card !== undefined || this.#ui.screen.kind !== "presentCard") return;
    try {
      const read = reader.readCard("contactless", this.#terminalData(pending.amount));
      const f55 = toHex(read.f55);
      read.wipe();
      this.#cardRead(pending, {
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
          return { accepted: second.approved, f55: toHex(second.f55) };
        },
      });
    } catch (error) {
      if (!(error instanceof CardError)) throw error;
      if (error.reason !== "noCard") this.#options.log.warn("contactless: read failed, tap again", { reason: error.reason });
    }
  }

  #terminalData(amountMinor: number): TerminalData {
    this.#options.random.fill(this.#unpredictable);
    this.#sequenceCounter = (this.#sequenceCounter % SEQUENCE_COUNTER_MAX) + 1;
    const d = new Date(this.#options.wallClock.nowMs());
    const two = (n: number) => String(n).padStart(2, "0");
    return {
      amountMinor,
      currency: CURRENCY_CNY,
      country: COUNTRY_CN,
      date: two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()),
      transactionType: TRANSACTION_TYPE_PURCHASE,
      unpredictableNumber: this.#unpredictable,
      ifdSerial: this.#options.identity.ifdSerial,
      sequenceCounter: this.#sequenceCounter,
    };
  }

  /** Countdown on the processing screen (the engine itself gives the screen back when it goes idle). */
  #tick(): void {
    this.#timer = undefined;
    if (this.#deadlineMs !== undefined) {
      this.#ui.tick(Math.max(0, this.#deadlineMs - this.#options.clock.nowMs()));
      this.#paint(this.#ui.screen);
    }
    this.#pollContactless();
    this.#timer = this.#options.clock.schedule(this.#tickMs, () => this.#tick());
  }

  #onEngineUi(input: EngineInput): void {
    this.#deadlineMs =
      input.kind === "processing" && input.remainingMs !== undefined ? this.#options.clock.nowMs() + input.remainingMs : undefined;
    this.#ui.show(input);
  }

  #paint(screen: Screen): void {
    this.#options.display.show(render(screen, this.#options.language ?? "zh"));
  }

  /** Events carry MTI, STAN, F39 and journal states only: no PAN or track data reaches the log. */
  #logEvent(event: TxnEvent): void {
    const { ev, ...fields } = event;
    this.#options.log.info(`txn: ${ev}`, fields as Readonly<Record<string, string | number | boolean | undefined>>);
  }

  /** A request the engine refuses up front (a bad amount) is shown, not thrown into the timer loop. */
  #guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (!(error instanceof TxnRequestError)) throw error;
      this.#options.log.warn("txn: request refused", { field: error.field });
      this.#ui.show({ kind: "result", op: "sale", outcome: "refused" });
    }
  }
}

function isDomestic(pan: string): boolean {
  return pan.startsWith(UNIONPAY_IIN);
}
