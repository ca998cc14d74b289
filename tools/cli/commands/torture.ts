/**
 * `xspos torture --seeds N [--from S] [--json] [--threads T]`: the journal
 * under power cuts and flash faults (tools/journal/torture.ts), checked
 * against a reference model after every reboot (docs/contracts.md).
 */
import os from "node:os";
import { integerOption, parseOptions, type Command } from "../command";
import { runTorture } from "../../journal/parallel";

const SEEDS_MAX = 1_000_000;

export const command: Command = {
  summary: "torture the flash journal: seeded workloads with power cuts and flash faults, checked after every reboot",
  usage: [
    "tools/xspos torture --seeds N [--from S] [--json] [--threads T]",
    "a violation prints its seed and step; --from SEED --seeds 1 replays it",
  ],
  async run(args) {
    const { values } = parseOptions(
      args,
      { seeds: { type: "string" }, from: { type: "string" }, json: { type: "boolean" }, threads: { type: "string" } },
      false,
    );
    const seeds = integerOption(values.seeds, "seeds", 100, 1, SEEDS_MAX);
    const from = integerOption(values.from, "from", 0, 0, Number.MAX_SAFE_INTEGER - SEEDS_MAX);
    const threads = integerOption(values.threads, "threads", Math.max(1, Math.min(2, os.availableParallelism())), 1, 64);
    const started = Date.now();
    const summary = await runTorture(from, seeds, threads, (result) => {
      if (result.violation !== undefined)
        console.log(
          `violation: seed ${result.seed} step ${result.violation.step}: ${result.violation.message} (replay: tools/xspos torture --from ${result.seed} --seeds 1)`,
        );
    });
    const seconds = (Date.now() - started) / 1000;
    if (!values.json) {
      console.log(
        `${summary.seeds} seeds, ${summary.crashPoints} crash points, ${summary.violations} violations, max sector erases ${summary.maxSectorErases}, ${seconds.toFixed(1)} s`,
      );
      for (const [name, count] of Object.entries(summary.faultClasses).sort()) console.log(`  ${name.padEnd(24)} ${count}`);
    } else {
      const classes = Object.fromEntries(Object.entries(summary.faultClasses).sort());
      console.log(
        JSON.stringify({
          seeds: summary.seeds,
          crashPoints: summary.crashPoints,
          violations: summary.violations,
          faultClasses: classes,
          maxSectorErases: summary.maxSectorErases,
        }),
      );
    }
    return summary.violations === 0 ? 0 : 1;
  },
};
