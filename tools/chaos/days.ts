/**
 * Many seeded trading days under each reversal policy (tools/chaos/trading-day.ts),
 * summed per policy in seed order, so any split across worker threads gives
 * the same totals. Used by `tools/xspos bench resilience`.
 */
import { REFERENCE_POLICY, XSPOS_POLICY, type ReversalPolicy } from "../../modules/txn/reversal-policy";
import { emptyNetworkStats, type NetworkModelStats } from "./network-model";
import type { RangeRequest } from "./range";
import { runTradingDay } from "./trading-day";

export type PolicyName = ReversalPolicy["name"];
export const POLICIES: Readonly<Record<PolicyName, ReversalPolicy>> = Object.freeze({ reference: REFERENCE_POLICY, xspos: XSPOS_POLICY });

export interface PolicyTotals {
  days: number;
  reversals: number;
  failed: number;
  lost: number;
  duplicated: number;
  /** Oracle violations of any invariant. */
  violations: number;
  /** Trigger to resolution of every record resolved within its day, in seed order. */
  resolveMs: number[];
  unresolved: number;
  owedAtClosing: number;
  messages: number;
  reversalMessages: number;
  transactions: number;
  refused: number;
  customersLost: number;
  /** The first violations, with their seeds (replay: the seed's day under this policy). */
  failures: string[];
}

export interface DaysTotals {
  from: number;
  seeds: number;
  policies: Record<string, PolicyTotals>;
  /** The network the days met (the same for every policy: the outage timeline is the seed's alone). */
  network: NetworkModelStats;
}

const FAILURES_KEPT = 10;

function emptyPolicy(): PolicyTotals {
  return {
    days: 0,
    reversals: 0,
    failed: 0,
    lost: 0,
    duplicated: 0,
    violations: 0,
    resolveMs: [],
    unresolved: 0,
    owedAtClosing: 0,
    messages: 0,
    reversalMessages: 0,
    transactions: 0,
    refused: 0,
    customersLost: 0,
    failures: [],
  };
}

export function runDays(request: RangeRequest, policies: readonly PolicyName[]): DaysTotals {
  const totals: DaysTotals = { from: request.from, seeds: request.seeds, policies: {}, network: emptyNetworkStats() };
  for (const name of policies) totals.policies[name] = emptyPolicy();
  for (let seed = request.from; seed < request.from + request.seeds; seed++)
    policies.forEach((name, index) => {
      const day = runTradingDay(seed, { reversalPolicy: POLICIES[name] });
      const t = totals.policies[name];
      t.days++;
      t.reversals += day.reversals;
      t.failed += day.failed;
      t.lost += day.lost;
      t.duplicated += day.duplicated;
      t.violations += day.violations.length;
      t.resolveMs.push(...day.resolveMs);
      t.unresolved += day.unresolved;
      t.owedAtClosing += day.owedAtClosing;
      t.messages += day.messages;
      t.reversalMessages += day.reversalMessages;
      t.transactions += day.transactions;
      t.refused += day.refused;
      t.customersLost += day.customersLost;
      for (const v of day.violations)
        if (t.failures.length < FAILURES_KEPT) t.failures.push(`seed ${seed} (${name}) t=${v.t}ms invariant ${v.invariant}: ${v.detail}`);
      // The first policy's network stats stand for all (the outage timeline is the seed's).
      if (index === 0) addNetwork(totals.network, day.network);
    });
  return totals;
}

function addNetwork(sum: NetworkModelStats, day: NetworkModelStats): void {
  for (const key of Object.keys(sum) as (keyof NetworkModelStats)[])
    sum[key] = key === "longestOutageMs" ? Math.max(sum[key], day[key]) : sum[key] + day[key];
}

/** Totals of contiguous parts, in seed order. */
export function mergeDays(parts: readonly DaysTotals[]): DaysTotals {
  const merged: DaysTotals = { from: parts[0].from, seeds: 0, policies: {}, network: emptyNetworkStats() };
  for (const part of parts) {
    merged.seeds += part.seeds;
    addNetwork(merged.network, part.network);
    for (const [name, t] of Object.entries(part.policies)) {
      const m = (merged.policies[name] ??= emptyPolicy());
      for (const key of Object.keys(m) as (keyof PolicyTotals)[]) {
        if (key === "resolveMs") m.resolveMs.push(...t.resolveMs);
        else if (key === "failures") m.failures.push(...t.failures.slice(0, FAILURES_KEPT - m.failures.length));
        else m[key] += t[key];
      }
    }
  }
  return merged;
}

/** Nearest-rank percentile of `values` (q in (0, 1]); undefined when there are none. */
export function percentile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}
