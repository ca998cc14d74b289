/** Randomness and logging on Node for the live simulator. */
import { randomFillSync } from "node:crypto";
import type { LogLevel, LogSink } from "../../modules/platform/log";
import type { Random } from "../../modules/platform/random";

export class NodeRandom implements Random {
  fill(bytes: Uint8Array): void {
    randomFillSync(bytes);
  }
}

/** Writes redacted log lines to stderr, so stdout stays machine-readable. */
export class StderrLogSink implements LogSink {
  readonly #levelMin: LogLevel;
  constructor(levelMin: LogLevel = "info") {
    this.#levelMin = levelMin;
  }
  write(level: LogLevel, line: string): void {
    const order: readonly LogLevel[] = ["debug", "info", "warn", "error"];
    if (order.indexOf(level) >= order.indexOf(this.#levelMin)) process.stderr.write(`${level} ${line}\n`);
  }
}
