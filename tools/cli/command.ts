/**
 * The shape of an `xspos` subcommand and the errors that map to exit codes
 * (docs/contracts.md): bad usage or bad input exits 2 with one line on
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

/**
 * node:util parseArgs with its errors turned into one-line UsageErrors. A negative number after a
 * string option (`--seeds -1`) is taken as its value, so the option's own check names the problem
 * (parseArgs would refuse it as "ambiguous" in three lines).
 */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: T,
  allowPositionals = true,
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean; strict: true }>> {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    if (name !== undefined && options[name]?.type === "string" && i + 1 < args.length && /^-[0-9.]/.test(args[i + 1])) {
      joined.push(`${args[i]}=${args[i + 1]}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  try {
    return parseArgs({ args: joined, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(firstLine((error as Error).message));
  }
}

/** A message reduced to its first line: bad input gets one line on stderr. */
export function firstLine(text: string): string {
  const end = text.indexOf("\n");
  return end < 0 ? text : text.slice(0, end);
}

/** Reads an integer option, or throws UsageError naming it. */
export function integerOption(value: string | undefined, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}
