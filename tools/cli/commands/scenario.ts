/**
 * `xspos scenario FILE.json [--trace] [--pcap FILE]` (docs/contracts.md): runs a scenario
 * on a virtual clock and prints its events as JSON lines. Exit 0 when every
 * expectation holds, 1 when one fails (named on stderr), 2 for an invalid file.
 * `--pcap` writes the terminal's connections as a capture (docs/wireshark.md).
 */
import fs from "node:fs";
import { parseOptions, UsageError, type Command } from "../command";
import { parseScenario, ScenarioFileError } from "../../scenario/scenario-file";
import { checkScenarioSchema } from "../../scenario/schema-check";
import { runScenario, ScenarioStepError } from "../../scenario/runner";
import { nodeImageSigner } from "../../host/tms-signing";
import { TcpCapture } from "../../pcap/pcap";

export const command: Command = {
  summary: "run a scripted scenario: terminal core + host simulator + emulated flash and network on a virtual clock",
  usage: [
    "tools/xspos scenario FILE.json [--trace] [--pcap FILE]",
    "--trace  also print the expectations checked, one line each, on stderr",
    "--pcap FILE  write the terminal's connections as a pcap (TCP streams, virtual time; open with tools/wireshark/cup8583.lua)",
  ],
  run(args) {
    const { values, positionals } = parseOptions(args, { trace: { type: "boolean" }, pcap: { type: "string" } });
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
      const capture = values.pcap === undefined ? undefined : new TcpCapture();
      checkScenarioSchema(parsed);
      const run = runScenario(parseScenario(parsed), { capture, imageSigner: nodeImageSigner() });
      if (capture !== undefined) writeCapture(values.pcap!, capture);
      for (const event of run.events) process.stdout.write(`${JSON.stringify(event)}\n`);
      if (values.trace) process.stderr.write(`scenario: ${run.failures.length} expectation(s) failed\n`);
      for (const failure of run.failures) process.stderr.write(`xspos: expectation failed: ${failure}\n`);
      return run.failures.length === 0 ? 0 : 1;
    } catch (error) {
      if (error instanceof ScenarioFileError) throw new UsageError(`${positionals[0]}: ${error.message}`);
      if (error instanceof ScenarioStepError) throw new UsageError(error.message);
      throw error;
    }
  },
};

/** Writes the capture; a path that cannot be written is a usage error (exit 2). */
export function writeCapture(path: string, capture: TcpCapture): void {
  try {
    fs.writeFileSync(path, capture.bytes());
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
}
