/**
 * The mutant list of `tools/xspos mutate` stays applicable as the code moves:
 * every edit still names text found exactly once, every suite exists, names
 * are unique. (Running the mutants is `make mutation`, part of `make test`.)
 */
import { MUTANTS } from "../../../tools/mutate/mutants";
import { checkEdits } from "../../../tools/mutate/run";
import { REPO_ROOT } from "../../../tools/xs/suites";

describe("mutants", () => {
  test("ids are unique kebab-case names and every mutant breaks one documented rule", () => {
    const ids = MUTANTS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of MUTANTS) {
      expect(m.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(m.rule.length).toBeGreaterThan(10);
      expect(m.edits.length).toBeGreaterThanOrEqual(1);
      expect(m.suites.length).toBeGreaterThanOrEqual(1);
    }
    expect(ids.length).toBeGreaterThanOrEqual(20);
  });

  test.each(MUTANTS.map((m) => [m.id, m] as const))("%s applies to today's code", (_id, mutant) => {
    expect(checkEdits(REPO_ROOT, mutant)).toBeUndefined();
  });

  test("an edit that no longer matches, or matches twice, is refused by name", () => {
    const base = MUTANTS[0];
    const edit = { file: "modules/platform/log.ts", replace: "" };
    expect(checkEdits(REPO_ROOT, { ...base, edits: [{ ...edit, find: "no such text anywhere" }] })).toMatch(/occurs 0 times/);
    expect(checkEdits(REPO_ROOT, { ...base, edits: [{ ...edit, find: "export function" }] })).toMatch(/occurs [2-9]\d* times/);
    expect(checkEdits(REPO_ROOT, { ...base, suites: ["tests/core/none.test.ts"] })).toMatch(/does not exist/);
  });
});
