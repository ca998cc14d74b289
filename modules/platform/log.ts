/**
 * Structured logging that cannot leak card data: every line passes through
 * redaction before it reaches a sink. Sensitive field names are replaced
 * whole; any run of 13 to 19 digits anywhere (a PAN, or a track's PAN part) is
 * masked to first 6 / last 4.
 */
export type LogValue = string | number | boolean | undefined;
export type LogFields = Readonly<Record<string, LogValue>>;
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogSink {
  write(level: LogLevel, line: string): void;
}

/** Field names whose values never appear, whatever they hold. Compared in lower case. */
const SENSITIVE_FIELD_NAMES: readonly string[] = Object.freeze([
  "pin",
  "pinblock",
  "track",
  "track1",
  "track2",
  "track3",
  "cvv",
  "cvv2",
  "key",
  "tmk",
  "pik",
  "mak",
  "tdk",
  "kek",
  "keyhex",
  "f35",
  "f36",
  "f52",
]);

const LINE_LENGTH_MAX = 2048;

export function isSensitiveFieldName(name: string): boolean {
  const lower = name.toLowerCase();
  return SENSITIVE_FIELD_NAMES.includes(lower) || lower.endsWith("key");
}

/**
 * The one PAN mask of the firmware and its tools (screens, slips, logs, JSON, the journal inspector). The rule:
 * at most the first 6 and the last 4 digits show (PCI DSS 3.4.1's most), and only when that still hides at least
 * 3 digits, i.e. from 13 digits on. A shorter PAN (the readers accept 12 digits; 10 and 11 are no card's) would
 * show 10 of its 10–12 digits: it is masked whole. tests/core/platform/log.test.ts checks every length 10–19.
 */
export function maskPan(pan: string): string {
  if (pan.length < 13) return "*".repeat(pan.length);
  return pan.slice(0, 6) + "*".repeat(pan.length - 10) + pan.slice(-4);
}

/**
 * Masks every run of 13 to 19 digits in `text` (runs longer than 19 are masked whole). Runs of 12 and fewer stay:
 * RRNs (12 digits), STANs and amounts are numbers a log needs, so a 12-digit PAN must go through maskPan first.
 */
export function redactText(text: string): string {
  let out = "";
  let runStart = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : -1;
    const isDigit = c >= 0x30 && c <= 0x39;
    if (isDigit) {
      if (runStart < 0) runStart = i;
      continue;
    }
    if (runStart >= 0) {
      const run = text.slice(runStart, i);
      out += run.length < 13 ? run : run.length <= 19 ? maskPan(run) : "*".repeat(run.length);
      runStart = -1;
    }
    if (c >= 0) out += text[i];
  }
  return out;
}

export function formatLogLine(event: string, fields: LogFields | undefined): string {
  let line = redactText(event);
  if (fields !== undefined) {
    for (const name of Object.keys(fields)) {
      const value = fields[name];
      if (value === undefined) continue;
      const shown = isSensitiveFieldName(name) ? "[redacted]" : redactText(String(value));
      line += ` ${name}=${shown}`;
    }
  }
  return line.length > LINE_LENGTH_MAX ? line.slice(0, LINE_LENGTH_MAX) + "…" : line;
}

export class Logger {
  readonly #sink: LogSink;

  constructor(sink: LogSink) {
    this.#sink = sink;
  }

  debug(event: string, fields?: LogFields): void {
    this.#sink.write("debug", formatLogLine(event, fields));
  }
  info(event: string, fields?: LogFields): void {
    this.#sink.write("info", formatLogLine(event, fields));
  }
  warn(event: string, fields?: LogFields): void {
    this.#sink.write("warn", formatLogLine(event, fields));
  }
  error(event: string, fields?: LogFields): void {
    this.#sink.write("error", formatLogLine(event, fields));
  }
}

/** A sink that keeps the last `linesMax` lines in memory (tests, the simulator's log panel). */
export class MemoryLogSink implements LogSink {
  readonly lines: string[] = [];
  readonly #linesMax: number;

  constructor(linesMax = 1000) {
    this.#linesMax = linesMax;
  }

  write(level: LogLevel, line: string): void {
    if (this.lines.length >= this.#linesMax) this.lines.shift();
    this.lines.push(`${level} ${line}`);
  }
}
