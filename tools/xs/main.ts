/**
 * `tools/xs/main.ts [FILES…]`: the XS half of `make test`. Without FILES it
 * runs every suite under tests/core. Prints one line per suite with its XS
 * meter figures, the failures in full, writes artifacts/xs-meter.json, and
 * ends with `N passed, N failed`. Exits 1 when a test fails or a suite cannot load.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT, runSuites, type SuiteResult } from "./suites";

function findSuites(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findSuites(full));
    else if (entry.name.endsWith(".test.ts")) found.push(full);
  }
  return found.sort();
}

function summarize(results: readonly SuiteResult[]): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const result of results) {
    const rel = path.relative(REPO_ROOT, result.file);
    const suitePassed = result.outcomes.filter((o) => o.status === "passed").length;
    const suiteFailed = result.outcomes.filter((o) => o.status === "failed").length + (result.loadError ? 1 : 0);
    // Skipped tests are printed, never silent: lint forbids committing .only/.skip, and a suite of skips checks nothing.
    const suiteSkipped = result.outcomes.filter((o) => o.status === "skipped").length;
    passed += suitePassed;
    failed += suiteFailed;
    // xsnap reserves its chunk memory up front, so its `allocate` figure does not move: heap slots are the memory figure.
    const meter = result.runMeter ? ` compute=${result.runMeter.compute} heapSlots=${result.runMeter.currentHeapCount}` : "";
    console.log(
      `${suiteFailed === 0 ? "PASS" : "FAIL"} xs ${rel} (${suitePassed} passed, ${suiteFailed} failed${suiteSkipped > 0 ? `, ${suiteSkipped} skipped` : ""})${meter}`,
    );
    if (result.loadError) console.log(`  ✗ suite did not load in XS: ${result.loadError}`);
    for (const outcome of result.outcomes) {
      if (outcome.status === "failed") console.log(`  ✗ ${outcome.name}\n    ${(outcome.error ?? "").split("\n").join("\n    ")}`);
    }
  }
  return { passed, failed };
}

const files =
  process.argv.slice(2).length > 0 ? process.argv.slice(2).map((f) => path.resolve(f)) : findSuites(path.join(REPO_ROOT, "tests/core"));
if (files.length === 0) {
  console.error("xs: no suites found");
  process.exit(1);
}
const results = await runSuites(files, os.availableParallelism());
const { passed, failed } = summarize(results);
fs.mkdirSync(path.join(REPO_ROOT, "artifacts"), { recursive: true });
fs.writeFileSync(
  path.join(REPO_ROOT, "artifacts/xs-meter.json"),
  JSON.stringify(
    results.map((r) => ({ suite: path.relative(REPO_ROOT, r.file), load: r.loadMeter, run: r.runMeter })),
    null,
    2,
  ),
);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
