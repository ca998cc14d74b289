/**
 * The JSON Schemas of docs/schemas against the code that reads and writes
 * what they describe: every scenario file of tests/scenarios is valid; files
 * the scenario parser refuses are refused by the schema too (and the other
 * way round for the cases below); every event that every scenario emits, and
 * every event of a chaos seed, fits the event schema; the schemas' terminal
 * parameters and fault kinds are the code's tables.
 */
import Ajv from "ajv";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { PARAMETER_TABLE } from "../../../modules/terminal/parameters";
import { runSeed } from "../../../tools/chaos/run";
import { FAULT_COUNT_MAX, FAULT_DELAY_MS_MAX, FAULT_KINDS, parseFault } from "../../../tools/host/faults";
import { runScenario } from "../../../tools/scenario/runner";
import { nodeImageSigner } from "../../../tools/host/tms-signing";

/** Scenario files may publish signed images: the Node runs sign with the TEST key. */
const imageSigner = nodeImageSigner();
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { Device, TestSource, chip, manifestOf } from "../../core/update/rig";

const read = (name: string) => JSON.parse(fs.readFileSync(`docs/schemas/${name}`, "utf8")) as Record<string, unknown>;
const faultSchema = read("fault.schema.json");
const scenarioSchema = read("scenario.schema.json");
const eventSchema = read("event.schema.json");
const ajv = new Ajv({ allErrors: true });
ajv.addSchema(faultSchema, "fault.schema.json");
const validScenario = ajv.compile(scenarioSchema);
const validFault = ajv.getSchema("fault.schema.json")!;
const validEvent = ajv.compile(eventSchema);
const SCENARIOS = fs.readdirSync("tests/scenarios").filter((f) => f.endsWith(".json"));

const errorsOf = (validate: typeof validEvent) => ajv.errorsText(validate.errors, { separator: "; " });

test.each(SCENARIOS)("tests/scenarios/%s fits the scenario schema", (file) => {
  const scenario: unknown = JSON.parse(fs.readFileSync(`tests/scenarios/${file}`, "utf8"));
  expect(validScenario(scenario) ? "valid" : errorsOf(validScenario)).toBe("valid");
});

const base = { steps: [{ op: "powerOn" }] };
const refused: [string, unknown][] = [
  ["not an object", []],
  ["an unknown top-level key", { ...base, extra: 1 }],
  ["steps missing", { name: "x" }],
  ["an unknown op", { steps: [{ op: "dance" }] }],
  ["a key a simple op does not take", { steps: [{ op: "signOn", amount: 1 }] }],
  ["a sale without a card", { steps: [{ op: "sale", amount: 100 }] }],
  ["a sale of 0", { steps: [{ op: "sale", amount: 0, card: "visa-msr" }] }],
  ["a PIN of 3 digits", { steps: [{ op: "sale", amount: 1, card: "visa-msr", pin: "123" }] }],
  ["a void STAN of 5 digits", { steps: [{ op: "void", stan: "12345" }] }],
  ["a negative advance", { steps: [{ op: "advance", ms: -1 }] }],
  ["a network state other than up/down", { steps: [{ op: "network", state: "sideways" }] }],
  ["a delay fault without ms", { steps: [{ op: "hostFault", fault: { kind: "delay" } }] }],
  ["a decline with 00", { steps: [{ op: "hostFault", fault: { kind: "decline", code: "00" } }] }],
  ["ms on a fault that is not a delay", { steps: [{ op: "hostFault", fault: { kind: "badMac", ms: 5 } }] }],
  ["an unknown fault kind", { steps: [{ op: "hostFault", fault: { kind: "explode" } }] }],
  ["an unknown terminal parameter", { ...base, terminal: { colour: 1 } }],
  ["a response timeout of 0", { ...base, terminal: { responseTimeoutMs: 0 } }],
  ["a sector size of 3000", { ...base, flash: { sectorBytes: 3000 } }],
  ["an expectation with two kinds", { ...base, expect: [{ has: {}, lacks: {} }] }],
  ["a count without eq", { ...base, expect: [{ count: { ev: "send" } }] }],
];

test.each(refused)("%s: refused by the schema and by the parser alike", (_what, file) => {
  expect(validScenario(file)).toBe(false);
  expect(() => parseScenario(file)).toThrow();
});

test("the parser's accepted extras are in the schema: aliases, every op, every expectation", () => {
  const file = {
    name: "all ops",
    terminal: { reversalRetries: 2, amountMaxMinor: 100, batchCountMax: 5, batchAmountMaxMinor: 1000 },
    flash: { sectorBytes: 512, journalSectors: 3 },
    steps: [
      ...["powerOn", "powerOff", "signOn", "signOff", "echo", "settle", "networkCheck", "drain"].map((op) => ({ op })),
      { op: "powerCut", atFlashOp: 3 },
      { op: "balance", card: "visa-msr", pin: "1234" },
      { op: "sale", amount: 1, card: "unionpay-chip" },
      { op: "refund", amount: 1, card: "visa-msr", stan: "000001" },
      { op: "void", stan: "000002" },
      { op: "advance", ms: 0 },
      { op: "hostFault", fault: { kind: "decline", code: "51", count: 2, mti: "0200" } },
      { op: "network", state: "down", latencyMs: 10 },
    ],
    expect: [{ has: { ev: "send" } }, { lacks: { ev: "recv" } }, { count: { ev: "send" }, eq: 0 }],
  };
  expect(validScenario(file) ? "valid" : errorsOf(validScenario)).toBe("valid");
  expect(() => parseScenario(file)).not.toThrow();
});

test("the schemas' terminal parameters and fault kinds are the code's tables", () => {
  const terminal = (scenarioSchema.definitions as Record<string, { properties: Record<string, { minimum?: number; maximum?: number }> }>)
    .terminal.properties;
  for (const p of PARAMETER_TABLE) {
    for (const name of [p.name, ...(p.aliases ?? [])]) {
      if (p.unit === "flag") expect(terminal[name]).toEqual({ type: "boolean" });
      // JSON Schema counts characters; the table's limit counts UTF-8 bytes, so the schema's is the loose bound.
      else if (p.unit === "text") expect([name, (terminal[name] as { maxLength?: number }).maxLength]).toEqual([name, p.max]);
      else expect([name, terminal[name].minimum, terminal[name].maximum]).toEqual([name, p.min, p.max]);
    }
  }
  expect(Object.keys(terminal).sort()).toEqual(PARAMETER_TABLE.flatMap((p) => [p.name, ...(p.aliases ?? [])]).sort());
  const props = faultSchema.properties as Record<string, { enum?: string[]; maximum?: number }>;
  expect(props.kind.enum).toEqual([...FAULT_KINDS]);
  expect([props.count.maximum, props.ms.maximum]).toEqual([FAULT_COUNT_MAX, FAULT_DELAY_MS_MAX]);
  for (const fault of [
    { kind: "delay", ms: 5 },
    { kind: "noResponse", count: 3, mti: "0400" },
    { kind: "decline", code: "A1" },
  ]) {
    expect(validFault(fault)).toBe(true);
    expect(() => parseFault(fault)).not.toThrow();
  }
});

test("every event of every scenario file, and of chaos seeds, fits the event schema", () => {
  const misfits = new Map<string, string>();
  let count = 0;
  const check = (source: string, event: unknown) => {
    count++;
    if (!validEvent(event)) misfits.set(`${source}: ${JSON.stringify(event)}`, errorsOf(validEvent));
  };
  for (const file of SCENARIOS) {
    const run = runScenario(parseScenario(JSON.parse(fs.readFileSync(`tests/scenarios/${file}`, "utf8"))), { imageSigner });
    for (const event of run.events) check(file, event);
  }
  for (let seed = 0; seed < 20; seed++) for (const event of runSeed(seed).events) check(`chaos seed ${seed}`, event);
  expect([...misfits].slice(0, 5)).toEqual([]);
  expect(count).toBeGreaterThan(1000);
});

test("update events of every kind of publication and outcome fit the event schema; a wrong state or reason does not", async () => {
  const events: unknown[] = [];
  const flash = chip();
  const device = new Device(flash);
  device.updater.powerOn();
  const bad = manifestOf("v120");
  await device.updater.check(new TestSource("v120", { manifest: { ...bad, signature: bad.signature.map((b) => b ^ 1) } }));
  await device.updater.check(new TestSource("v090"));
  await device.updater.check(new TestSource("v130"));
  await device.updater.check(new TestSource("v120", { corruptAt: 7 }));
  await device.updater.check(new TestSource("v110", { manifest: { ...manifestOf("v110"), version: "1.x" } }));
  device.clean = false;
  await device.updater.check(new TestSource("v110"));
  device.clean = true;
  device.updater.activateWhenClean();
  events.push(...device.events);
  const trial = new Device(flash);
  trial.updater.powerOn();
  trial.updater.bootFailed("selfTest");
  const back = new Device(flash);
  back.updater.powerOn();
  events.push(...back.events);
  const states = new Set(events.map((e) => (e as { state: string }).state));
  expect([...states].sort()).toEqual(["activated", "available", "downloading", "rejected", "rolledBack", "verified", "waiting"]);
  for (const event of events) expect(validEvent({ t: 0, ...(event as object) }) ? "valid" : errorsOf(validEvent)).toBe("valid");
  expect(validEvent({ t: 0, ev: "update", state: "installed", version: "1.1.0" })).toBe(false);
  expect(validEvent({ t: 0, ev: "update", state: "rejected", version: "1.1.0", reason: "because" })).toBe(false);
  expect(validEvent({ t: 0, ev: "boot", reversalDue: 0, version: "1.1.0" })).toBe(true);
});

test("the contracts live in the repository: no file cites the old shared copy", () => {
  // Spelled in two pieces so this file does not cite it either.
  const cited = spawnSync("git", ["grep", "-l", "-F", ["shared", "contracts.md"].join("/")], { encoding: "utf8" });
  expect(cited.stdout.trim().split("\n").filter(Boolean)).toEqual([]);
  // The researched references' facts are told in the project's own docs (docs/cup-dialect.md and the
  // room docs); only the vendored SDK archive stays outside the repository (Makefile).
  for (const cite of [["shared", "reference"].join("/"), ["docs", "reference"].join("/")]) {
    const citing = spawnSync("git", ["grep", "-n", "-F", cite], { encoding: "utf8" });
    expect(citing.stdout.trim().split("\n").filter(Boolean)).toEqual([]);
  }
  expect(fs.readFileSync("docs/contracts.md", "utf8")).toContain("extend, never break");
});
