/**
 * The XS test runtime (tests/xs/runtime.ts) must not report PASS where jest
 * would fail: each fixture under tests/fixtures/xs/parity runs under jest (a
 * child process) and in XS, and both must give the verdicts written here: a
 * suite with no tests or an empty `.each` table fails, `.only` focuses as
 * jest-circus does, `done` callbacks, and matchers on the cases where a
 * lenient runtime passed (toThrow on a non-function, cycles, Errors, Dates,
 * inherited properties). Test names in matchers.test.ts end with jest's verdict.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT, runSuite } from "../../../tools/xs/suites";

const PARITY_DIR = path.join(REPO_ROOT, "tests/fixtures/xs/parity");
type Status = "passed" | "failed" | "skipped";
interface Verdict {
  /** False when the suite as a whole fails (it cannot load, has no tests, or a test fails). */
  readonly suitePassed: boolean;
  /** Per test that ran or was skipped; a suite that fails before running reports none under jest. */
  readonly tests: Readonly<Record<string, Status>>;
}

interface JestJson {
  testResults: {
    name: string;
    status: "passed" | "failed";
    assertionResults: { ancestorTitles: string[]; title: string; status: "passed" | "failed" | "pending" | "todo" }[];
  }[];
}

/** One jest run over every parity fixture, with the repo's transform; a 1 s timeout so a never-called done fails fast. */
function runJest(): Map<string, Verdict> {
  const config = {
    rootDir: REPO_ROOT,
    roots: ["<rootDir>/tests/fixtures/xs/parity"],
    testMatch: ["**/*.test.ts"],
    testEnvironment: "node",
    extensionsToTreatAsEsm: [".ts"],
    transform: {
      "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "es6" } }],
    },
    moduleFileExtensions: ["ts", "js"],
    testTimeout: 1000,
  };
  const result = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, "node_modules/jest/bin/jest.js"), "--ci", "--json", "--config", JSON.stringify(config)],
    { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "--experimental-vm-modules" }, timeout: 120_000 },
  );
  const json = JSON.parse(result.stdout) as JestJson;
  const verdicts = new Map<string, Verdict>();
  for (const file of json.testResults) {
    const tests: Record<string, Status> = {};
    for (const a of file.assertionResults)
      tests[[...a.ancestorTitles, a.title].join(" › ")] = a.status === "pending" || a.status === "todo" ? "skipped" : a.status;
    verdicts.set(path.basename(file.name), { suitePassed: file.status === "passed", tests });
  }
  return verdicts;
}

async function runXs(fixture: string): Promise<Verdict> {
  const result = await runSuite(path.join(PARITY_DIR, fixture));
  const tests: Record<string, Status> = {};
  // Outcomes in parentheses are the runtime's own suite-level failures ("(suite)", "(definition)"), not tests.
  for (const o of result.outcomes) if (!o.name.startsWith("(")) tests[o.name] = o.status;
  return { suitePassed: result.loadError === undefined && result.outcomes.every((o) => o.status !== "failed"), tests };
}

/** The verdict a test's name states: "…: passes" / "…: fails" / "…: runs" / "…: skipped". */
function statedStatus(name: string): Status {
  const verdict = /: (passes|fails|runs|skipped)$/.exec(name)?.[1];
  if (verdict === undefined) throw new Error(`fixture test "${name}" does not state its verdict`);
  return verdict === "fails" ? "failed" : verdict === "skipped" ? "skipped" : "passed";
}

const EXPECTED_FOCUS = [
  "plain › a unfocused: skipped",
  "plain › b focused: runs",
  "focused describe › c inside describe.only: runs",
  "focused describe › inner › d inherits only: runs",
  "focused describe with a focused test › e unfocused beside test.only: skipped",
  "focused describe with a focused test › f focused: runs",
  "skipped describe › g focused in a skipped describe: skipped",
  "h unfocused at the top: skipped",
  "i skipped: skipped",
  "j todo: skipped",
];

describe("the XS test runtime agrees with jest", () => {
  let jest: Map<string, Verdict>;
  beforeAll(() => {
    jest = runJest();
  });

  test("a suite with no tests fails in both", async () => {
    const xs = await runSuite(path.join(PARITY_DIR, "no-tests.test.ts"));
    expect(xs.outcomes).toEqual([expect.objectContaining({ name: "(suite)", status: "failed", error: "the suite contains no tests" })]);
    expect(jest.get("no-tests.test.ts")?.suitePassed).toBe(false);
  });

  test("an empty .each table fails the suite in both", async () => {
    const xs = await runXs("each-empty.test.ts");
    expect(xs.suitePassed).toBe(false);
    expect(jest.get("each-empty.test.ts")?.suitePassed).toBe(false);
  });

  test("focus and skip resolve per test as jest-circus does", async () => {
    const xs = await runXs("focus.test.ts");
    const expected = Object.fromEntries(EXPECTED_FOCUS.map((name) => [name, statedStatus(name)]));
    expect(xs.tests).toEqual(expected);
    expect(jest.get("focus.test.ts")?.tests).toEqual(expected);
  });

  test.each(["done.test.ts", "matchers.test.ts"])("%s: every test gets the verdict its name states, in both", async (fixture) => {
    const xs = await runXs(fixture);
    const names = Object.keys(xs.tests);
    expect(names.length).toBeGreaterThanOrEqual(3);
    const expected = Object.fromEntries(names.map((name) => [name, statedStatus(name)]));
    expect(xs.tests).toEqual(expected);
    expect(jest.get(fixture)?.tests).toEqual(expected);
    expect(Object.values(expected)).toContain("failed");
    expect(Object.values(expected)).toContain("passed");
  });
});
