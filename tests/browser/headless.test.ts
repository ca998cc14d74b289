/**
 * `tools/xspos sim --headless --script FILE.json`: a scenario file in real time
 * against the real TLS host (no browser needed), and its usage errors.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

function xspos(args: string[]) {
  return spawnSync("tools/xspos", args, { encoding: "utf8", timeout: 90_000 });
}

test("a sale that times out is reversed over TLS, with the scenario runner's events and a reconcile that agrees", () => {
  // ×20, not ×100: the 10 s connect timeout keeps 500 ms of real time for TLS on a loaded machine (at ×100,
  // 100 ms; a run under load once ended the sale "not sent").
  const run = xspos(["sim", "--headless", "--script", "tests/scenarios/sale-timeout-reversed.json", "--time-scale", "20"]);
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const events = run.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(events[0]).toMatchObject({ t: 0, ev: "power", state: "on" });
  expect(events).toContainEqual(expect.objectContaining({ ev: "send", mti: "0400", stan: "000002", f39: "98" }));
  expect(events).toContainEqual(expect.objectContaining({ ev: "journal", stan: "000002", state: "reversed" }));
  expect(events.at(-1)).toMatchObject({ ev: "reconcile", agree: true });
});

test("a failed expectation exits 1 and names it", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-headless-"));
  const file = path.join(dir, "expects-a-sale.json");
  fs.writeFileSync(file, JSON.stringify({ steps: [{ op: "powerOn" }], expect: [{ has: { ev: "result", op: "sale" } }] }));
  const run = xspos(["sim", "--headless", "--script", file, "--time-scale", "100"]);
  fs.rmSync(dir, { recursive: true, force: true });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('expected an event with {"ev":"result","op":"sale"}');
});

test.each([
  [["sim", "--headless"], "--headless needs --script"],
  [["sim", "--headless", "--script", "no/such/file.json"], "cannot read no/such/file.json"],
  [["sim", "--headless", "--script", "tests/scenarios/sale-timeout-reversed.json", "--time-scale", "0"], "--time-scale must be"],
  [["sim", "--script", "tests/scenarios/sale-timeout-reversed.json"], "--script needs --headless"],
  [["sim", "--port", "http"], "--port must be"],
])("%j is a usage error (exit 2, one line)", (args, message) => {
  const run = xspos(args);
  expect(run.status).toBe(2);
  expect(run.stderr).toContain(message);
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
});
