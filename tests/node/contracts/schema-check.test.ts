/**
 * The CLI and the simulator page check scenario files and fault specs against
 * docs/schemas with ajv (tools/scenario/schema-check.ts): a refusal names the
 * JSON path, exit 2; a valid file still goes through the hand-written parser.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FaultSpecError } from "../../../tools/host/faults";
import { ScenarioFileError } from "../../../tools/scenario/scenario-file";
import { checkFaultSchema, checkScenarioSchema } from "../../../tools/scenario/schema-check";

const refused: [unknown, string][] = [
  [[], "scenario: must be object"],
  [{ steps: [{ op: "powerOn" }], extra: 1 }, "extra: unknown key"],
  [{ name: "x" }, "steps: missing"],
  [{ steps: [{ op: "powerOn" }, { op: "dance" }] }, 'steps[1].op: must be one of "powerOn", '],
  [{ steps: [{ op: "signOn", amount: 1 }] }, "steps[0].amount: unknown key"],
  [{ steps: [{ op: "sale", amount: 100 }] }, "steps[0].card: missing"],
  [{ steps: [{ op: "sale", amount: 0, card: "visa-msr" }] }, "steps[0].amount: must be >= 1"],
  [{ steps: [{ op: "sale", amount: 1, card: "visa-msr", pin: "123" }] }, 'steps[0].pin: must match pattern "^[0-9]{4,12}$"'],
  [{ steps: [{ op: "hostFault", fault: { kind: "delay" } }] }, "steps[0].fault.ms: missing"],
  [{ steps: [{ op: "hostFault", fault: { kind: "decline", code: "00" } }] }, 'steps[0].fault.code: must not be "00"'],
  [{ steps: [{ op: "hostFault", fault: { kind: "badMac", ms: 5 } }] }, "steps[0].fault.ms: not allowed with this kind"],
  [{ steps: [], terminal: { responseTimeoutMs: 0 } }, "terminal.responseTimeoutMs: must be >= 1"],
  [{ steps: [], flash: { sectorBytes: 3000 } }, "flash.sectorBytes: must be one of 512, 1024, 2048, 4096"],
  [{ steps: [], expect: [{ has: {}, lacks: {} }] }, "expect[0]: must be exactly one of the forms the schema allows"],
];

test.each(refused)("%j is refused: %s", (file, message) => {
  let thrown: unknown;
  try {
    checkScenarioSchema(file);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ScenarioFileError);
  expect((thrown as Error).message.startsWith(message)).toBe(true);
});

test("every scenario file of tests/scenarios passes", () => {
  for (const file of fs.readdirSync("tests/scenarios").filter((f) => f.endsWith(".json")))
    expect(() => checkScenarioSchema(JSON.parse(fs.readFileSync(`tests/scenarios/${file}`, "utf8")))).not.toThrow();
});

test("fault specs: the schema's refusal names the key", () => {
  expect(() => checkFaultSchema({ kind: "delay", ms: 5, count: 2, mti: "0200" })).not.toThrow();
  expect(() => checkFaultSchema({ kind: "delay", ms: "soon" })).toThrow(new FaultSpecError("ms", "must be integer"));
  expect(() => checkFaultSchema({ kind: "noResponse", colour: 1 })).toThrow(new FaultSpecError("colour", "unknown key"));
  expect(() => checkFaultSchema({ kind: "noResponse", count: 0 })).toThrow(new FaultSpecError("count", "must be >= 1"));
});

test("xspos scenario and sim --headless refuse a file that breaks the schema: exit 2, the JSON path on stderr", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-schema-"));
  const file = path.join(dir, "bad.json");
  fs.writeFileSync(file, JSON.stringify({ steps: [{ op: "powerOn" }, { op: "hostFault", fault: { kind: "delay", ms: -5 } }] }));
  for (const args of [
    ["scenario", file],
    ["sim", "--headless", "--script", file],
  ]) {
    const run = spawnSync("tools/xspos", args, { encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${file}: steps[1].fault.ms: must be >= 0`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
