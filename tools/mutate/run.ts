/**
 * Runs the mutants of ./mutants.ts. The repo's files (tracked and untracked,
 * not ignored) are copied once into a sandbox under the system temp directory,
 * with node_modules linked, so the working tree is never edited. Each mutant
 * is applied there, its suites run, and the file is restored:
 * - jest (a child process, `--json`): killed when a test fails; a suite that
 *   cannot run is an error, not a kill (a mutant that does not parse proves nothing);
 * - XS (in process, the sandbox's tools/xs/suites.ts): the suites under
 *   tests/core, only once jest killed it; a core mutant counts as killed only when XS kills it too.
 * Before any mutant the same suites run unmutated and must pass.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";
import type { Mutant } from "./mutants";

export type Verdict = "killed" | "survived" | "nodeOnly" | "error";

export interface MutantResult {
  readonly id: string;
  readonly rule: string;
  readonly verdict: Verdict;
  /** Failing tests under jest (their names), empty when it survived. */
  readonly jestFailures: readonly string[];
  /** Failing core suites' tests in XS; undefined when XS did not run (no core suite, or jest did not kill it). */
  readonly xsFailures?: readonly string[];
  readonly detail?: string;
  readonly seconds: number;
}

interface SuiteOutcome {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
}
interface XsSuites {
  runSuites(files: readonly string[], parallel: number): Promise<{ file: string; outcomes: readonly SuiteOutcome[]; loadError?: string }[]>;
}

const JEST_TIMEOUT_MS = 10 * 60 * 1000;
const MUTANTS_MAX = 200;

/** Copies the repo's files (git's view: tracked plus untracked, not ignored) into a fresh sandbox. */
export function makeSandbox(repoRoot: string): string {
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-mutate-"));
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" });
  for (const rel of listed.split("\0")) {
    if (rel === "" || rel.startsWith("node_modules/")) continue;
    const from = path.join(repoRoot, rel);
    if (!fs.existsSync(from) || !fs.statSync(from).isFile()) continue; // deleted in the working tree
    const to = path.join(sandbox, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(sandbox, "node_modules"), "dir");
  return sandbox;
}

/** Checks every edit names text found exactly once; returns the problem, or undefined. */
export function checkEdits(root: string, mutant: Mutant): string | undefined {
  const texts = new Map<string, string>();
  for (const edit of mutant.edits) {
    const file = path.join(root, edit.file);
    if (!fs.existsSync(file)) return `${edit.file} does not exist`;
    const text = texts.get(edit.file) ?? fs.readFileSync(file, "utf8");
    const count = text.split(edit.find).length - 1;
    if (count !== 1) return `${edit.file}: the text to mutate occurs ${count} times, not once: ${JSON.stringify(edit.find.slice(0, 80))}`;
    texts.set(
      edit.file,
      text.replace(edit.find, () => edit.replace),
    );
  }
  for (const suite of mutant.suites) if (!fs.existsSync(path.join(root, suite))) return `suite ${suite} does not exist`;
  return undefined;
}

/** Applies the mutant's edits; returns a function restoring the files. */
function apply(root: string, mutant: Mutant): () => void {
  const originals = new Map<string, string>();
  for (const edit of mutant.edits) {
    const file = path.join(root, edit.file);
    const text = fs.readFileSync(file, "utf8");
    if (!originals.has(file)) originals.set(file, text);
    fs.writeFileSync(
      file,
      text.replace(edit.find, () => edit.replace),
    );
  }
  return () => {
    for (const [file, text] of originals) fs.writeFileSync(file, text);
  };
}

interface JestRun {
  readonly failures: string[];
  /** Set when a suite could not run or jest gave no report. */
  readonly error?: string;
}

function runJest(root: string, suites: readonly string[]): Promise<JestRun> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(root, "node_modules/jest/bin/jest.js"), "--ci", "--json", "--silent", ...suites.map((s) => path.join(root, s))],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: "--experimental-vm-modules" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), JEST_TIMEOUT_MS);
    child.on("close", () => {
      clearTimeout(timer);
      let report: {
        testResults: { message: string; assertionResults: { fullName: string; status: string }[] }[];
        numRuntimeErrorTestSuites: number;
      };
      try {
        report = JSON.parse(stdout) as typeof report;
      } catch {
        return resolve({ failures: [], error: `jest gave no report: ${stderr.trim().split("\n").slice(-3).join(" | ")}` });
      }
      const failures = report.testResults.flatMap((r) => r.assertionResults.filter((a) => a.status === "failed").map((a) => a.fullName));
      const broken = report.testResults.filter((r) => r.assertionResults.length === 0 && r.message !== "");
      if (report.numRuntimeErrorTestSuites > 0 || broken.length > 0)
        return resolve({ failures, error: `a suite failed to run: ${(broken[0]?.message ?? "").trim().split("\n")[0]}` });
      resolve({ failures });
    });
  });
}

async function runXs(xs: XsSuites, root: string, suites: readonly string[]): Promise<{ failures: string[]; error?: string }> {
  const results = await xs.runSuites(
    suites.map((s) => path.join(root, s)),
    Math.max(1, Math.min(2, os.availableParallelism())),
  );
  const failures: string[] = [];
  for (const r of results) {
    if (r.loadError !== undefined) return { failures, error: `${path.relative(root, r.file)} did not load in XS: ${r.loadError}` };
    for (const o of r.outcomes) if (o.status === "failed") failures.push(`${path.relative(root, r.file)} › ${o.name}`);
  }
  return { failures };
}

const coreSuites = (suites: readonly string[]) => suites.filter((s) => s.startsWith("tests/core/"));

export interface RunOptions {
  readonly repoRoot: string;
  readonly mutants: readonly Mutant[];
  /** Called after each mutant. */
  readonly onResult?: (result: MutantResult) => void;
  /** Keep the sandbox (for a look at it); it is removed otherwise. */
  readonly keepSandbox?: boolean;
}

export interface RunSummary {
  /** Failures of the unmutated suites: when not empty, no mutant ran. */
  readonly baselineFailures: readonly string[];
  readonly results: readonly MutantResult[];
  readonly sandbox?: string;
}

export async function runMutants(options: RunOptions): Promise<RunSummary> {
  const { repoRoot, mutants } = options;
  if (mutants.length === 0 || mutants.length > MUTANTS_MAX)
    throw new Error(`mutate: expected 1 to ${MUTANTS_MAX} mutants, got ${mutants.length}`);
  for (const mutant of mutants) {
    const problem = checkEdits(repoRoot, mutant);
    if (problem !== undefined) throw new Error(`mutant ${mutant.id}: ${problem}`);
  }
  const sandbox = makeSandbox(repoRoot);
  try {
    const xs = (await import(pathToFileURL(path.join(sandbox, "tools/xs/suites.ts")).href)) as XsSuites;
    const allSuites = [...new Set(mutants.flatMap((m) => m.suites))].sort();
    const baseline = await runJest(sandbox, allSuites);
    const baselineXs = await runXs(xs, sandbox, coreSuites(allSuites));
    const baselineFailures = [
      ...baseline.failures,
      ...(baseline.error !== undefined ? [baseline.error] : []),
      ...baselineXs.failures.map((f) => `xs: ${f}`),
      ...(baselineXs.error !== undefined ? [`xs: ${baselineXs.error}`] : []),
    ];
    if (baselineFailures.length > 0) return { baselineFailures, results: [] };
    const results: MutantResult[] = [];
    for (const mutant of mutants) {
      const started = Date.now();
      const restore = apply(sandbox, mutant);
      let result: MutantResult;
      try {
        result = await judge(xs, sandbox, mutant, started);
      } finally {
        restore();
      }
      results.push(result);
      options.onResult?.(result);
    }
    return { baselineFailures: [], results, ...(options.keepSandbox ? { sandbox } : {}) };
  } finally {
    if (!options.keepSandbox) fs.rmSync(sandbox, { recursive: true, force: true });
  }
}

async function judge(xs: XsSuites, root: string, mutant: Mutant, started: number): Promise<MutantResult> {
  const base = { id: mutant.id, rule: mutant.rule };
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  const jest = await runJest(root, mutant.suites);
  if (jest.error !== undefined) return { ...base, verdict: "error", jestFailures: jest.failures, detail: jest.error, seconds: seconds() };
  if (jest.failures.length === 0) return { ...base, verdict: "survived", jestFailures: [], seconds: seconds() };
  const core = coreSuites(mutant.suites);
  const coreCode = mutant.edits.some((e) => e.file.startsWith("modules/"));
  if (core.length === 0 || !coreCode) return { ...base, verdict: "killed", jestFailures: jest.failures, seconds: seconds() };
  const inXs = await runXs(xs, root, core);
  if (inXs.error !== undefined)
    return { ...base, verdict: "error", jestFailures: jest.failures, xsFailures: inXs.failures, detail: inXs.error, seconds: seconds() };
  return {
    ...base,
    verdict: inXs.failures.length > 0 ? "killed" : "nodeOnly",
    jestFailures: jest.failures,
    xsFailures: inXs.failures,
    seconds: seconds(),
  };
}
