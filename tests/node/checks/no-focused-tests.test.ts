/**
 * Lint refuses a committed focused or disabled test (eslint.config.js): a
 * `.only` skips every other test of its suite, a `.skip` checks nothing, and
 * both pass silently in CI.
 */
import { ESLint } from "eslint";
import path from "node:path";
import { REPO_ROOT } from "../../../tools/xs/suites";

const eslint = new ESLint({ cwd: REPO_ROOT });
const SUITE = path.join(REPO_ROOT, "tests/core/txn/focused.test.ts");

async function ruleIds(code: string): Promise<(string | null)[]> {
  const [result] = await eslint.lintText(code, { filePath: SUITE });
  return result.messages.map((m) => m.ruleId);
}

describe("lint forbids committed focused and disabled tests", () => {
  test.each([
    ['test.only("a", () => expect(1).toBe(1));\n', "no-restricted-properties"],
    ['it.skip("a", () => expect(1).toBe(1));\n', "no-restricted-properties"],
    ['describe.only("a", () => {});\n', "no-restricted-properties"],
    ['describe.skip("a", () => {});\n', "no-restricted-properties"],
    ['test.only.each([1])("a %d", (n) => expect(n).toBe(1));\n', "no-restricted-properties"],
    ['fit("a", () => expect(1).toBe(1));\n', "no-restricted-globals"],
    ['xdescribe("a", () => {});\n', "no-restricted-globals"],
  ])("%j is refused", async (code, rule) => {
    expect(await ruleIds(code)).toContain(rule);
  });

  test("a plain test and test.each lint clean", async () => {
    expect(await ruleIds('test("a", () => expect(1).toBe(1));\ntest.each([1])("b %d", (n) => expect(n).toBe(1));\n')).toEqual([]);
  });
});
