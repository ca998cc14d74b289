/**
 * `xspos chaos --seeds N [--from S] [--json] [--trace]` (docs/contracts.md):
 * whole-system deterministic simulation, one seed at a time, checked by the
 * ledger oracle (docs/chaos.md). Seeds run on two worker threads; `--trace`
 * runs in this thread and prints every event of every seed. `--pcap FILE` with
 * `--seeds 1` writes that seed's connections as a capture (virtual time).
 */
import { integerOption, parseOptions, UsageError, type Command } from "../command";
import { runParallel, WORKERS_DEFAULT } from "../../chaos/parallel";
import { runRange } from "../../chaos/range";
import { describeViolation, runDigest, type ChaosTotals } from "../../chaos/report";
import { runSeed } from "../../chaos/run";
import { capturingTransport } from "../../pcap/capture-transport";
import { TcpCapture } from "../../pcap/pcap";
import { SIMULATION_EPOCH_MS } from "../../../modules/emulators/virtual-wall-clock";
import { writeCapture } from "./scenario";

const SEEDS_MAX = 10_000_000;
/** --trace prints every event: for replaying a handful of seeds, not a soak. */
const TRACE_SEEDS_MAX = 100;

export const command: Command = {
  summary: "deterministic whole-system chaos: random workload and faults per seed, checked by a ledger oracle",
  usage: [
    "tools/xspos chaos --seeds N [--from S] [--json] [--trace] [--workers W] [--digest]",
    "--from S     first seed (default 0); a violation's seed replays with --from SEED --seeds 1 --trace",
    "--json       last line: {seeds, violations, faults, transactions, reversals, seedsPerSecond, invariants}",
    "--trace      print every event of every seed (JSON lines, each with its seed)",
    `--workers W  worker threads (default ${WORKERS_DEFAULT}); fewer than 50 seeds run in this thread`,
    "--digest     also print a hash of every seed's outcome and events (a speed-up must leave it unchanged)",
    "--pcap FILE  with --seeds 1: write the seed's connections as a pcap (virtual time; tools/wireshark/cup8583.lua)",
  ],
  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      {
        seeds: { type: "string" },
        from: { type: "string" },
        json: { type: "boolean" },
        trace: { type: "boolean" },
        workers: { type: "string" },
        pcap: { type: "string" },
        digest: { type: "boolean" },
      },
      false,
    );
    if (positionals.length > 0) throw new UsageError(`chaos takes no positional arguments, got ${JSON.stringify(positionals[0])}`);
    if (values.seeds === undefined) throw new UsageError("chaos needs --seeds N");
    const seeds = integerOption(values.seeds, "seeds", 0, 1, SEEDS_MAX);
    const from = integerOption(values.from, "from", 0, 0, Number.MAX_SAFE_INTEGER - SEEDS_MAX);
    const workers = integerOption(values.workers, "workers", WORKERS_DEFAULT, 1, 16);
    if (values.trace === true && seeds > TRACE_SEEDS_MAX)
      throw new UsageError(`--trace prints every event: at most ${TRACE_SEEDS_MAX} seeds`);
    if (values.pcap !== undefined && seeds !== 1) throw new UsageError("--pcap records one seed: use it with --from S --seeds 1");
    if (values.pcap !== undefined) {
      // The seed runs again on its own with the capture; its verdict below comes from the same deterministic run.
      const capture = new TcpCapture();
      runSeed(from, {
        hooks: { transport: (inner, system) => capturingTransport(inner, capture, () => SIMULATION_EPOCH_MS + system.clock.nowMs()) },
      });
      writeCapture(values.pcap, capture);
    }
    const startedMs = performance.now();
    let totals: ChaosTotals;
    if (values.trace === true) {
      for (let seed = from; seed < from + seeds; seed++)
        for (const event of runSeed(seed).events) process.stdout.write(`${JSON.stringify({ seed, ...event })}\n`);
      totals = runRange({ from, seeds, digest: values.digest === true });
    } else totals = await runParallel({ from, seeds, digest: values.digest === true }, workers);
    const seconds = (performance.now() - startedMs) / 1000;
    for (const failure of totals.failures) process.stdout.write(`${describeViolation(failure)}\n`);
    const summary = {
      seeds: totals.seeds,
      violations: totals.violations,
      faults: totals.faults,
      transactions: totals.transactions,
      reversals: totals.reversals,
      seedsPerSecond: Math.round((totals.seeds / seconds) * 10) / 10,
      // Beyond the contract's keys (added, not renamed): violations by invariant, and with --digest the outcome digest.
      invariants: totals.invariants,
      ...(values.digest === true ? { digest: runDigest(totals) } : {}),
    };
    if (values.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      process.stdout.write(
        `chaos: ${summary.seeds} seeds, ${summary.violations} with violations, ${summary.transactions} transactions, ` +
          `${summary.reversals} reversals, ${summary.seedsPerSecond} seeds/s, violations by invariant ${JSON.stringify(summary.invariants)}` +
          `${values.digest === true ? `, digest ${runDigest(totals)}` : ""}\n`,
      );
    return totals.violations === 0 ? 0 : 1;
  },
};
