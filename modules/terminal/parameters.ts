/**
 * The terminal parameters, one table: name, unit, default, limits, and the
 * tag a TMS parameter download carries it under. NVS on the device, scenario
 * files, the simulator's command line and the acquirer's parameter download
 * (docs/tms.md) all go through `resolveParameters`, so a value is checked in
 * one place. Out-of-range values are refused as a whole, with the parameter
 * named.
 */
import { decodeUtf8, encodeUtf8, utf8Length } from "../base/utf8";

export interface TerminalParameters {
  /** Response deadline, counted from the request's last byte. */
  readonly responseTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** 0400 attempts per reversal episode before 冲正失败 (old name `reversalRetries`). */
  readonly reversalAttempts: number;
  /** 1: sales wait while a 冲正失败 is open; 0: they go on (the reversal is retried before each). */
  readonly blockSalesWhileReversalFailed: boolean;
  /** 交易限额: the largest single sale or refund, fen. */
  readonly amountMaxMinor: number;
  /** Approved records (sales, voids, refunds) in one batch; F48 counts have 3 digits. */
  readonly batchCountMax: number;
  /** The batch's sales, and its refunds, each at most this, fen; F48 amounts have 12 digits. */
  readonly batchAmountMaxMinor: number;
  /** Printed on 冲正失败 slips: whom the merchant calls (UTF-8, at most HOTLINE_TEXT_BYTES_MAX bytes; empty: no line). */
  readonly hotlineText: string;
}

export const HOTLINE_TEXT_BYTES_MAX = 48;

export type ParameterName = keyof TerminalParameters;

export interface ParameterSpec {
  readonly name: ParameterName;
  /** "text": a UTF-8 string, `min` and `max` count its bytes. */
  readonly unit: "ms" | "count" | "fen" | "flag" | "text";
  readonly defaultValue: number | string;
  readonly min: number;
  readonly max: number;
  /** The tag of the TMS parameter block (docs/tms.md); never reused for another parameter. */
  readonly tag: number;
  /** Earlier names still read (with a deprecation note where they are documented). */
  readonly aliases?: readonly string[];
}

function spec(
  tag: number,
  name: ParameterName,
  unit: ParameterSpec["unit"],
  defaultValue: number | string,
  min: number,
  max: number,
  aliases?: readonly string[],
): ParameterSpec {
  return Object.freeze({
    name,
    unit,
    defaultValue,
    min,
    max,
    tag,
    ...(aliases !== undefined ? { aliases: Object.freeze(aliases.slice()) } : {}),
  });
}

export const PARAMETER_TABLE: readonly ParameterSpec[] = Object.freeze([
  spec(1, "responseTimeoutMs", "ms", 60_000, 1, 600_000),
  spec(2, "connectTimeoutMs", "ms", 10_000, 1, 600_000),
  spec(3, "reversalAttempts", "count", 3, 1, 10, ["reversalRetries"]),
  spec(4, "blockSalesWhileReversalFailed", "flag", 0, 0, 1),
  spec(5, "amountMaxMinor", "fen", 10_000_000, 1, 99_999_999_999),
  spec(6, "batchCountMax", "count", 999, 1, 999),
  spec(7, "batchAmountMaxMinor", "fen", 999_999_999_999, 1, 999_999_999_999),
  spec(8, "hotlineText", "text", "", 0, HOTLINE_TEXT_BYTES_MAX),
]);

/** A parameter value out of its range, of the wrong type, or a name the table does not know. */
export class ParameterError extends Error {
  override readonly name = "ParameterError";
  constructor(
    readonly parameter: string,
    readonly detail: string,
  ) {
    super(`${parameter}: ${detail}`);
  }
}

/** Every parameter from `values` (missing ones take their default); one bad value refuses the whole set. */
export function resolveParameters(values: Readonly<Record<string, unknown>> = {}): TerminalParameters {
  const known = new Set<string>();
  const out: Record<string, number | boolean | string> = {};
  for (const p of PARAMETER_TABLE) {
    known.add(p.name);
    let raw = values[p.name];
    let given: string = p.name;
    for (const alias of p.aliases ?? []) {
      known.add(alias);
      if (raw === undefined && values[alias] !== undefined) [raw, given] = [values[alias], alias];
    }
    out[p.name] = p.unit === "flag" ? flag(p, given, raw) : p.unit === "text" ? text(p, given, raw) : number(p, given, raw);
  }
  for (const name of Object.keys(values)) if (!known.has(name)) throw new ParameterError(name, "not a terminal parameter");
  return Object.freeze(out) as unknown as TerminalParameters;
}

/** `given`: the name the value came under (an old alias is named back in the error). */
function number(p: ParameterSpec, given: string, raw: unknown): number {
  if (raw === undefined) return p.defaultValue as number;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < p.min || raw > p.max)
    throw new ParameterError(given, `must be an integer (${p.unit}) from ${p.min} to ${p.max}, got ${String(raw)}`);
  return raw;
}

function flag(p: ParameterSpec, given: string, raw: unknown): boolean {
  if (raw === undefined) return p.defaultValue === 1;
  if (typeof raw === "boolean") return raw;
  if (raw === 0 || raw === 1) return raw === 1;
  throw new ParameterError(given, `must be true or false, got ${String(raw)}`);
}

function text(p: ParameterSpec, given: string, raw: unknown): string {
  if (raw === undefined) return p.defaultValue as string;
  let bytes = -1;
  if (typeof raw === "string") {
    try {
      bytes = utf8Length(raw);
    } catch {
      bytes = -1; // a lone surrogate: no UTF-8 form
    }
  }
  if (bytes < p.min || bytes > p.max || hasControl(raw as string))
    throw new ParameterError(given, `must be text of ${p.min} to ${p.max} UTF-8 bytes without control characters`);
  return raw as string;
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

// ---------------------------------------------------------------- the TMS parameter block

/** The largest parameter block a download may carry (docs/tms.md): every parameter at its longest fits. */
export const PARAMETER_BLOCK_BYTES_MAX = 128;
/** Numbers travel as unsigned big-endian integers of 1..6 bytes (the largest limit needs 5). */
const NUMBER_BYTES_MAX = 6;

/**
 * The values of a TMS parameter block: a list of tag (1 byte), length (1 byte), value; numbers unsigned
 * big-endian, flags 0/1 in one byte, text UTF-8. Only the structure is checked here (a ParameterError
 * names the offset); the values go through resolveParameters with everything else.
 */
export function decodeParameterBlock(block: Uint8Array): Record<string, number | boolean | string> {
  if (block.length < 1 || block.length > PARAMETER_BLOCK_BYTES_MAX)
    throw new ParameterError("block", `must be 1 to ${PARAMETER_BLOCK_BYTES_MAX} bytes, got ${block.length}`);
  const values: Record<string, number | boolean | string> = {};
  let at = 0;
  while (at < block.length) {
    if (at + 2 > block.length) throw new ParameterError("block", `cut short at byte ${at}`);
    const tag = block[at];
    const length = block[at + 1];
    const start = at + 2;
    at = start + length;
    if (at > block.length) throw new ParameterError("block", `tag ${tag} at byte ${start - 2} runs past the block`);
    const p = PARAMETER_TABLE.find((s) => s.tag === tag);
    if (p === undefined) throw new ParameterError("block", `tag ${tag} at byte ${start - 2} is not a terminal parameter`);
    if (values[p.name] !== undefined) throw new ParameterError(p.name, "given twice");
    if (p.unit === "text") {
      try {
        values[p.name] = decodeUtf8(block, start, at);
      } catch {
        throw new ParameterError(p.name, "is not UTF-8 text");
      }
    } else {
      if (length < 1 || length > NUMBER_BYTES_MAX) throw new ParameterError(p.name, `a number of ${length} bytes`);
      let value = 0;
      for (let i = start; i < at; i++) value = value * 256 + block[i];
      values[p.name] = value; // a flag stays 0/1 here: resolveParameters refuses any other number
    }
  }
  return values;
}

/**
 * The block of `values` (names of the table; values of the parameter's type, any range the block carries:
 * the TMS may publish an out-of-range value, the terminal refuses it): tags in table order.
 */
export function encodeParameterBlock(values: Readonly<Record<string, number | boolean | string>>): Uint8Array {
  for (const name of Object.keys(values))
    if (!PARAMETER_TABLE.some((p) => p.name === name)) throw new ParameterError(name, "not a terminal parameter");
  const out = new Uint8Array(PARAMETER_BLOCK_BYTES_MAX);
  let at = 0;
  for (const p of PARAMETER_TABLE) {
    const value: unknown = values[p.name];
    if (value === undefined) continue;
    if ((p.unit === "text") !== (typeof value === "string") || (typeof value === "boolean" && p.unit !== "flag"))
      throw new ParameterError(p.name, `a ${p.unit} parameter cannot carry ${JSON.stringify(value)}`);
    const bytes =
      typeof value === "string" ? encodeUtf8(value) : numberBytes(typeof value === "boolean" ? (value ? 1 : 0) : (value as number));
    if (at + 2 + bytes.length > out.length) throw new ParameterError("block", `more than ${PARAMETER_BLOCK_BYTES_MAX} bytes`);
    out[at] = p.tag;
    out[at + 1] = bytes.length;
    out.set(bytes, at + 2);
    at += 2 + bytes.length;
  }
  if (at === 0) throw new ParameterError("block", "no parameter to send");
  return out.slice(0, at);
}

function numberBytes(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 48)
    throw new ParameterError("block", `${value} is not a 6-byte unsigned integer`);
  let length = 1;
  while (length < NUMBER_BYTES_MAX && value >= 2 ** (8 * length)) length++;
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}
