/**
 * `tools/xspos chaos` (docs/contracts.md "Chaos"): the JSON summary, exit
 * codes, determinism across runs and worker splits, and the run's findings.
 */
import { spawnSync } from "node:child_process";
import { runRange } from "../../../tools/chaos/range";
import { runDigest, type ChaosTotals } from "../../../tools/chaos/report";
import { runSeed } from "../../../tools/chaos/run";

function xspos(...args: string[]) {
  const run = spawnSync("tools/xspos", ["chaos", ...args], { encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, last: run.stdout.trim().split("\n").pop() ?? "" };
}

/** Seeds searched for a refund whose answer comes after its deadline. */
const LATE_REFUND_SEEDS_MAX = 400;

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

  test("--digest: every seed's outcome and events hashed, the same in one worker, two, and this thread", () => {
    const inThread = runDigest(runRange({ from: 500, seeds: 120, digest: true }));
    expect(inThread).toMatch(/^[0-9a-f]{64}$/);
    for (const workers of ["1", "2"]) {
      const summary = JSON.parse(xspos("--from", "500", "--seeds", "120", "--digest", "--json", "--workers", workers).last) as {
        digest: string;
      };
      expect(summary.digest).toBe(inThread);
    }
    // Another range, another digest.
    expect(runDigest(runRange({ from: 620, seeds: 1, digest: true }))).not.toBe(inThread);
  });

  test("200 seeds: 0 violations", () => {
    expect(inProcess.failures).toEqual([]);
    expect(inProcess.violations).toBe(0);
  });

  test("the lost-refund finding (first seen at seed 30): a refund whose answer comes late is reversed, and host and terminal agree", () => {
    // The first seed whose world has a refund answered after its deadline (the seeds' worlds move as the terminal changes).
    for (let seed = 0; seed < LATE_REFUND_SEEDS_MAX; seed++) {
      const { events, violations } = runSeed(seed);
      const late = events.find((e) => e.ev === "recv" && e.mti === "0230" && e.reason === "late");
      if (late === undefined) continue;
      const refund = events
        .filter((e) => e.stan === late.stan && e.ev !== "slip")
        .map((e) => [e.ev, e.mti ?? e.state ?? e.outcome, e.f39, e.reason]);
      expect(refund.slice(0, 3)).toEqual([
        ["journal", "armed", undefined, undefined],
        ["send", "0220", undefined, undefined],
        ["journal", "reversalDue", undefined, "98"],
      ]);
      expect(refund).toContainEqual(["send", "0400", "98", undefined]);
      expect(refund).toContainEqual(["journal", "reversed", undefined, undefined]);
      expect(refund).not.toContainEqual(["journal", "completed", undefined, undefined]);
      expect(violations).toEqual([]);
      return;
    }
    throw new Error(`no seed below ${LATE_REFUND_SEEDS_MAX} answers a refund late`);
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

describe("tools/xspos bench chaos", () => {
  function bench(...args: string[]) {
    const run = spawnSync("tools/xspos", ["bench", "chaos", ...args], { encoding: "utf8" });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, last: run.stdout.trim().split("\n").pop() ?? "" };
  }

  test("--profile --json: time per seed, the same digest as the seeds run here, and where the time went", () => {
    const run = bench("--seed", "40", "--seeds", "30", "--warmup", "5", "--profile", "--json");
    expect(run.status).toBe(0);
    const figures = JSON.parse(run.last) as Record<string, unknown> & { timeBySource: Record<string, number> };
    expect(figures).toMatchObject({ seeds: 30, from: 40, warmupSeeds: 5, violations: 0 });
    expect(figures.digest).toBe(runDigest(runRange({ from: 40, seeds: 30, digest: true })));
    for (const key of ["cpuMsPerSeed", "wallMsPerSeed", "seedsPerSecondPerCore", "transactions", "reversals"])
      expect(figures[key] as number).toBeGreaterThan(0);
    const shares = figures.timeBySource;
    // The firmware's own rooms, the emulated hardware and the simulated world each took samples; the shares add up to all of them.
    for (const source of ["core:txn", "core:iso8583", "core:journal", "emulators", "world:chaos", "world:host"])
      expect(shares[source]).toBeGreaterThan(0);
    expect(Object.keys(shares).every((name) => /^(core:|world:)[a-z0-9-]+$|^(emulators|node|gc)$/.test(name))).toBe(true);
    expect(Object.values(shares).reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 2);
    expect(run.stdout).toMatch(/where the time goes .* firmware core \d+\.\d %/);
  });

  test.each([[["--seeds", "0"]], [["--warmup", "-1"]], [["--seed", "x"]], [["extra"]]])("bad input %j: usage error", (args) => {
    const run = bench(...args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--seeds|--warmup|--seed|positional/);
  });
});
