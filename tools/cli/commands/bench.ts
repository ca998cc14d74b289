/**
 * `xspos bench [PART|all]`: each part is a file in tools/bench/<part>.ts that
 * exports `benchmark`. Figures are printed as text and, last, one JSON line:
 * every part's figures by name, or with `--json` and one part, that part's
 * figures alone (`bench resilience --json` ends with `{"policies":…}`).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { UsageError, type Command } from "../command";

export interface Benchmark {
  readonly summary: string;
  /** Runs the benchmark, prints its figures, and returns them for the JSON line. */
  run(args: readonly string[]): Promise<Record<string, unknown>>;
}

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bench");

function parts(): string[] {
  if (!fs.existsSync(BENCH_DIR)) return [];
  return fs
    .readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.slice(0, -3))
    .sort();
}

export const command: Command = {
  summary: "measure codec, crypto, journal and host performance (XS meter figures included)",
  usage: [
    "tools/xspos bench [PART|all] [PART OPTIONS] [--json]",
    `parts: ${parts().join(", ") || "(none yet)"}`,
    "--json   with one part: the last line is that part's figures alone (the part reads the flag too)",
  ],
  async run(args) {
    const [which = "all", ...rest] = args;
    const available = parts();
    const selected = which === "all" ? available : [which];
    for (const part of selected)
      if (!available.includes(part)) throw new UsageError(`unknown bench part ${JSON.stringify(part)}; parts: ${available.join(", ")}`);
    const figures: Record<string, unknown> = {};
    for (const part of selected) {
      const module = (await import(pathToFileURL(path.join(BENCH_DIR, `${part}.ts`)).href)) as { benchmark: Benchmark };
      console.log(`== bench ${part}: ${module.benchmark.summary}`);
      figures[part] = await module.benchmark.run(rest);
    }
    const alone = selected.length === 1 && rest.includes("--json");
    console.log(JSON.stringify(alone ? figures[selected[0]] : figures));
    return 0;
  },
};
