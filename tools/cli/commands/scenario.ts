/**
 * `xspos scenario FILE.json [--trace]` (shared/contracts.md): runs a scenario
 * on a virtual clock and prints its events as JSON lines. Exit 0 when every
 * expectation holds, 1 when one fails (named on stderr), 2 for an invalid file.
 */
import fs from "node:fs";
import { parseOptions, UsageError, type Command } from "../command";
import { parseScenario, ScenarioFileError } from "../../scenario/scenario-file";
import { runScenario, ScenarioStepError } from "../../scenario/runner";

export const command: Command = {
  summary: "run a scripted scenario: terminal core + host simulator + emulated flash and network on a virtual clock",
  usage: ["tools/xspos scenario FILE.json [--trace]", "--trace  also print the expectations checked, one line each, on stderr"],
  run(args) {
    const { values, positionals } = parseOptions(args, { trace: { type: "boolean" } });
    if (positionals.length !== 1) throw new UsageError("scenario needs exactly one FILE.json");
    let text: string;
    try {
      text = fs.readFileSync(positionals[0], "utf8");
    } catch (error) {
      throw new UsageError(`cannot read ${positionals[0]}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${positionals[0]} is not JSON: ${(error as Error).message}`);
    }
    try {
      const run = runScenario(parseScenario(parsed));
      for (const event of run.events) process.stdout.write(`${JSON.stringify(event)}\n`);
      if (values.trace) process.stderr.write(`scenario: ${run.failures.length} expectation(s) failed\n`);
      for (const failure of run.failures) process.stderr.write(`xspos: expectation failed: ${failure}\n`);
      return run.failures.length === 0 ? 0 : 1;
    } catch (error) {
      if (error instanceof ScenarioFileError || error instanceof ScenarioStepError) throw new UsageError(error.message);
      throw error;
    }
  },
};
