/** tools/checks/manifest-check.ts against planted violations (tests/fixtures/checks) and against the real manifests. */
import path from "node:path";
import { checkAll, checkManifestPaths, checkModuleState, checkNodeImports, REPO_ROOT } from "../../../tools/checks/manifest-check";

const FIXTURES = path.join(REPO_ROOT, "tests/fixtures/checks");
const fixture = (name: string): string => path.join(FIXTURES, name);
const where = (findings: readonly { file: string; line: number }[]): string[] => findings.map((f) => `${path.basename(f.file)}:${f.line}`);

describe("manifest-check", () => {
  test("flags module paths that match no file, preload wildcards over TypeScript, rooms partly preloaded; lists the preloaded scripts", () => {
    const { findings, preloaded } = checkManifestPaths(fixture("manifest.json"));
    expect(findings.map((f) => `${f.rule}: ${f.message}`)).toEqual([
      'preload-wildcard: preload "fx/core/*" covers 3 TypeScript modules, which mcconfig\'s preload wildcards skip (.js only): list each module',
      'missing-path: module "fx/missing/*" maps to tests/fixtures/checks/missing/*, which matches no file',
      'missing-path: module "fx/gone" maps to tests/fixtures/checks/gone, which matches no file',
      'partly-preloaded: room "fx/half/*" is preloaded except fx/half/b: add them to preload',
    ]);
    expect(preloaded.map((f) => path.basename(f))).toEqual(["clean.ts", "state.ts", "uses-node.ts", "a.ts"]);
  });

  test("flags module-level let, unfrozen literals, new Map and RegExps, and writes to module bindings — not shadowed locals", () => {
    const findings = checkModuleState([fixture("core/state.ts"), fixture("core/clean.ts")]);
    expect(where(findings)).toEqual(["state.ts:2", "state.ts:3", "state.ts:4", "state.ts:19", "state.ts:20", "state.ts:21", "state.ts:9"]);
    // Any RegExp built at load time, plain or /g, alone or in a frozen table; a literal inside a function is fine.
    expect(findings.slice(3, 6).map((f) => f.message.split(":")[0])).toEqual([
      "module-level PATTERN holds a RegExp",
      "module-level PLAIN holds a RegExp",
      "module-level RULES holds a RegExp",
    ]);
    expect(findings[0].message).toContain("module-level let");
    expect(findings[1].message).toContain("TABLE holds a mutable object");
    expect(findings[6].message).toContain("assigns the module-level binding counter");
  });

  test("flags Node imports by exact name (import, export-from, dynamic import), not relative look-alikes", () => {
    const findings = checkNodeImports(path.join(FIXTURES, "core"));
    expect(where(findings)).toEqual(["uses-node.ts:2", "uses-node.ts:3", "uses-node.ts:6"]);
    expect(findings.map((f) => f.message)).toEqual([
      'imports the Node module "node:fs"',
      'imports the Node module "path"',
      'imports the Node module "crypto"',
    ]);
  });

  test("the firmware and device-test manifests are clean", () => {
    const findings = checkAll(
      [path.join(REPO_ROOT, "manifest.json"), path.join(REPO_ROOT, "tests/device/manifest.json")],
      path.join(REPO_ROOT, "modules"),
    );
    expect(findings).toEqual([]);
  });
});
