/**
 * StrykerJS over the rooms where a wrong line costs money (issue #20, docs/testing.md).
 * One room a run: STRYKER_ROOM=txn npx stryker run tests/mutation/stryker.config.mjs
 * (`make mutation` runs them all, one after another). Each room mutates its own files and runs only the
 * suites that exercise it, so a run is minutes; per-test coverage then runs only the tests that reach a mutant.
 * The incremental file of each room is committed: a run retests only the mutants whose code or tests changed.
 */
import fs from "node:fs";

/** The rooms: what each mutates and the suites that exercise it (shared with tools/mutate/stryker.ts). */
const ROOMS = JSON.parse(fs.readFileSync(new URL("./rooms.json", import.meta.url), "utf8"));
delete ROOMS["//"];

const room = process.env.STRYKER_ROOM;
if (room === undefined || !Object.hasOwn(ROOMS, room)) {
  throw new Error(`STRYKER_ROOM must name a room: ${Object.keys(ROOMS).join(", ")} (got ${room})`);
}
const { mutate, tests, timeoutMs = 10000 } = ROOMS[room];
// The codec's fast-check properties (tests/core/iso8583/properties.test.ts) run 30 cases instead of 150 for each
// mutant: the same seeds, so the same first cases. The test processes inherit this environment.
process.env.XSPOS_PROPERTY_RUNS ??= "30";

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "jest",
  // The suites are ESM (jest.config.js), as `make jest` runs them.
  testRunnerNodeArgs: ["--experimental-vm-modules"],
  jest: {
    projectType: "custom",
    configFile: "jest.config.js",
    config: { testMatch: tests.map((glob) => `<rootDir>/${glob}`) },
    // Off: jest's related-test search does not follow the engine through tools/scenario to modules/terminal, so it
    // found no test for engine.ts (every mutant "survived" having run nothing). Per-test coverage already picks the tests.
    enableFindRelatedTests: false,
  },
  coverageAnalysis: "perTest",
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  // swc strips types without checking them; the TypeScript checker above does the checking.
  disableTypeChecks: false,
  mutate,
  // The CPU is shared: one test process, one checker.
  concurrency: 1,
  // A mutant that loops is stopped after this plus 1.5 x its tests' dry-run time, and counts as killed.
  timeoutMS: timeoutMs,
  incremental: true,
  incrementalFile: `tests/mutation/${room}.incremental.json`,
  tempDirName: "var/stryker-tmp",
  // docs/ is left out but for its schemas, which the scenario runner validates files against.
  ignorePatterns: ["/var", "/artifacts", "/docs/*", "!/docs/schemas", "/coverage"],
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `artifacts/mutation/${room}/mutation.html` },
  jsonReporter: { fileName: `artifacts/mutation/${room}/mutation.json` },
  thresholds: { high: 90, low: 85, break: null },
  cleanTempDir: true,
};
