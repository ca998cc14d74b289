/**
 * Runs core test suites inside XS: each suite is bundled (esbuild) behind the
 * jest-compatible runtime in tests/xs/runtime.ts, then evaluated in its own
 * fresh xsnap worker. A suite that cannot load counts as a failure.
 */
import { bundleForXs } from "./bundle";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { XsWorker, type XsMeter } from "./worker";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RUNTIME = path.join(REPO_ROOT, "tests/xs/runtime.ts");

export interface TestOutcome {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly error?: string;
}

export interface SuiteResult {
  readonly file: string;
  readonly outcomes: readonly TestOutcome[];
  /** Set when the suite could not be bundled or loaded. */
  readonly loadError?: string;
  /** Meter of loading the suite (module bodies) and of running its tests. */
  readonly loadMeter?: XsMeter;
  readonly runMeter?: XsMeter;
}

/** Bundles `file` behind the XS test runtime into one classic script. */
export async function bundleSuite(file: string): Promise<string> {
  const result = await bundleForXs({
    contents: `import ${JSON.stringify(RUNTIME)};\nimport ${JSON.stringify(path.resolve(file))};\n`,
    resolveDir: REPO_ROOT,
    sourcefile: "xs-suite-entry.ts",
  });
  return result;
}

export async function runSuite(file: string): Promise<SuiteResult> {
  let code: string;
  try {
    code = await bundleSuite(file);
  } catch (error) {
    return { file, outcomes: [], loadError: `bundle failed: ${(error as Error).message}` };
  }
  let report: TestOutcome[] | undefined;
  const worker = new XsWorker((message) => {
    report = JSON.parse(Buffer.from(message).toString()) as TestOutcome[];
    return new Uint8Array(0);
  });
  try {
    const load = await worker.evaluate(code);
    const run = await worker.evaluate("__xsposRun()");
    await worker.evaluate("__xsposReport()");
    if (report === undefined) return { file, outcomes: [], loadError: "the suite did not report" };
    return {
      file,
      outcomes: report,
      loadMeter: load.meter,
      runMeter: run.meter,
    };
  } catch (error) {
    return { file, outcomes: report ?? [], loadError: (error as Error).message };
  } finally {
    worker.close();
  }
}

/** Runs suites `parallel` at a time; results keep the order of `files`. */
export async function runSuites(files: readonly string[], parallel: number): Promise<SuiteResult[]> {
  const results: SuiteResult[] = new Array(files.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, parallel) }, async () => {
    while (next < files.length) {
      const index = next++;
      results[index] = await runSuite(files[index]);
    }
  });
  await Promise.all(lanes);
  return results;
}
