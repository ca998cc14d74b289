/**
 * The StrykerJS rooms (tests/mutation/rooms.json) name real files, and the baseline check that decides what
 * `make test` reruns (tools/mutate/stryker.ts) tells a matching baseline from a stale one.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { globRegExp, readRooms, scoreOf, staleReasons } from "../../../tools/mutate/stryker";
import { REPO_ROOT } from "../../../tools/xs/suites";

describe("stryker rooms", () => {
  test("the five rooms of issue #20, journal last; each mutates core files and runs suites that exist", () => {
    const rooms = readRooms(REPO_ROOT);
    expect(rooms.map((r) => r.name)).toEqual(["link", "crypto", "iso8583", "txn", "journal"]);
    const files = execFileSync("git", ["ls-files"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\n");
    for (const room of rooms) {
      const mutated = files.filter((f) => room.mutate.some((g) => globRegExp(g).test(f)));
      const suites = files.filter((f) => room.tests.some((g) => globRegExp(g).test(f)));
      expect(mutated.length).toBeGreaterThan(0);
      expect(mutated.every((f) => f.startsWith(`modules/${room.name}/`))).toBe(true);
      expect(suites.length).toBeGreaterThan(0);
      expect(suites.every((f) => f.endsWith(".test.ts"))).toBe(true);
      // Stryker's timeout of a room, when set: low enough that looping mutants cost seconds, not a margin under load.
      if (room.timeoutMs !== undefined)
        expect([Number.isInteger(room.timeoutMs), room.timeoutMs >= 1000, room.timeoutMs <= 10000]).toEqual([true, true, true]);
    }
    expect(rooms.filter((r) => r.timeoutMs !== undefined).map((r) => [r.name, r.timeoutMs])).toEqual([
      ["iso8583", 2000],
      ["journal", 5000],
    ]);
  });

  test("globs: ** spans folders, * stays within a name", () => {
    const glob = globRegExp("modules/link/**/*.ts");
    expect(["modules/link/host-link.ts", "modules/link/a/b.ts"].map((f) => glob.test(f))).toEqual([true, true]);
    expect(["modules/linkx/a.ts", "modules/link/a.tsx", "xmodules/link/a.ts"].map((f) => glob.test(f))).toEqual([false, false, false]);
    expect(globRegExp("modules/crypto/mac.ts").test("modules/crypto/macxts")).toBe(false);
  });

  test("a baseline is stale when a mutated file or a suite changed, appeared or went away", () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-stryker-"));
    try {
      execFileSync("git", ["init", "-q"], { cwd: repo });
      fs.mkdirSync(path.join(repo, "modules/link"), { recursive: true });
      fs.mkdirSync(path.join(repo, "tests/core/link"), { recursive: true });
      fs.mkdirSync(path.join(repo, "tests/mutation"), { recursive: true });
      fs.writeFileSync(path.join(repo, "modules/link/a.ts"), "export const a = 1;\n");
      fs.writeFileSync(path.join(repo, "tests/core/link/a.test.ts"), "test('a', () => {});\n");
      const room = { name: "link", mutate: ["modules/link/**/*.ts"], tests: ["tests/core/link/**/*.test.ts"] };
      expect(staleReasons(repo, room)).toEqual(["no baseline"]);
      const baseline = {
        files: { "modules/link/a.ts": { source: "export const a = 1;\n" } },
        testFiles: { "tests/core/link/a.test.ts": { source: "test('a', () => {});\n" } },
      };
      fs.writeFileSync(path.join(repo, "tests/mutation/link.incremental.json"), JSON.stringify(baseline));
      expect(staleReasons(repo, room)).toEqual([]);
      fs.writeFileSync(path.join(repo, "modules/link/a.ts"), "export const a = 2;\n");
      fs.writeFileSync(path.join(repo, "modules/link/b.ts"), "export const b = 1;\n");
      fs.rmSync(path.join(repo, "tests/core/link/a.test.ts"));
      expect(staleReasons(repo, room)).toEqual([
        "code modules/link/a.ts changed",
        "code modules/link/b.ts is new",
        "suite tests/core/link/a.test.ts is gone",
      ]);
      // A file taken out with a `!` glob (nothing to mutate: Stryker's report never holds it) is not "new".
      expect(staleReasons(repo, { ...room, mutate: [...room.mutate, "!modules/link/b.ts"] })).toEqual([
        "code modules/link/a.ts changed",
        "suite tests/core/link/a.test.ts is gone",
      ]);
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  test("the score counts killed and timed out over the mutants that compile", () => {
    const mutants = (status: string, n: number) => Array.from({ length: n }, () => ({ status }));
    const report = {
      files: {
        "a.ts": { mutants: [...mutants("Killed", 6), ...mutants("Timeout", 1), ...mutants("CompileError", 5)] },
        "b.ts": { mutants: [...mutants("Survived", 2), ...mutants("NoCoverage", 1), ...mutants("RuntimeError", 1)] },
      },
    };
    expect(scoreOf("link", report)).toEqual({
      room: "link",
      mutants: 16,
      killed: 6,
      timeout: 1,
      survived: 2,
      noCoverage: 1,
      invalid: 6,
      score: 70,
    });
  });
});
