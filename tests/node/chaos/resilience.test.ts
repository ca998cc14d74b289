/**
 * `tools/xspos bench resilience` (issue 17) and the unstable network model it
 * runs: the JSON line's shape, nothing lost or doubled under either policy,
 * seeds that replay exactly, and the model's outages as documented
 * (docs/resilience.md).
 */
import { spawnSync } from "node:child_process";
import { EmulatedNetwork } from "../../../modules/emulators/network";
import { VirtualClock } from "../../../modules/platform/virtual-clock";
import { REFERENCE_POLICY, XSPOS_POLICY } from "../../../modules/txn/reversal-policy";
import { runDays } from "../../../tools/chaos/days";
import { NetworkModel, UNSTABLE_NETWORK } from "../../../tools/chaos/network-model";
import { runTradingDay } from "../../../tools/chaos/trading-day";

const SEEDS = 6;

function bench(...args: string[]) {
  const run = spawnSync("tools/xspos", ["bench", "resilience", ...args], { encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, last: run.stdout.trim().split("\n").pop() ?? "" };
}

describe("tools/xspos bench resilience", () => {
  let summary: { policies: Record<string, Record<string, unknown>>; seeds: number };
  beforeAll(() => {
    const run = bench("--seeds", String(SEEDS), "--json");
    expect(run.status).toBe(0);
    summary = JSON.parse(run.last) as typeof summary;
  });

  test("--json: the last line holds both policies with the issue's figures", () => {
    expect(Object.keys(summary.policies)).toEqual(["reference", "xspos"]);
    for (const figures of Object.values(summary.policies)) {
      for (const key of ["reversals", "failed", "lost", "duplicated", "messages", "unresolved", "violations"])
        expect(Number.isInteger(figures[key])).toBe(true);
      for (const key of ["resolveMsP50", "resolveMsP99", "resolveMsMax"])
        expect(figures[key] === null || (typeof figures[key] === "number" && (figures[key] as number) >= 0)).toBe(true);
      expect(figures.messages as number).toBeGreaterThan(0);
    }
    expect(summary.seeds).toBe(SEEDS);
  });

  test("no reversal lost or doubled, no oracle violation, under either policy", () => {
    for (const figures of Object.values(summary.policies)) expect(figures).toMatchObject({ lost: 0, duplicated: 0, violations: 0 });
  });

  test("two worker threads give the figures of one thread", () => {
    const inProcess = runDays({ from: 0, seeds: SEEDS }, ["reference", "xspos"]);
    for (const name of ["reference", "xspos"]) {
      const t = inProcess.policies[name];
      expect(summary.policies[name]).toMatchObject({
        reversals: t.reversals,
        failed: t.failed,
        messages: t.messages,
        resolved: t.resolveMs.length,
      });
    }
    expect(inProcess.policies.reference.reversals).toBeGreaterThan(0);
  });

  test("a seed's day replays exactly, event for event", () => {
    for (const reversalPolicy of [REFERENCE_POLICY, XSPOS_POLICY]) {
      const a = runTradingDay(4, { reversalPolicy, keepEvents: true });
      const b = runTradingDay(4, { reversalPolicy, keepEvents: true });
      expect(a.events.length).toBeGreaterThan(100);
      expect(b).toEqual(a);
    }
  });

  test.each([[["--seeds", "0"]], [["--seeds", "x"]], [["--seed", "-1"]], [["extra"]]])("bad input %j: usage error", (args) => {
    const run = bench(...args);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--seeds|--seed|positional/);
  });
});

describe("the unstable network model", () => {
  function world(seed: number) {
    const clock = new VirtualClock({ timersMax: 64 });
    const network = new EmulatedNetwork({ clock, accept: () => ({ onData() {}, onClosed() {} }) });
    const model = new NetworkModel({ seed, clock, network });
    return { clock, network, model };
  }

  test("outages are heavy-tailed within their bounds: mostly blips, some seconds, a few minutes; the link is down ~2 % of the time", () => {
    const { clock, model } = world(1);
    model.start();
    const hours = 200;
    for (let h = 0; h < hours; h++) clock.advance(60 * 60 * 1000);
    const s = model.stats;
    expect(s.outages).toBeGreaterThan(7_000);
    expect(s.outagesUnder1s / s.outages).toBeGreaterThan(0.75);
    expect(s.outagesUnder1s / s.outages).toBeLessThan(0.85);
    expect(s.outages1to10s / s.outages).toBeGreaterThan(0.15);
    expect(s.outagesOver60s).toBeGreaterThan(0);
    expect(s.outagesOver60s / s.outages).toBeLessThan(0.01);
    expect(s.longestOutageMs).toBeLessThanOrEqual(UNSTABLE_NETWORK.outageMaxMs);
    expect(s.linkLosses / s.outages).toBeGreaterThan(0.55);
    expect(s.linkLosses / s.outages).toBeLessThan(0.65);
    const downShare = s.downMs / (hours * 60 * 60 * 1000);
    expect(downShare).toBeGreaterThan(0.005);
    expect(downShare).toBeLessThan(0.05);
  });

  test("the same seed gives the same timeline", () => {
    const runs = [world(9), world(9)].map(({ clock, model }) => {
      model.start();
      clock.advance(10 * 60 * 60 * 1000);
      return { ...model.stats };
    });
    expect(runs[1]).toEqual(runs[0]);
  });

  test("a lost link resets open connections and refuses connects at once; stop brings the link back for good", () => {
    const w = world(3);
    w.model.start();
    const closed: string[] = [];
    w.network.connect({ host: "h", port: 1 }, { onConnected() {}, onData() {}, onClosed: (f) => closed.push(f) });
    // Run until the first lost link (outages last 200 ms at least: it is still on after the step that saw it begin).
    for (let i = 0; i < 10_000 && w.model.stats.linkLosses === 0; i++) w.clock.advance(100);
    expect(w.model.stats.linkLosses).toBe(1);
    expect(w.model.bad).toBe(true);
    expect(closed).toEqual(["reset"]);
    const refused: string[] = [];
    w.network.connect({ host: "h", port: 1 }, { onConnected() {}, onData() {}, onClosed: (f) => refused.push(f) });
    w.clock.advance(1_000);
    expect(refused).toEqual(["refused"]);
    w.model.stop();
    let connected = false;
    w.network.connect({ host: "h", port: 1 }, { onConnected: () => (connected = true), onData() {}, onClosed() {} });
    w.clock.advance(60 * 60 * 1000);
    expect(connected).toBe(true);
    expect(w.model.bad).toBe(false);
  });
});
