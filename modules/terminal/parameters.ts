/**
 * The terminal parameters, one table: name, unit, default, limits. NVS on the
 * device, scenario files, the simulator's command line and (later) the
 * acquirer's parameter download all go through `resolveParameters`, so a
 * value is checked in one place. Out-of-range values are refused as a whole,
 * with the parameter named.
 */

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
}

export type ParameterName = keyof TerminalParameters;

export interface ParameterSpec {
  readonly name: ParameterName;
  readonly unit: "ms" | "count" | "fen" | "flag";
  readonly defaultValue: number;
  readonly min: number;
  readonly max: number;
  /** Earlier names still read (with a deprecation note where they are documented). */
  readonly aliases?: readonly string[];
}

function spec(
  name: ParameterName,
  unit: ParameterSpec["unit"],
  defaultValue: number,
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
    ...(aliases !== undefined ? { aliases: Object.freeze(aliases.slice()) } : {}),
  });
}

export const PARAMETER_TABLE: readonly ParameterSpec[] = Object.freeze([
  spec("responseTimeoutMs", "ms", 60_000, 1, 600_000),
  spec("connectTimeoutMs", "ms", 10_000, 1, 600_000),
  spec("reversalAttempts", "count", 3, 1, 10, ["reversalRetries"]),
  spec("blockSalesWhileReversalFailed", "flag", 0, 0, 1),
  spec("amountMaxMinor", "fen", 10_000_000, 1, 99_999_999_999),
  spec("batchCountMax", "count", 999, 1, 999),
  spec("batchAmountMaxMinor", "fen", 999_999_999_999, 1, 999_999_999_999),
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
  const out: Record<string, number | boolean> = {};
  for (const p of PARAMETER_TABLE) {
    known.add(p.name);
    let raw = values[p.name];
    let given: string = p.name;
    for (const alias of p.aliases ?? []) {
      known.add(alias);
      if (raw === undefined && values[alias] !== undefined) [raw, given] = [values[alias], alias];
    }
    out[p.name] = p.unit === "flag" ? flag(p, given, raw) : number(p, given, raw);
  }
  for (const name of Object.keys(values)) if (!known.has(name)) throw new ParameterError(name, "not a terminal parameter");
  return Object.freeze(out) as unknown as TerminalParameters;
}

/** `given`: the name the value came under (an old alias is named back in the error). */
function number(p: ParameterSpec, given: string, raw: unknown): number {
  if (raw === undefined) return p.defaultValue;
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
