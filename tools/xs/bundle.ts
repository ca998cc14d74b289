/**
 * One way to turn TypeScript into a script the XS engine runs: esbuild, ES2022,
 * no platform assumptions. Used by the XS test run, the benchmarks and the
 * device checks, so they all measure the same kind of code.
 */
import { build, stop } from "esbuild";
import { assert } from "../../modules/base/assert";

/**
 * esbuild's service process is stopped when no bundling is under way. Left running (one per jest suite that imports
 * this), its child handles made Node's exit spin forever in Environment::CleanupHandles: a jest run printed every
 * result and then sat at 100 % CPU until CI stopped it.
 */
let bundlesInFlight = 0;

/** Runs `work` (which bundles with esbuild), then stops esbuild's service if nothing else is bundling. */
export async function withEsbuild<T>(work: () => Promise<T>): Promise<T> {
  bundlesInFlight++;
  try {
    return await work();
  } finally {
    bundlesInFlight--;
    assert(bundlesInFlight >= 0, "withEsbuild: more ends than starts");
    if (bundlesInFlight === 0) await stop();
  }
}

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
  const result = await withEsbuild(() =>
    build({
      stdin: { contents: options.contents, resolveDir: options.resolveDir, sourcefile: options.sourcefile, loader: "ts" },
      bundle: true,
      format: options.format ?? "iife",
      target: "es2022",
      platform: "neutral",
      mainFields: ["module", "main"],
      write: false,
      logLevel: "silent",
      charset: "utf8",
    }),
  );
  return result.outputFiles[0].text;
}
