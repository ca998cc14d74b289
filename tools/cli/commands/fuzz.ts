/**
 * `xspos fuzz TARGET --inputs N --seed S [--from I] [--watchdog-ms W] [--json]`:
 * structure-aware fuzzing of the codec, BER-TLV, the sub-fields, journal
 * images and the host core (docs/fuzzing.md). Each finding prints its input
 * number, what went wrong and the input's hex; exit 0 when there is none.
 */
import { integerOption, parseOptions, UsageError, type Command } from "../command";
import { fuzz, INPUTS_MAX, SEED_MAX } from "../../fuzz/run";
import { HOST_WINDOW, TARGET_NAMES, type TargetName } from "../../fuzz/targets";

const WATCHDOG_MS_DEFAULT = 5000;

export const command: Command = {
  summary: "fuzz the codec, TLV, sub-fields, journal images or the host core with structure-aware mutations",
  usage: [
    `tools/xspos fuzz ${TARGET_NAMES.join("|")} --inputs N --seed S [--from I] [--watchdog-ms ${WATCHDOG_MS_DEFAULT}] [--json]`,
    "success: only typed errors, and a decode re-encodes to the input bytes; --json ends with",
    '{"inputs":N,"typedErrors":N,"untyped":0,"slowest_ms":X}; a finding prints its input number:',
    `--from I --inputs 1 replays it (host: --from the window start, a multiple of ${HOST_WINDOW})`,
  ],
  async run(args) {
    const { values, positionals } = parseOptions(args, {
      inputs: { type: "string" },
      seed: { type: "string" },
      from: { type: "string" },
      "watchdog-ms": { type: "string" },
      json: { type: "boolean" },
    });
    if (positionals.length !== 1 || !(TARGET_NAMES as readonly string[]).includes(positionals[0]))
      throw new UsageError(`fuzz takes one target: ${TARGET_NAMES.join(", ")}`);
    const target = positionals[0] as TargetName;
    const inputs = integerOption(values.inputs, "inputs", 100_000, 1, INPUTS_MAX);
    const seed = integerOption(values.seed, "seed", 1, 0, SEED_MAX - 1);
    const from = integerOption(values.from, "from", 0, 0, INPUTS_MAX - inputs);
    const watchdogMs = integerOption(values["watchdog-ms"], "watchdog-ms", WATCHDOG_MS_DEFAULT, 100, 600_000);
    const started = performance.now();
    const summary = await fuzz(target, seed, from, inputs, watchdogMs, (finding) => {
      console.log(
        `finding: ${target} input #${finding.index}: ${finding.message} (replay: tools/xspos fuzz ${target} --seed ${seed} --from ${finding.index} --inputs 1)`,
      );
      if (finding.inputHex !== "") console.log(`  input ${finding.inputHex}`);
    });
    const seconds = (performance.now() - started) / 1000;
    const slowest = Math.round(summary.slowest_ms * 1000) / 1000;
    if (values.json) {
      console.log(
        JSON.stringify({ inputs: summary.inputs, typedErrors: summary.typedErrors, untyped: summary.untyped, slowest_ms: slowest }),
      );
    } else {
      console.log(
        `${target}: ${summary.inputs} inputs, ${summary.typedErrors} typed errors, ${summary.untyped} untyped, slowest ${slowest} ms, ${seconds.toFixed(1)} s`,
      );
    }
    return summary.untyped === 0 ? 0 : 1;
  },
};
