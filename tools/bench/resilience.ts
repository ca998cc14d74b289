/**
 * `xspos bench resilience [--seeds N] [--seed S] [--json] [--workers W]`: the
 * same seeded days of trading on an unstable network (tools/chaos/network-model.ts,
 * docs/resilience.md) under the reference reversal policy and the shipped one
 * (modules/txn/reversal-policy.ts). Per policy: reversals, 冲正失败 episodes
 * shown, reversals lost and reversals that took effect twice (the chaos ledger
 * oracle; both must be 0), time from trigger to resolution, messages sent.
 * With --json the last line is `{"policies":{"reference":{…},"xspos":{…}},…}`.
 */
import type { Benchmark } from "../cli/commands/bench";
import { integerOption, parseOptions, UsageError } from "../cli/command";
import { percentile, type PolicyName, type PolicyTotals } from "../chaos/days";
import { runDaysParallel, WORKERS_DEFAULT } from "../chaos/parallel";

const SEEDS_DEFAULT = 100;
const SEEDS_MAX = 1_000_000;
const POLICY_ORDER: readonly PolicyName[] = Object.freeze(["reference", "xspos"]);

export interface PolicyFigures {
  readonly reversals: number;
  readonly failed: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly resolveMsP50: number | null;
  readonly resolveMsP99: number | null;
  readonly resolveMsMax: number | null;
  readonly resolved: number;
  readonly unresolved: number;
  readonly owedAtClosing: number;
  readonly messages: number;
  readonly reversalMessages: number;
  readonly transactions: number;
  readonly refused: number;
  readonly customersLost: number;
  readonly violations: number;
}

function figuresOf(t: PolicyTotals): PolicyFigures {
  const max = t.resolveMs.reduce((m, v) => Math.max(m, v), -1);
  return {
    reversals: t.reversals,
    failed: t.failed,
    lost: t.lost,
    duplicated: t.duplicated,
    resolveMsP50: percentile(t.resolveMs, 0.5) ?? null,
    resolveMsP99: percentile(t.resolveMs, 0.99) ?? null,
    resolveMsMax: max < 0 ? null : max,
    resolved: t.resolveMs.length,
    unresolved: t.unresolved,
    owedAtClosing: t.owedAtClosing,
    messages: t.messages,
    reversalMessages: t.reversalMessages,
    transactions: t.transactions,
    refused: t.refused,
    customersLost: t.customersLost,
    violations: t.violations,
  };
}

function seconds(ms: number | null): string {
  return ms === null ? "-" : `${(ms / 1000).toFixed(1)} s`;
}

export const benchmark: Benchmark = {
  summary:
    "reversal policies (reference vs shipped) over seeded trading days on an unstable network: 冲正失败, time to resolution, lost/doubled",
  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      { seeds: { type: "string" }, seed: { type: "string" }, json: { type: "boolean" }, workers: { type: "string" } },
      false,
    );
    if (positionals.length > 0)
      throw new UsageError(`bench resilience takes no positional arguments, got ${JSON.stringify(positionals[0])}`);
    const seeds = integerOption(values.seeds, "seeds", SEEDS_DEFAULT, 1, SEEDS_MAX);
    const from = integerOption(values.seed, "seed", 0, 0, Number.MAX_SAFE_INTEGER - SEEDS_MAX);
    const workers = integerOption(values.workers, "workers", WORKERS_DEFAULT, 1, 16);
    const startedMs = performance.now();
    const totals = await runDaysParallel({ from, seeds }, POLICY_ORDER, workers);
    const elapsedS = (performance.now() - startedMs) / 1000;
    const policies: Record<string, PolicyFigures> = {};
    for (const name of POLICY_ORDER) policies[name] = figuresOf(totals.policies[name]);
    const n = totals.network;
    console.log(
      `${seeds} trading days (seeds ${from}–${from + seeds - 1}), ${elapsedS.toFixed(1)} s; network: ${n.outages} outages ` +
        `(<1 s ${n.outagesUnder1s}, 1–10 s ${n.outages1to10s}, 10–60 s ${n.outages10to60s}, ≥60 s ${n.outagesOver60s}; ` +
        `${n.linkLosses} lost links, longest ${seconds(n.longestOutageMs)}), ${n.refusedConnects} connects refused, ${n.slowAnswers} answers over 10 s`,
    );
    console.log(
      "policy     reversals  冲正失败  lost  doubled  p50       p99       max       unresolved  owed at closing  messages  0400s  refused",
    );
    for (const name of POLICY_ORDER) {
      const f = policies[name];
      console.log(
        `${name.padEnd(10)} ${String(f.reversals).padStart(9)}  ${String(f.failed).padStart(8)}  ${String(f.lost).padStart(4)}  ${String(f.duplicated).padStart(7)}  ` +
          `${seconds(f.resolveMsP50).padEnd(8)}  ${seconds(f.resolveMsP99).padEnd(8)}  ${seconds(f.resolveMsMax).padEnd(8)}  ${String(f.unresolved).padStart(10)}  ${String(f.owedAtClosing).padStart(15)}  ` +
          `${String(f.messages).padStart(8)}  ${String(f.reversalMessages).padStart(5)}  ${String(f.refused).padStart(7)}`,
      );
      for (const failure of totals.policies[name].failures) console.log(`  violation: ${failure}`);
    }
    return { policies, seeds, from, network: n };
  },
};
