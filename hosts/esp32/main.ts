/**
 * Firmware entry (manifest.json creation.main): binds every modules/platform
 * interface to the ESP32 and starts the terminal (terminal.ts): journal and
 * state record on the journal partition, the transaction engine over the
 * native TLS transport, the keypad into the screens, the screens onto the
 * display, card readers into the sale, the engine's events into the log.
 * Exporting a default function keeps the module body free of native calls,
 * so it can be preloaded.
 *
 * The magstripe capture opens first, before any other GPIO interrupt user, so
 * that it installs the GPIO ISR service IRAM-safe (msr-capture.c).
 *
 * Wi-Fi (wifi-link.ts): the link coming back tells the terminal (linkRestored:
 * owed reversals go out at once) and feeds the network check's link line.
 */
import config from "mc/config";
import Time from "time";
import WiFi from "embedded:network/interface/wifi";
import { CardError } from "../../modules/card/apdu";
import { Mfrc522 } from "../../modules/card/mfrc522";
import { Pn532 } from "../../modules/card/pn532";
import type { ContactlessDevice } from "../../modules/card/reader";
import { Logger } from "../../modules/platform/log";
import type { WallClock } from "../../modules/txn/ports";
import type { RenderedScreen } from "../../modules/ui/terminal-ui";
import type { Language } from "../../modules/ui/texts";
import { nativeCiphers, nativeDesAvailable } from "./block-cipher";
import { chooseCiphers } from "./cipher-route";
import { FlashPartition } from "./flash-partition";
import { openDigital, openSpi } from "./io";
import { Keypad } from "./keypad";
import { MsrStrobeCapture } from "./msr-capture";
import { EspOtaSlots, restartDevice } from "./ota-slots";
import { nativeImageDigest } from "./image-digest";
import { NvsRecordStore, provisionedReleaseKey } from "./update-store";
import { NvsKeyStore } from "./nvs-key-store";
import { HardwareRandom, TraceLogSink } from "./platform";
import { acquirerLink } from "./acquirer-link";
import { loadTerminalParameters, NvsReaderCareStore } from "./preferences";
import { DeviceTerminal, type Display } from "./terminal";
import type { TerminalUpdateOptions } from "../../modules/terminal/terminal";
import { SwipeGuardFlash } from "./swipe-guard-flash";
import { TimerClock } from "./timer-clock";
import { WifiLink } from "./wifi-link";

interface BoardPins {
  readonly msrCardPresent: number;
  readonly msrStrobe: number;
  readonly msrData: number;
  readonly keypadRows: readonly number[];
  readonly keypadColumns: readonly number[];
  readonly spiClock: number;
  readonly spiOut: number;
  readonly spiIn: number;
  readonly spiSelect: number;
  readonly spiPort: number;
}

/** Build-time facts of the board (manifest.json `config`), not terminal parameters. */
interface BoardConfig {
  readonly pins: BoardPins;
  /** EMV 9F1E, 8 characters: the terminal's serial number. */
  readonly ifdSerial: string;
  readonly contactlessReader: "pn532" | "mfrc522" | "none";
  readonly language: Language;
  /** Block cipher route: "auto" (native DES when the build has it), "native" or "software" (cipher-route.ts). */
  readonly ciphers: string;
  /** The Wi-Fi network (`mcconfig … ssid=… password=…`): setup/network joins it before main, wifi-link.ts rejoins it. */
  readonly ssid?: string;
  readonly password?: string;
}

/** The pinned CA (DER) lives in NVS, provisioned with the terminal keys: `xspos-tls` / `ca`. */
/** SPI clock of the contactless reader: the PN532 tops out at 5 MHz; the MFRC522 takes 10. */
const CONTACTLESS_HZ = Object.freeze({ pn532: 1_000_000, mfrc522: 4_000_000 });
const DISPLAY_LINES_MAX = 8;

/** Firmware updates (docs/update.md) when the release key was provisioned; without it the terminal keeps its image. */
function deviceUpdate(log: Logger): TerminalUpdateOptions | undefined {
  const publicKey = provisionedReleaseKey();
  if (publicKey === undefined) {
    log.warn("update: no release key provisioned (xspos-update/releaseKey), updates are off");
    return undefined;
  }
  const imageDigest = nativeImageDigest();
  log.info("update: image digest route", { route: imageDigest === undefined ? "software" : "native" });
  return {
    slots: new EspOtaSlots(),
    store: new NvsRecordStore(),
    publicKey,
    restart: restartDevice,
    ...(imageDigest !== undefined ? { imageDigest } : {}),
  };
}

/**
 * The expected display is a character LCD of at least 8 lines × 20 columns
 * (Chinese needs a CJK font); until its driver lands, the screens go to the
 * serial console, one block per change.
 */
class TraceDisplay implements Display {
  show(screen: RenderedScreen): void {
    let text = `== ${screen.title}\n`;
    for (const line of screen.lines.slice(0, DISPLAY_LINES_MAX)) text += `   ${line}\n`;
    trace(text);
  }
}

/** The calendar clock on the ESP32 RTC: set from the sign-on answer (F12/F13), survives deep sleep, not a power loss. */
class RtcWallClock implements WallClock {
  nowMs(): number {
    return Date.now();
  }
  set(ms: number): void {
    Time.set(Math.floor(ms / 1000));
  }
}

function openContactless(board: BoardConfig, log: Logger): ContactlessDevice | undefined {
  const kind = board.contactlessReader;
  if (kind === "none") return undefined;
  const pins = board.pins;
  const spi = openSpi(
    { clock: pins.spiClock, out: pins.spiOut, in: pins.spiIn },
    { port: pins.spiPort, hz: CONTACTLESS_HZ[kind], select: pins.spiSelect },
  );
  try {
    const reader = kind === "pn532" ? new Pn532({ spi }) : new Mfrc522({ spi });
    reader.begin();
    return reader;
  } catch (error) {
    if (!(error instanceof CardError)) throw error;
    spi.close();
    log.error("contactless: reader not answering, swipe only", { reader: kind, reason: error.reason });
    return undefined;
  }
}

export default function main(): void {
  const board = config as unknown as BoardConfig;
  const pins = board.pins;
  // First: the capture installs the GPIO ISR service IRAM-safe only if nothing did before it. Swipes
  // arrive as messages from the ISR, on a later turn of the event loop: `terminal` is set by then.
  const msr = new MsrStrobeCapture({
    pins: { cardPresent: pins.msrCardPresent, strobe: pins.msrStrobe, data: pins.msrData },
    onSwipe: (bits, count) => terminal.swipe(bits, count),
  });
  const clock = new TimerClock();
  const log = new Logger(new TraceLogSink());
  if (!msr.iramSafe) log.warn("msr: GPIO ISR service is not IRAM-safe; journal programs wait for swipes too");
  const ciphers = chooseCiphers(board.ciphers, nativeDesAvailable(), nativeCiphers);
  log.info("crypto: block cipher route", { route: ciphers.route });
  const parameters = loadTerminalParameters();
  const random = new HardwareRandom();
  const partition = new FlashPartition();
  const keys = new NvsKeyStore();
  const flash = new SwipeGuardFlash({
    flash: partition,
    strobesExpected: () => msr.strobesExpected,
    nowMs: () => clock.nowMs(),
    guardWrites: !msr.iramSafe,
    onWaited: (waitedMs, timedOut) => {
      if (timedOut) log.warn("flash: card still in the slot, journal operation went ahead", { waitedMs });
    },
  });
  // Link events arrive on later turns of the event loop, as swipes do: `terminal` is set by then.
  const wifi = new WifiLink({
    clock,
    log,
    open: (onChanged) => new WiFi({ onChanged }),
    join: board.ssid ? { SSID: board.ssid, password: board.password } : undefined,
    onRestored: () => terminal.linkRestored(),
  });
  const terminal = new DeviceTerminal({
    clock,
    linkStatus: () => wifi.status(),
    ...acquirerLink(clock, parameters, log),
    flash,
    random,
    keys,
    dataKey: keys.loadDataKey(random),
    ciphers: ciphers.provider,
    identity: { terminalId: parameters.tid, merchantId: parameters.mid, ifdSerial: board.ifdSerial },
    parameters,
    wallClock: new RtcWallClock(),
    log,
    display: new TraceDisplay(),
    language: board.language,
    contactless: openContactless(board, log),
    readerCare: new NvsReaderCareStore(),
    update: deviceUpdate(log),
  });
  new Keypad({ clock, open: openDigital, rows: pins.keypadRows, columns: pins.keypadColumns, onKey: (key) => terminal.press(key) });
  log.info("xspos: platform up", { tid: parameters.tid, host: parameters.host, port: parameters.port, journalBytes: partition.byteLength });
  terminal.boot();
}
