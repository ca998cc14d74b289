import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseScenario, ScenarioFileError } from "../../../tools/scenario/scenario-file";
import { runScenario } from "../../../tools/scenario/runner";
import { nodeImageSigner } from "../../../tools/host/tms-signing";

/** Scenario files may publish signed images: the Node runs sign with the TEST key. */
const imageSigner = nodeImageSigner();

const DIR = path.resolve("tests/scenarios");
const FILES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();

describe("tests/scenarios", () => {
  test.each(FILES)("%s: every expectation holds and the last event is an agreeing reconcile", (file) => {
    const run = runScenario(parseScenario(JSON.parse(fs.readFileSync(path.join(DIR, file), "utf8"))), { imageSigner });
    expect(run.failures).toEqual([]);
    const last = run.events[run.events.length - 1];
    expect(last).toMatchObject({ ev: "reconcile", agree: true });
  });

  test("a run replays exactly", () => {
    const scenario = parseScenario(JSON.parse(fs.readFileSync(path.join(DIR, "bad-mac-A0.json"), "utf8")));
    expect(runScenario(scenario).events).toEqual(runScenario(scenario).events);
  });
});

describe("scenario files", () => {
  test.each([
    [{ steps: [{ op: "fly" }] }, "steps[0].op"],
    [{ steps: [{ op: "sale", amount: -1, card: "visa-msr" }] }, "steps[0].amount"],
    [{ steps: [{ op: "hostFault", fault: { kind: "delay" } }] }, "steps[0].fault"],
    [{ steps: [], terminal: { reversalRetries: 0 } }, "terminal.reversalRetries"],
    [{ steps: [], expect: [{ nothing: 1 }] }, "expect[0]"],
    [{ steps: [], extra: 1 }, "scenario.extra"],
  ])("%j is rejected naming %s", (input, where) => {
    expect(() => parseScenario(input)).toThrow(ScenarioFileError);
    expect(() => parseScenario(input)).toThrow(where);
  });
});

describe("tools/xspos scenario", () => {
  test("prints JSON lines and exits 0 when expectations hold", () => {
    const out = execFileSync("tools/xspos", ["scenario", path.join(DIR, "sale-timeout-reversed.json")], { encoding: "utf8" });
    const events = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { ev: string });
    expect(events[0]).toEqual({ t: 0, ev: "power", state: "on" });
    expect(events[events.length - 1].ev).toBe("reconcile");
  });

  test("exit 1 names the failed expectation; exit 2 for an invalid file", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-scenario-"));
    try {
      const failing = path.join(tmp, "failing.json");
      fs.writeFileSync(failing, JSON.stringify({ steps: [{ op: "powerOn" }], expect: [{ has: { ev: "send" } }] }));
      const one = spawnSync("tools/xspos", ["scenario", failing], { encoding: "utf8" });
      expect(one.status).toBe(1);
      expect(one.stderr).toContain('{"ev":"send"}');
      const invalid = path.join(tmp, "invalid.json");
      fs.writeFileSync(invalid, JSON.stringify({ steps: [{ op: "sale", card: "visa-msr" }] }));
      const two = spawnSync("tools/xspos", ["scenario", invalid], { encoding: "utf8" });
      expect(two.status).toBe(2);
      expect(two.stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
