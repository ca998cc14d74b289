/** Randomness from the ESP32 hardware RNG (hardware-random.c) and a log sink over `trace` (the serial console). */
import type { LogLevel, LogSink } from "../../modules/platform/log";
import type { Random } from "../../modules/platform/random";

const FILL_BYTES_MAX = 4096;

export class HardwareRandom implements Random {
  /** esp_fill_random: true randomness while the radio is on, otherwise the bootloader-seeded RNG (docs/device.md). */
  fill(bytes: Uint8Array): void {
    if (bytes.length > FILL_BYTES_MAX) throw new RangeError(`HardwareRandom.fill: at most ${FILL_BYTES_MAX} bytes per call`);
    native("xs_xspos_random_fill").call(undefined, bytes);
  }
}

const LEVEL_ORDER: readonly LogLevel[] = Object.freeze(["debug", "info", "warn", "error"]);

/** Lines reach the sink already redacted by Logger (modules/platform/log.ts). */
export class TraceLogSink implements LogSink {
  readonly #levelMin: number;

  constructor(levelMin: LogLevel = "info") {
    this.#levelMin = LEVEL_ORDER.indexOf(levelMin);
  }

  write(level: LogLevel, line: string): void {
    if (LEVEL_ORDER.indexOf(level) >= this.#levelMin) trace(`${level} ${line}\n`);
  }
}
