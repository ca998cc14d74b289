/**
 * Each invariant of the chaos oracle catches a bug planted on purpose
 * (tools/chaos/planted-bugs.ts): some seed among the first ones shows a
 * violation of that invariant with the bug, and the same seed without it
 * shows none of that invariant.
 */
import { PLANTED_BUGS } from "../../../tools/chaos/planted-bugs";
import { runSeed } from "../../../tools/chaos/run";

/** Seeds tried per bug before the test gives up. */
const SEEDS_MAX = 150;

describe("planted bugs", () => {
  test.each(PLANTED_BUGS.map((bug) => [bug.name, bug] as const))("%s is caught", (_name, bug) => {
    let caught: { seed: number; detail: string } | undefined;
    for (let seed = 0; seed < SEEDS_MAX && caught === undefined; seed++) {
      const violation = runSeed(seed, { hooks: bug.hooks() }).violations.find((v) => v.invariant === bug.invariant);
      if (violation !== undefined) caught = { seed, detail: violation.detail };
    }
    expect(caught).toBeDefined();
    const clean = runSeed(caught!.seed).violations.filter((v) => v.invariant === bug.invariant);
    expect(clean).toEqual([]);
  });
});
