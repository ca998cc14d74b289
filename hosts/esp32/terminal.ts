/**
 * What the ESP32 adds around the one terminal assembly (modules/terminal):
 * a display, the magstripe capture buffer and the contactless reader polled
 * while a card is asked for, and the screen's countdown. Free of native
 * bindings, so that the XS device bench (tools/checks/device-sale.ts) runs
 * this very file. Every engine event goes to the log.
 *
 * Boot order: the terminal's boot mounts the journal (recovery turns every
 * armed record into a reversal due), then sends the reversals due before
 * anything else is allowed online.
 */
import { assertInteger } from "../../modules/base/assert";
import { CardError } from "../../modules/card/apdu";
import { MsrError } from "../../modules/card/msr";
import { CardReader, type ContactlessDevice } from "../../modules/card/reader";
import type { TimerHandle } from "../../modules/platform/clock";
import type { Logger } from "../../modules/platform/log";
import { chipCard, EmvTerminalData, swipedCard } from "../../modules/terminal/cards";
import { Terminal, type TerminalEvent, type TerminalOptions } from "../../modules/terminal/terminal";
import type { Language } from "../../modules/ui/texts";
import { render, renderNotice, type Key, type RenderedScreen, type Screen } from "../../modules/ui/terminal-ui";

export { STATE_SECTORS } from "../../modules/terminal/terminal";

/** A text display: a character LCD, or the serial console in a bring-up build (TraceDisplay in main.ts). */
export interface Display {
  show(screen: RenderedScreen): void;
}

/** The terminal's own options, less the trace and screen callbacks this class owns, plus the device's parts. */
export interface DeviceTerminalOptions extends Omit<
  TerminalOptions,
  "log" | "onEvent" | "onScreen" | "onSlip" | "traceScreens" | "wrapJournal" | "wrapEvents"
> {
  readonly log: Logger;
  readonly display: Display;
  readonly language?: Language;
  /** A contactless reader after its `begin()`; none = swipe only. */
  readonly contactless?: ContactlessDevice;
  /** Screen countdown and contactless polling period. */
  readonly tickMs?: number;
}

export class DeviceTerminal {
  readonly #options: DeviceTerminalOptions;
  readonly #terminal: Terminal;
  readonly #swipeReader = new CardReader({});
  readonly #contactlessReader: CardReader | undefined;
  readonly #terminalData: EmvTerminalData;
  readonly #tickMs: number;
  #timer: TimerHandle | undefined;

  constructor(options: DeviceTerminalOptions) {
    this.#options = options;
    this.#tickMs = options.tickMs ?? 250;
    assertInteger(this.#tickMs, 10, 10_000, "tickMs");
    this.#terminal = new Terminal({
      ...options,
      onEvent: (event) => this.#logEvent(event),
      traceScreens: false,
      onScreen: (screen) => this.#paint(screen),
    });
    this.#terminalData = new EmvTerminalData({
      ifdSerial: options.identity.ifdSerial,
      random: options.random,
      nowMs: () => options.wallClock.nowMs(),
    });
    this.#contactlessReader = options.contactless === undefined ? undefined : new CardReader({ contactless: options.contactless });
  }

  get terminal(): Terminal {
    return this.#terminal;
  }

  get screen(): Screen {
    return this.#terminal.screen;
  }

  /** Recovery, then the reversals due go out before anything else; the screen ticks from here on. */
  boot(): void {
    this.#terminal.boot();
    this.#timer = this.#options.clock.schedule(this.#tickMs, () => this.#tick());
  }

  press(key: Key): void {
    this.#terminal.press(key);
  }

  /** A finished swipe from the capture buffer (native ISR); `bits` is wiped by the caller after this returns. */
  swipe(bits: Uint8Array, count: number): void {
    if (this.#terminal.cardAsked === undefined) {
      this.#options.log.info("msr: swipe ignored, no card asked for", { bits: count });
      return;
    }
    let read;
    try {
      read = this.#swipeReader.readSwipe(bits, count);
    } catch (error) {
      if (!(error instanceof MsrError)) throw error;
      this.#options.log.warn("msr: unreadable swipe, swipe again", { reason: error.reason });
      this.#terminal.readerResult("magstripe", error.reason);
      return this.#terminal.notify("noticeCardUnreadable");
    }
    this.#terminal.readerResult("magstripe");
    this.#terminal.presentCard(swipedCard(read));
  }

  signOn(): void {
    this.#terminal.menu("signOn");
  }

  /** The Wi-Fi link is back (wifi-link.ts): owed reversals go out now, not at the next sale. */
  linkRestored(): void {
    this.#terminal.linkRestored();
  }

  settle(): void {
    this.#terminal.menu("settle");
  }

  close(): void {
    if (this.#timer !== undefined) this.#options.clock.cancel(this.#timer);
    this.#timer = undefined;
  }

  /** Contactless polling while a card is asked for: one activation attempt per tick. */
  #pollContactless(): void {
    const reader = this.#contactlessReader;
    const asked = this.#terminal.cardAsked;
    if (reader === undefined || asked === undefined) return;
    try {
      const read = reader.readCard("contactless", this.#terminalData.next(asked.op, asked.amount));
      this.#terminal.readerResult("contactless");
      this.#terminal.presentCard(chipCard(read, reader));
    } catch (error) {
      if (!(error instanceof CardError)) throw error;
      if (error.reason === "noCard") return; // nothing in the field: a poll, not a read
      this.#options.log.warn("contactless: read failed, tap again", { reason: error.reason });
      this.#terminal.readerResult("contactless", error.reason);
    }
  }

  /** Countdown on the processing and reversing screens, then contactless polling. */
  #tick(): void {
    this.#timer = undefined;
    this.#terminal.tick();
    this.#pollContactless();
    this.#timer = this.#options.clock.schedule(this.#tickMs, () => this.#tick());
  }

  #paint(screen: Screen): void {
    const language = this.#options.language ?? "zh";
    const rendered = render(screen, language);
    const notice = this.#terminal.ui.notice;
    this.#options.display.show(
      notice === undefined ? rendered : { title: rendered.title, lines: [...rendered.lines, renderNotice(notice, language)] },
    );
  }

  /** Events carry MTI, STAN, F39, journal states and screen titles only: no PAN or track data reaches the log. */
  #logEvent(event: TerminalEvent): void {
    const fields: Record<string, string | number | boolean> = {};
    const values = event as unknown as Readonly<Record<string, unknown>>;
    for (const name in values) {
      const value = values[name];
      if (name !== "ev" && (typeof value === "string" || typeof value === "number" || typeof value === "boolean")) fields[name] = value;
    }
    this.#options.log.info(`txn: ${event.ev}`, fields);
  }
}
