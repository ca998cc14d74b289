/**
 * Sums of many seeds, merged in seed order so that any split across workers
 * gives the same totals and the same violation listing, and the text a
 * violation prints: seed, step, invariant, what broke, and the last events.
 */
import { createHash } from "node:crypto";
import type { Violation } from "./oracle";
import type { SeedResult } from "./run";

/** Events shown before a violation, and after it (what came of it). */
const TRACE_EVENTS_BEFORE = 12;
const TRACE_EVENTS_AFTER = 4;

export interface SeedViolation extends Violation {
  readonly seed: number;
  /** The events that led to it, one JSON line each. */
  readonly trace: readonly string[];
}

export interface ChaosTotals {
  seeds: number;
  /** Seeds with at least one violation. */
  violations: number;
  faults: Record<string, number>;
  transactions: number;
  reversals: number;
  /** Violations by invariant (a seed may count in several). */
  invariants: Record<string, number>;
  /** The violations of the first failing seeds, in seed order. */
  failures: SeedViolation[];
  /** With `--digest`: per seed, in seed order, a hash of its whole outcome (see `seedDigest`). */
  seedDigests?: string[];
}

/** Failing seeds kept with their traces; the count goes on beyond. */
const FAILURES_KEPT = 20;

export function emptyTotals(digest = false): ChaosTotals {
  const totals: ChaosTotals = { seeds: 0, violations: 0, faults: {}, transactions: 0, reversals: 0, invariants: {}, failures: [] };
  if (digest) totals.seedDigests = [];
  return totals;
}

/**
 * A seed's whole outcome as 16 hex digits: its violations, faults, counts and
 * every event of its trace. Two builds that give every seed the same digest
 * gave the same verdicts, event for event (a speed-up must not move one).
 */
export function seedDigest(result: SeedResult): string {
  const { violations, faults, transactions, reversals, events } = result;
  return createHash("sha256").update(JSON.stringify({ violations, faults, transactions, reversals, events })).digest("hex").slice(0, 16);
}

/** The digest of a run: one hash over its seeds' digests in seed order. */
export function runDigest(totals: ChaosTotals): string | undefined {
  return totals.seedDigests === undefined ? undefined : createHash("sha256").update(totals.seedDigests.join("\n")).digest("hex");
}

export function addSeed(totals: ChaosTotals, result: SeedResult): void {
  totals.seeds++;
  totals.seedDigests?.push(seedDigest(result));
  totals.transactions += result.transactions;
  totals.reversals += result.reversals;
  for (const [kind, count] of Object.entries(result.faults)) totals.faults[kind] = (totals.faults[kind] ?? 0) + count;
  if (result.violations.length === 0) return;
  totals.violations++;
  for (const v of result.violations) totals.invariants[v.invariant] = (totals.invariants[v.invariant] ?? 0) + 1;
  if (totals.failures.length >= FAILURES_KEPT) return;
  for (const v of result.violations) {
    const trace = result.events
      .slice(Math.max(0, v.eventCount - TRACE_EVENTS_BEFORE), v.eventCount + TRACE_EVENTS_AFTER)
      .map((e) => JSON.stringify(e));
    totals.failures.push({ ...v, seed: result.seed, trace });
  }
}

/** Totals of parts (each a contiguous run of seeds), in seed order. */
export function mergeTotals(parts: readonly ChaosTotals[]): ChaosTotals {
  const merged = emptyTotals();
  for (const part of parts) {
    merged.seeds += part.seeds;
    merged.violations += part.violations;
    merged.transactions += part.transactions;
    merged.reversals += part.reversals;
    for (const [kind, count] of Object.entries(part.faults)) merged.faults[kind] = (merged.faults[kind] ?? 0) + count;
    for (const [kind, count] of Object.entries(part.invariants)) merged.invariants[kind] = (merged.invariants[kind] ?? 0) + count;
    merged.failures.push(...part.failures);
    if (part.seedDigests !== undefined) (merged.seedDigests ??= []).push(...part.seedDigests);
  }
  merged.failures.sort((a, b) => a.seed - b.seed);
  const seeds = [...new Set(merged.failures.map((f) => f.seed))].slice(0, FAILURES_KEPT);
  merged.failures = merged.failures.filter((f) => seeds.includes(f.seed));
  merged.faults = Object.fromEntries(Object.entries(merged.faults).sort(([a], [b]) => (a < b ? -1 : 1)));
  return merged;
}

export function describeViolation(v: SeedViolation): string {
  const head = `violation: seed ${v.seed} step ${v.step} t=${v.t}ms invariant ${v.invariant}: ${v.detail}`;
  const replay = `  replay: tools/xspos chaos --from ${v.seed} --seeds 1 --trace`;
  return [head, ...v.trace.map((line) => `  ${line}`), replay].join("\n");
}
