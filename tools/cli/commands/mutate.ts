/**
 * `xspos mutate [--only ID,ID…] [--list] [--json] [--keep]`: breaks the
 * reversal rules one at a time (tools/mutate/mutants.ts) in a sandbox copy of
 * the repo and checks that a test kills each mutant, in jest and, for core
 * code, in XS too. Exits 0 only when every mutant run is killed.
 * `xspos mutate --stryker [--rooms a,b] [--changed]`: StrykerJS over the rooms
 * (tools/mutate/stryker.ts), incremental against the committed baselines.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseOptions, UsageError, type Command } from "../command";
import { MUTANTS } from "../../mutate/mutants";
import { runMutants, type MutantResult } from "../../mutate/run";
import { formatScore, hasBaseline, readRooms, runRoom, staleReasons } from "../../mutate/stryker";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function line(result: MutantResult): string {
  const xs = result.xsFailures === undefined ? "" : ` xs:${result.xsFailures.length}`;
  const why = result.detail !== undefined ? ` — ${result.detail}` : "";
  return `${result.verdict.toUpperCase().padEnd(8)} ${result.id.padEnd(38)} jest:${result.jestFailures.length}${xs} ${result.seconds.toFixed(1)} s${why}`;
}

export const command: Command = {
  summary: "mutation testing of the reversal rules: break each rule once, a test must fail (jest, and XS for core code)",
  usage: [
    "tools/xspos mutate                 every mutant; exit 0 when all are killed",
    "tools/xspos mutate --only a,b      the named mutants",
    "tools/xspos mutate --list          the mutants and the rule each breaks",
    "tools/xspos mutate --json          one JSON summary line",
    "tools/xspos mutate --keep          keep the sandbox copy and print its path",
    "tools/xspos mutate --stryker [--rooms a,b] [--changed] [--budget-seconds N]",
    "                                   StrykerJS per room, incremental against tests/mutation/<room>.incremental.json;",
    "                                   --changed: only rooms whose code or suites differ from their baseline;",
    "                                   --budget-seconds: all rooms together, a room still running then is stopped (exit 1)",
  ],
  async run(args) {
    const { values } = parseOptions(
      args,
      {
        only: { type: "string" },
        list: { type: "boolean" },
        json: { type: "boolean" },
        keep: { type: "boolean" },
        stryker: { type: "boolean" },
        rooms: { type: "string" },
        changed: { type: "boolean" },
        "budget-seconds": { type: "string" },
      },
      false,
    );
    if (values.stryker) return stryker(values.rooms, values.changed === true, budgetSeconds(values["budget-seconds"]));
    if (values.rooms !== undefined || values.changed || values["budget-seconds"] !== undefined)
      throw new UsageError("--rooms, --changed and --budget-seconds go with --stryker");
    if (values.list) {
      for (const m of MUTANTS) console.log(`${m.id.padEnd(38)} ${m.rule}`);
      return 0;
    }
    let mutants = MUTANTS;
    if (values.only !== undefined) {
      const ids = values.only.split(",").filter((id) => id !== "");
      const unknown = ids.filter((id) => !MUTANTS.some((m) => m.id === id));
      if (ids.length === 0 || unknown.length > 0)
        throw new UsageError(`--only: unknown mutant ${JSON.stringify(unknown[0] ?? "")}; see --list`);
      mutants = MUTANTS.filter((m) => ids.includes(m.id));
    }
    const started = Date.now();
    const summary = await runMutants({
      repoRoot: REPO_ROOT,
      mutants,
      keepSandbox: values.keep === true,
      onResult: (result) => {
        if (!values.json) console.log(line(result));
      },
    });
    const seconds = Math.round((Date.now() - started) / 1000);
    if (summary.baselineFailures.length > 0) {
      console.log(`the unmutated suites fail, no mutant was run:\n  ${summary.baselineFailures.join("\n  ")}`);
      return 1;
    }
    const count = (verdict: MutantResult["verdict"]) => summary.results.filter((r) => r.verdict === verdict).length;
    const totals = {
      mutants: summary.results.length,
      killed: count("killed"),
      survived: count("survived"),
      nodeOnly: count("nodeOnly"),
      error: count("error"),
    };
    if (values.json) console.log(JSON.stringify({ ...totals, seconds, results: summary.results }));
    else {
      console.log(
        `${totals.killed} of ${totals.mutants} mutants killed (${totals.survived} survived, ${totals.nodeOnly} killed in Node only, ${totals.error} errors), ${seconds} s`,
      );
      if (summary.sandbox !== undefined) console.log(`sandbox kept: ${summary.sandbox}`);
    }
    return totals.killed === totals.mutants ? 0 : 1;
  },
};

/** Default budget of a Stryker run: one full room of the largest size measured (txn) with room to spare. */
const BUDGET_SECONDS_DEFAULT = 3 * 60 * 60;

function budgetSeconds(text: string | undefined): number {
  if (text === undefined) return BUDGET_SECONDS_DEFAULT;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 24 * 60 * 60)
    throw new UsageError(`--budget-seconds: an integer from 1 to 86400, got ${text}`);
  return seconds;
}

/** StrykerJS room by room; exit 0 when every room ran within the budget (scores are reported, not enforced: docs/testing.md). */
async function stryker(roomList: string | undefined, changedOnly: boolean, budgetS: number): Promise<number> {
  const deadlineMs = Date.now() + budgetS * 1000;
  let rooms = readRooms(REPO_ROOT);
  if (roomList !== undefined) {
    const names = roomList.split(",").filter((name) => name !== "");
    const unknown = names.find((name) => !rooms.some((room) => room.name === name));
    if (names.length === 0 || unknown !== undefined)
      throw new UsageError(`--rooms: unknown room ${JSON.stringify(unknown ?? "")}; rooms: ${rooms.map((r) => r.name).join(", ")}`);
    rooms = rooms.filter((room) => names.includes(room.name));
  }
  const lines: string[] = [];
  let failed = false;
  for (const room of rooms) {
    const reasons = staleReasons(REPO_ROOT, room);
    if (changedOnly && reasons.length === 0) {
      lines.push(`${room.name.padEnd(8)} baseline matches its code and suites: not run`);
      continue;
    }
    // A room without a baseline needs a full run, longer than any CI budget: said, not run (make mutation makes one).
    if (changedOnly && !hasBaseline(REPO_ROOT, room)) {
      lines.push(
        `${room.name.padEnd(8)} no baseline committed: not run; make mutation writes tests/mutation/${room.name}.incremental.json`,
      );
      continue;
    }
    if (reasons.length > 0)
      console.log(`stryker ${room.name}: ${reasons.slice(0, 5).join("; ")}${reasons.length > 5 ? ` and ${reasons.length - 5} more` : ""}`);
    const started = Date.now();
    if (deadlineMs - started <= 0) {
      failed = true;
      lines.push(`${room.name.padEnd(8)} NOT RUN: the budget of ${budgetS} s is spent; run make mutation and commit its baselines`);
      continue;
    }
    const result = await runRoom(REPO_ROOT, room, deadlineMs - started);
    const seconds = Math.round((Date.now() - started) / 1000);
    if ("failure" in result) {
      failed = true;
      lines.push(`${room.name.padEnd(8)} FAILED: ${result.failure} (${seconds} s); run make mutation and commit its baselines`);
    } else lines.push(`${formatScore(result)} (${seconds} s)`);
  }
  console.log(lines.join("\n"));
  return failed ? 1 : 0;
}
