/**
 * Firmware entry (manifest.json creation.main): binds every modules/platform
 * interface to the ESP32 and hands the set to the core. Exporting a default
 * function keeps the module body free of native calls, so it can be preloaded.
 *
 * The magstripe capture opens first, before any other GPIO interrupt user, so
 * that it installs the GPIO ISR service IRAM-safe (msr-capture.c).
 */
import config from "mc/config";
import { Logger } from "../../modules/platform/log";
import type { Clock } from "../../modules/platform/clock";
import type { Flash } from "../../modules/platform/flash";
import type { Random } from "../../modules/platform/random";
import type { Transport } from "../../modules/platform/transport";
import type { CipherProvider } from "../../modules/crypto/block-cipher";
import type { KeyStore } from "../../modules/crypto/key-store";
import type { Key } from "../../modules/ui/terminal-ui";
import { deviceCiphers } from "./block-cipher";
import { FlashPartition } from "./flash-partition";
import { openDigital } from "./io";
import { Keypad } from "./keypad";
import { MsrStrobeCapture } from "./msr-capture";
import { NvsKeyStore } from "./nvs-key-store";
import { HardwareRandom, TraceLogSink } from "./platform";
import { loadTerminalParameters, type TerminalParameters } from "./preferences";
import { TimerClock } from "./timer-clock";
import { TlsTransport } from "./tls-transport";

interface BoardPins {
  readonly msrCardPresent: number;
  readonly msrStrobe: number;
  readonly msrData: number;
  readonly keypadRows: readonly number[];
  readonly keypadColumns: readonly number[];
}

/** Everything the core gets from this host. */
export interface DevicePlatform {
  readonly clock: Clock;
  readonly flash: Flash;
  readonly random: Random;
  readonly log: Logger;
  readonly transport: Transport;
  readonly ciphers: CipherProvider;
  readonly keys: KeyStore;
  readonly parameters: TerminalParameters;
  readonly msr: MsrStrobeCapture;
  readonly keypad: Keypad;
}

export interface DeviceInputs {
  readonly onSwipe: (bits: Uint8Array, count: number) => void;
  readonly onKey: (key: Key) => void;
}

export function openDevicePlatform(inputs: DeviceInputs): DevicePlatform {
  const pins = (config as unknown as { pins: BoardPins }).pins;
  const msr = new MsrStrobeCapture({
    pins: { cardPresent: pins.msrCardPresent, strobe: pins.msrStrobe, data: pins.msrData },
    onSwipe: inputs.onSwipe,
  });
  const clock = new TimerClock();
  const log = new Logger(new TraceLogSink());
  if (!msr.iramSafe) log.warn("msr: GPIO ISR service is not IRAM-safe; journal erases must wait for swipeInProgress");
  return {
    clock,
    flash: new FlashPartition(),
    random: new HardwareRandom(),
    log,
    transport: new TlsTransport({ clock }),
    ciphers: deviceCiphers,
    keys: new NvsKeyStore(),
    parameters: loadTerminalParameters(),
    msr,
    keypad: new Keypad({ clock, open: openDigital, rows: pins.keypadRows, columns: pins.keypadColumns, onKey: inputs.onKey }),
  };
}

export default function main(): void {
  const platform = openDevicePlatform({
    onSwipe: (_bits, count) => platform.log.info("msr: swipe captured", { bits: count }),
    onKey: (key) => platform.log.debug("keypad", { key: key.length === 1 ? "digit" : key }),
  });
  const parameters = platform.parameters;
  platform.log.info("xspos: platform up", {
    tid: parameters.tid,
    host: parameters.host,
    port: parameters.port,
    journalBytes: platform.flash.byteLength,
  });
}
