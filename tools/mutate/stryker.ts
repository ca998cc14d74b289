/**
 * StrykerJS over the rooms of tests/mutation/rooms.json, one room at a time (the CPU is shared), each in
 * incremental mode against its committed baseline tests/mutation/<room>.incremental.json: only mutants whose
 * code or covering tests changed since the baseline are run again. Reports go to artifacts/mutation/<room>/.
 * `staleRooms` says which rooms' baselines no longer match the code and suites (what `make test` reruns).
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { assert } from "../../modules/base/assert";

export interface Room {
  readonly name: string;
  readonly mutate: readonly string[];
  readonly tests: readonly string[];
  /** Stryker's timeoutMS for the room (rooms.json; Stryker's default of 10 s when absent). */
  readonly timeoutMs?: number;
}

export interface RoomScore {
  readonly room: string;
  readonly mutants: number;
  readonly killed: number;
  readonly timeout: number;
  readonly survived: number;
  readonly noCoverage: number;
  /** Mutants the TypeScript checker refused (they do not compile) and runtime errors: not in the score. */
  readonly invalid: number;
  /** Killed and timed out over all valid mutants, in percent. */
  readonly score: number;
}

export function readRooms(repoRoot: string): Room[] {
  const table = JSON.parse(fs.readFileSync(path.join(repoRoot, "tests/mutation/rooms.json"), "utf8")) as Record<string, unknown>;
  return Object.entries(table)
    .filter(([name]) => name !== "//")
    .map(([name, value]) => ({ name, ...(value as { mutate: string[]; tests: string[]; timeoutMs?: number }) }));
}

/** A glob of rooms.json (`**` any folders, `*` within a name) as a regular expression. */
export function globRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    if (glob.startsWith("**/", i)) {
      source += "(?:.*/)?";
      i += 2;
    } else if (glob[i] === "*") source += "[^/]*";
    else source += glob[i].replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** The files `globs` name; a glob starting with `!` takes files out, as in Stryker's `mutate`. */
function listed(repoRoot: string, globs: readonly string[]): string[] {
  const files = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    encoding: "utf8",
  }).stdout.split("\n");
  const patterns = globs.filter((g) => !g.startsWith("!")).map(globRegExp);
  const excluded = globs.filter((g) => g.startsWith("!")).map((g) => globRegExp(g.slice(1)));
  const named = (file: string) => patterns.some((p) => p.test(file)) && !excluded.some((p) => p.test(file));
  return files.filter((file) => file !== "" && fs.existsSync(path.join(repoRoot, file)) && named(file)).sort();
}

function baselinePath(repoRoot: string, room: string): string {
  return path.join(repoRoot, "tests/mutation", `${room}.incremental.json`);
}

export function hasBaseline(repoRoot: string, room: Room): boolean {
  return fs.existsSync(baselinePath(repoRoot, room.name));
}

/** Why a room's baseline no longer matches its files and suites; empty when it does. */
export function staleReasons(repoRoot: string, room: Room): string[] {
  const file = baselinePath(repoRoot, room.name);
  if (!fs.existsSync(file)) return ["no baseline"];
  const baseline = JSON.parse(fs.readFileSync(file, "utf8")) as {
    files: Record<string, { source: string }>;
    testFiles?: Record<string, { source?: string }>;
  };
  const reasons: string[] = [];
  const compare = (kind: string, now: string[], then: Record<string, { source?: string }>) => {
    for (const f of now) {
      if (!(f in then)) reasons.push(`${kind} ${f} is new`);
      else if (then[f].source !== fs.readFileSync(path.join(repoRoot, f), "utf8")) reasons.push(`${kind} ${f} changed`);
    }
    for (const f of Object.keys(then)) if (!now.includes(f)) reasons.push(`${kind} ${f} is gone`);
  };
  compare("code", listed(repoRoot, room.mutate), baseline.files);
  compare("suite", listed(repoRoot, room.tests), baseline.testFiles ?? {});
  return reasons;
}

/** Counts a Stryker JSON report (mutation-testing-report-schema). */
export function scoreOf(room: string, report: { files: Record<string, { mutants: { status: string }[] }> }): RoomScore {
  const statuses = Object.values(report.files).flatMap((f) => f.mutants.map((m) => m.status));
  const count = (status: string) => statuses.filter((s) => s === status).length;
  const killed = count("Killed");
  const timeout = count("Timeout");
  const survived = count("Survived");
  const noCoverage = count("NoCoverage");
  const valid = killed + timeout + survived + noCoverage;
  return {
    room,
    mutants: statuses.length,
    killed,
    timeout,
    survived,
    noCoverage,
    invalid: count("CompileError") + count("RuntimeError"),
    score: valid === 0 ? 100 : Math.round(((killed + timeout) / valid) * 1000) / 10,
  };
}

/**
 * Runs Stryker on one room (its output goes to the terminal); returns its score, or the failure. Stryker runs in
 * a process group of its own, so that a run over `budgetMs` is stopped whole (its test and checker processes too).
 */
export async function runRoom(repoRoot: string, room: Room, budgetMs: number): Promise<RoomScore | { room: string; failure: string }> {
  assert(budgetMs > 0, "runRoom: the budget must be positive");
  const child = spawn("node_modules/.bin/stryker", ["run", "tests/mutation/stryker.config.mjs"], {
    cwd: repoRoot,
    env: { ...process.env, STRYKER_ROOM: room.name },
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
  });
  let overBudget = false;
  const timer = setTimeout(() => {
    overBudget = true;
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  }, budgetMs);
  const status = await new Promise<number | string>((resolve) => {
    // No Stryker installed (an install step skipped): a typed failure, not an unhandled 'error' event.
    child.on("error", (error) => resolve(`not started (${error.message}): run make install`));
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "?"));
  });
  clearTimeout(timer);
  if (overBudget) return { room: room.name, failure: `over its budget of ${Math.round(budgetMs / 1000)} s: stopped` };
  if (status !== 0) return { room: room.name, failure: `stryker exited with ${status}` };
  const report = path.join(repoRoot, "artifacts/mutation", room.name, "mutation.json");
  return scoreOf(room.name, JSON.parse(fs.readFileSync(report, "utf8")));
}

export function formatScore(s: RoomScore): string {
  return (
    `${s.room.padEnd(8)} ${String(s.score.toFixed(1)).padStart(5)} %  ${s.mutants} mutants: ${s.killed} killed, ${s.timeout} timed out, ` +
    `${s.survived} survived, ${s.noCoverage} not covered, ${s.invalid} do not compile`
  );
}
