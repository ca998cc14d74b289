/**
 * One way to turn TypeScript into a script the XS engine runs: esbuild, ES2022,
 * no platform assumptions. Used by the XS test run, the benchmarks and the
 * device checks, so they all measure the same kind of code.
 */
import { build } from "esbuild";

export interface XsBundleOptions {
  /** TypeScript source of the entry (usually imports plus a few globals for the host to call). */
  readonly contents: string;
  /** Directory relative imports of `contents` resolve against. */
  readonly resolveDir: string;
  /** Name of the entry in error messages. */
  readonly sourcefile: string;
  /** `iife` (default) for a classic script; `esm` for a module. */
  readonly format?: "iife" | "esm";
}

export async function bundleForXs(options: XsBundleOptions): Promise<string> {
  const result = await build({
    stdin: { contents: options.contents, resolveDir: options.resolveDir, sourcefile: options.sourcefile, loader: "ts" },
    bundle: true,
    format: options.format ?? "iife",
    target: "es2022",
    platform: "neutral",
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent",
    charset: "utf8",
  });
  return result.outputFiles[0].text;
}
