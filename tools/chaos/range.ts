/** A contiguous range of seeds in this thread, summed in seed order. */
import { addSeed, emptyTotals, type ChaosTotals } from "./report";
import { runSeed, type SeedOptions } from "./run";

export interface RangeRequest {
  readonly from: number;
  readonly seeds: number;
  /** Keep each seed's outcome digest (`tools/xspos chaos --digest`). */
  readonly digest?: boolean;
}

export function runRange(request: RangeRequest, options: SeedOptions = {}): ChaosTotals {
  const totals = emptyTotals(request.digest === true);
  for (let seed = request.from; seed < request.from + request.seeds; seed++) addSeed(totals, runSeed(seed, options));
  return totals;
}
