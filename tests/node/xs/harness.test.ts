/**
 * The XS harness must be able to fail: a suite that leans on something an
 * mcconfig device build lacks (timers, TextEncoder, Node's Buffer) fails in XS
 * even though the same suite passes under jest in Node.
 */
import path from "node:path";
import { REPO_ROOT, runSuite } from "../../../tools/xs/suites";

const fixture = (name: string): string => path.join(REPO_ROOT, "tests/fixtures/xs", name);

describe("XS harness", () => {
  test("a passing suite reports its tests and XS meter figures", async () => {
    const result = await runSuite(fixture("passes.test.ts"));
    expect(result.loadError).toBeUndefined();
    expect(result.outcomes.map((o) => o.status)).toEqual(["passed", "passed"]);
    expect(result.runMeter?.compute).toBeGreaterThan(0);
  });

  test("a suite using TextEncoder fails in XS", async () => {
    const result = await runSuite(fixture("uses-text-encoder.test.ts"));
    expect(result.outcomes.filter((o) => o.status === "failed").map((o) => o.error)).toEqual([expect.stringContaining("TextEncoder")]);
  });

  test("a suite using Buffer at load time does not load in XS", async () => {
    const result = await runSuite(fixture("uses-buffer.test.ts"));
    expect(result.loadError).toMatch(/Buffer/);
  });

  test("a test awaiting a timer that XS never fires is reported, not hung", async () => {
    const result = await runSuite(fixture("awaits-forever.test.ts"));
    expect(result.outcomes.some((o) => o.status === "failed" && (o.error ?? "").includes("never settled"))).toBe(true);
  });

  test("a failing expectation is reported with its message", async () => {
    const result = await runSuite(fixture("fails.test.ts"));
    expect(result.outcomes).toEqual([expect.objectContaining({ status: "failed", error: expect.stringContaining("to equal") })]);
  });
});
