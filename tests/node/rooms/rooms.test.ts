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

describe("room boundaries (eslint)", () => {
  const lint = async (file: string, code: string): Promise<string[]> => {
    const { ESLint } = await import("eslint");
    const [result] = await new ESLint({ cwd: root }).lintText(code, { filePath: path.join(root, file) });
    return result.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
  };

  test.each([
    ["modules/txn/probe.ts", 'import { TEXTS } from "../ui/texts";\nexport const X = TEXTS;\n', "txn must not depend on ui"],
    [
      "modules/txn/probe.ts",
      'import { Terminal } from "../terminal/terminal";\nexport const X = Terminal;\n',
      "txn must not depend on ui or terminal",
    ],
    [
      "modules/ui/probe.ts",
      'import { Terminal } from "../terminal/terminal";\nexport const X = Terminal;\n',
      "ui must not depend on the terminal",
    ],
    ["modules/link/probe.ts", 'import { TxnEngine } from "../txn/engine";\nexport const X = TxnEngine;\n', "A lower room"],
    [
      "modules/terminal/probe.ts",
      'import { NorFlash } from "../emulators/nor-flash";\nexport const X = NorFlash;\n',
      "emulators and test cards",
    ],
    [
      "modules/update/probe.ts",
      'import { Terminal } from "../terminal/terminal";\nexport const X = Terminal;\n',
      "update must not depend on ui or terminal",
    ],
    [
      "modules/update/probe.ts",
      'import { NorFlash } from "../emulators/nor-flash";\nexport const X = NorFlash;\n',
      "emulators and test cards",
    ],
    [
      "modules/txn/probe.ts",
      'import { TEST_CARDS } from "../card/test-cards";\nexport const X = TEST_CARDS;\n',
      "emulators and test cards",
    ],
  ])("%s: %s is refused", async (file, code, message) => {
    expect((await lint(file, code)).join("\n")).toContain(message);
  });

  test("the allowed direction passes: terminal → ui → txn", async () => {
    expect(
      await lint("modules/terminal/probe.ts", 'import { TerminalUi } from "../ui/terminal-ui";\nexport const X = TerminalUi;\n'),
    ).toEqual([]);
    expect(await lint("modules/ui/probe.ts", 'import type { TxnEvent } from "../txn/events";\nexport type X = TxnEvent;\n')).toEqual([]);
  });
});

describe("one terminal assembly", () => {
  // Every host builds modules/terminal's Terminal: none wires an engine or a UI of its own, so what scenario and chaos judge is what the device runs.
  const hosts = ["hosts/esp32/terminal.ts", "tools/sim/terminal.ts", "tools/scenario/runner.ts", "tools/chaos/system.ts"];

  test.each(hosts)("%s builds the Terminal and no engine or UI of its own", async (file) => {
    const fs = await import("node:fs");
    const source = fs.readFileSync(path.join(root, file), "utf8");
    expect(source).toMatch(/new Terminal\(/);
    expect(source).not.toMatch(/new (TxnEngine|TerminalUi|FlashStateStore)\(/);
  });
});
