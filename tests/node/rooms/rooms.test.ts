/**
 * The firmware core is type-checked with ES2022 only (tsconfig.json): a core
 * file that reaches for Node APIs or global timers does not compile.
 */
import path from "node:path";
import ts from "typescript";

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), "../../..");

function diagnosticsWithCoreOptions(file: string): string[] {
  const configPath = path.join(root, "tsconfig.json");
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram([file], parsed.options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("rooms", () => {
  test("a Node API use in a core module fails the core type-check", () => {
    const messages = diagnosticsWithCoreOptions(path.join(root, "tests/fixtures/rooms/uses-node.ts"));
    expect(messages.some((m) => m.includes("node:fs"))).toBe(true);
    expect(messages.some((m) => m.includes("'Buffer'"))).toBe(true);
    expect(messages.some((m) => m.includes("'setTimeout'"))).toBe(true);
    expect(messages.some((m) => m.includes("'process'"))).toBe(true);
  });

  test("the platform interfaces compile with the core options", () => {
    expect(diagnosticsWithCoreOptions(path.join(root, "modules/platform/virtual-clock.ts"))).toEqual([]);
  });
});
