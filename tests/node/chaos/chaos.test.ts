/**
 * `tools/xspos chaos` (shared/contracts.md "Chaos"): the JSON summary, exit
 * codes, determinism across runs and worker splits, and the run's findings.
 */
import { spawnSync } from "node:child_process";
import { runRange } from "../../../tools/chaos/range";
import type { ChaosTotals } from "../../../tools/chaos/report";
import { runSeed } from "../../../tools/chaos/run";

function xspos(...args: string[]) {
  const run = spawnSync("tools/xspos", ["chaos", ...args], { encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, last: run.stdout.trim().split("\n").pop() ?? "" };
}

/**
 * The one finding open in someone else's code (docs/chaos.md "Findings"): a
 * refund whose answer is lost stands at the host and is missing from the
 * terminal's log (refunds are not reversed and nothing repeats them).
 */
const LOST_REFUND = /^host refund [0-9]{6}\/[0-9]{6} of [0-9]+ stands, the terminal log lacks it \(found at quiescence\)$/;

describe("tools/xspos chaos", () => {
  let inProcess: ChaosTotals;
  beforeAll(() => {
    inProcess = runRange({ from: 0, seeds: 200 });
  });

  test("--seeds 200 --json: the contract's summary on the last line, equal to the same seeds in one thread", () => {
    const run = xspos("--seeds", "200", "--json");
    const summary = JSON.parse(run.last) as Record<string, unknown>;
    expect(Object.keys(summary)).toEqual(["seeds", "violations", "faults", "transactions", "reversals", "seedsPerSecond", "invariants"]);
    expect(summary.seeds).toBe(200);
    expect(summary.reversals as number).toBeGreaterThan(0);
    expect(summary.seedsPerSecond as number).toBeGreaterThan(0);
    const faults = summary.faults as Record<string, number>;
    for (const kind of [
      "flash:cutInside",
      "drop:toServer",
      "drop:toTerminal",
      "delay:atDeadline",
      "hostRestart",
      "badMac",
      "refuseConnection",
    ])
      expect(faults[kind]).toBeGreaterThan(0);
    const { seeds, violations, transactions, reversals, invariants } = inProcess;
    expect(summary).toMatchObject({ seeds, violations, transactions, reversals, faults: inProcess.faults, invariants });
    expect(run.status).toBe(summary.violations === 0 ? 0 : 1);
  });

  test("200 seeds: every violation found is the open lost-refund finding", () => {
    for (const failure of inProcess.failures) expect(failure.detail).toMatch(LOST_REFUND);
  });

  test.failing("200 seeds: 0 violations (fails until the lost-refund finding is fixed; then make this a plain test)", () => {
    expect(inProcess.violations).toBe(0);
  });

  test("a seed replays exactly", () => {
    expect(runSeed(17).events).toEqual(runSeed(17).events);
  });

  test("--trace prints every event of the seed as JSON lines", () => {
    const run = xspos("--seeds", "1", "--from", "3", "--trace");
    const events = run.stdout
      .trim()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { seed: number; ev: string });
    expect(events[0]).toMatchObject({ seed: 3, ev: "power" });
    expect(events.some((e) => e.ev === "send")).toBe(true);
  });

  test.each([[["--seeds", "0"]], [["--seeds", "x"]], [[]], [["--seeds", "5", "extra"]], [["--seeds", "500", "--trace"]]])(
    "bad usage %j exits 2 with one line",
    (args) => {
      const run = xspos(...args);
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    },
  );
});
