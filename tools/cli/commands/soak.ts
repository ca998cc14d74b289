/**
 * `xspos soak --terminal native --kills N --seed S [--json]`: the Linux
 * terminal (hosts/lin, built by `make native-terminal`) killed N times
 * against the host simulator, then judged by the ledger oracle
 * (tools/lin/soak.ts). Exit 0 only with 0 violations.
 */
import fs from "node:fs";
import { integerOption, parseOptions, UsageError, type Command } from "../command";
import { NATIVE_TERMINAL } from "../../lin/native-terminal";
import { soakNative } from "../../lin/soak";

const KILLS_MAX = 100_000;

export const command: Command = {
  summary: "kill soak of the native Linux terminal against the host simulator: SIGKILL and power cuts inside flash operations",
  usage: [
    "tools/xspos soak --terminal native [--kills N] [--seed S] [--json] [--verbose]",
    "defaults: --kills 20, --seed 1; needs var/build/bin/lin/release/xspos (make native-terminal)",
    "the last line with --json: {kills, transactions, reversals, violations, agree, updates}; a violation prints the replay command",
  ],
  async run(args) {
    const { values } = parseOptions(
      args,
      {
        terminal: { type: "string" },
        kills: { type: "string" },
        seed: { type: "string" },
        json: { type: "boolean" },
        verbose: { type: "boolean" },
      },
      false,
    );
    if (values.terminal !== "native") throw new UsageError("soak needs --terminal native (the Node core is soaked by tools/xspos chaos)");
    if (!fs.existsSync(NATIVE_TERMINAL)) throw new UsageError(`no native terminal at ${NATIVE_TERMINAL}: run make native-terminal`);
    const kills = integerOption(values.kills, "kills", 20, 1, KILLS_MAX);
    const seed = integerOption(values.seed, "seed", 1, 0, Number.MAX_SAFE_INTEGER);
    const report = await soakNative({ kills, seed, onLife: values.verbose ? (line) => console.log(line) : undefined });
    for (const finding of report.findings)
      console.log(`violation: seed ${seed}: ${finding} (replay: tools/xspos soak --terminal native --kills ${kills} --seed ${seed})`);
    const summary = {
      kills: report.kills,
      transactions: report.transactions,
      reversals: report.reversals,
      violations: report.violations,
      agree: report.agree,
      updates: report.updates,
    };
    if (values.json) console.log(JSON.stringify(summary));
    else
      console.log(
        `${report.kills} kills (${report.cuts} inside flash operations), ${report.transactions} transactions, ${report.reversals} reversals, ` +
          `${report.violations} violations, agree ${report.agree}, ${report.seconds.toFixed(1)} s; ` +
          `images: ${report.updates.published} published, ${report.updates.rejected} rejected, ` +
          `${report.updates.confirmed} confirmed, ${report.updates.rolledBack} rolled back`,
      );
    return report.violations === 0 ? 0 : 1;
  },
};
