/**
 * The shape of an `xspos` subcommand and the errors that map to exit codes
 * (shared/contracts.md): bad usage or bad input exits 2 with one line on
 * stderr; anything else is an internal failure and exits 1.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

export interface Command {
  /** One line for `xspos help`. */
  readonly summary: string;
  /** Usage lines, shown by `xspos help NAME`. */
  readonly usage: readonly string[];
  /** Returns the process exit code. */
  run(args: readonly string[]): Promise<number> | number;
}

/** Wrong arguments, or input that is not valid: exit 2, one line on stderr. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** node:util parseArgs with its errors turned into UsageError. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: T,
  allowPositionals = true,
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Reads an integer option, or throws UsageError naming it. */
export function integerOption(value: string | undefined, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}
