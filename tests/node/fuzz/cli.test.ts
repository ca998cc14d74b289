/**
 * `tools/xspos fuzz` as CI and the contract run it (issue 15 item 9): the last
 * line with --json, exit 0 with no finding, replay of one input, bad usage.
 * The 10^5-input runs are in `make soak`; docs/fuzzing.md has the 10^7 ones.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "../../../modules/platform/random";
import { fuzzHere, INPUTS_MAX } from "../../../tools/fuzz/run";
import { FuzzFinding, makeTarget, TARGET_NAMES, type FuzzTarget } from "../../../tools/fuzz/targets";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const XSPOS = path.join(ROOT, "tools/xspos");

function xspos(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(XSPOS, args, { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test.each(TARGET_NAMES)("%s: --json ends with the contract's object and no untyped result", (target) => {
  const result = xspos(["fuzz", target, "--inputs", "3000", "--seed", "3", "--json"]);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const last = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
  expect(Object.keys(last)).toEqual(["inputs", "typedErrors", "untyped", "slowest_ms"]);
  expect(last.inputs).toBe(3000);
  expect(last.untyped).toBe(0);
  expect(last.typedErrors).toBeGreaterThan(0);
  expect(last.typedErrors).toBeLessThan(3000);
});

test("input i is made from (seed, i) alone: --from i --inputs 1 replays it", () => {
  for (const name of ["codec", "tlv", "subfields", "journal"] as const) {
    const target = makeTarget(name);
    const a = target.input(new SeededRandom(3 * INPUTS_MAX + 41), 41);
    const b = makeTarget(name).input(new SeededRandom(3 * INPUTS_MAX + 41), 41);
    expect(a).toEqual(b);
  }
  const findings: unknown[] = [];
  expect(fuzzHere("tlv", 3, 41, 1, (f) => findings.push(f))).toMatchObject({ inputs: 1, untyped: 0 });
});

test("findings (an untyped error, a wrong re-encode) are counted and reported with the input, and the loop goes on", () => {
  const target: FuzzTarget = {
    name: "faulty",
    input: (random) => Uint8Array.of(random.below(256)),
    run(_input, index) {
      if (index % 3 === 0) throw new TypeError("bug");
      if (index % 3 === 1) throw new FuzzFinding("re-encode differs");
      return "typed";
    },
  };
  const findings: { index: number; message: string; inputHex: string }[] = [];
  expect(fuzzHere(target, 1, 0, 9, (f) => findings.push(f))).toMatchObject({ inputs: 9, typedErrors: 3, untyped: 6 });
  expect(findings.map((f) => [f.index, f.message])).toEqual([
    [0, "untyped TypeError: bug"],
    [1, "re-encode differs"],
    [3, "untyped TypeError: bug"],
    [4, "re-encode differs"],
    [6, "untyped TypeError: bug"],
    [7, "re-encode differs"],
  ]);
  expect(findings[0].inputHex).toMatch(/^[0-9A-F]{2}$/);
});

test.each([
  [["fuzz"], /one target/],
  [["fuzz", "nothing"], /one target/],
  [["fuzz", "codec", "--inputs", "0"], /--inputs must be an integer/],
  [["fuzz", "codec", "--seed", "-1"], /--seed must be an integer/],
])("%j exits 2 with one line", (args, message) => {
  const result = xspos(args);
  expect(result.status).toBe(2);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(message);
});
