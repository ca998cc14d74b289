/**
 * The page's desk without a browser: operator steps recorded as a scenario
 * file that the desk plays back to PASS, a reset that refuses a second one
 * while it runs and keeps serving the last view, switches refused while a
 * scenario plays.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resolveParameters } from "../../../modules/terminal/parameters";
import { XSPOS_POLICY } from "../../../modules/txn/reversal-policy";
import { TcpCapture } from "../../../tools/pcap/pcap";
import type { Sim } from "../../../tools/sim/app";
import { DeskError, SimDesk } from "../../../tools/sim/desk";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const WAIT_MS = 30_000;

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 20) {
    if (waitedMs > WAIT_MS) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let desk: SimDesk;
let varDir: string;

beforeEach(async () => {
  varDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-desk-"));
  desk = await SimDesk.start({
    varDir,
    persistent: true,
    settings: { parameters: resolveParameters({ responseTimeoutMs: 5000 }), backoffMs: XSPOS_POLICY.backoffMs },
    timeScale: 10,
    capture: new TcpCapture(),
  });
});

afterEach(async () => {
  await desk.close();
  fs.rmSync(varDir, { recursive: true, force: true });
});

test("keypad operations are recorded as scenario steps with the time between them; the recording plays back to PASS", async () => {
  await desk.startRecording();
  const terminal = () => (desk.sim as Sim).terminal;
  const press = (keys: string) => [...keys].forEach((key) => terminal().press(key as "0"));
  await until("power-on", () => terminal().screen?.kind === "idle");
  terminal().menu("signOn");
  await until("the sign-on", () => terminal().screen?.kind === "result");
  terminal().press("enter");
  desk.addFault({ kind: "noResponse", count: 1, mti: "0200" });
  press("250");
  terminal().press("enter");
  await until("the card prompt", () => terminal().screen?.kind === "presentCard");
  terminal().present("visa-msr");
  press("1234");
  terminal().press("clear");
  press("1234");
  terminal().press("enter");
  await until("the reversal", () => desk.sim.events.some((e) => e.ev === "journal" && e.state === "reversed"));
  const scenario = desk.stopRecording();
  expect(scenario.terminal.responseTimeoutMs).toBe(5000);
  expect(scenario.steps.filter((s) => s.op !== "advance")).toEqual([
    { op: "powerOn" },
    { op: "signOn" },
    { op: "hostFault", fault: { kind: "noResponse", count: 1, mti: "0200" } },
    { op: "sale", card: "visa-msr", amount: 250, pin: "1234" },
    { op: "drain" },
  ]);
  expect(scenario.steps[0]).toEqual({ op: "powerOn" });
  expect(scenario.steps.some((s) => s.op === "advance" && s.ms > 0)).toBe(true);
  expect(scenario.expect).toContainEqual({ has: { ev: "journal", stan: "000002", state: "reversed" } });
  expect(() => desk.stopRecording()).toThrow(DeskError);

  await desk.runScenario(scenario);
  expect(() => desk.power("cut")).toThrow("a scenario is running");
  await until("the verdict", () => desk.view().desk.run?.state !== "running");
  expect(desk.view().desk.run).toMatchObject({ state: "passed", failures: [] });
});

test("a reset refuses a second one while it runs and serves the last view meanwhile; afterwards the terminal is blank", async () => {
  (desk.sim as Sim).terminal.powerOn();
  (desk.sim as Sim).terminal.script("signOn", {});
  await until("the sign-on", () => desk.sim.events.some((e) => e.ev === "result" && e.op === "signOn"));
  await until("idle", () => (desk.sim as Sim).terminal.idle);
  const before = desk.view();
  const first = desk.reset();
  await expect(desk.reset()).rejects.toThrow("a reset is in progress");
  expect(desk.view().terminalState).toEqual(before.terminalState);
  await first;
  expect(desk.view().terminalState).toMatchObject({ stanNext: 1, signedOn: false });
  expect(desk.sim.events.map((e) => e.ev)).toEqual(["power", "boot"]);
  expect(() => desk.setTimeScale(0)).toThrow(DeskError);
  expect(() => desk.applySettings({ reversalAttempts: 11 })).toThrow("reversalAttempts: must be an integer (count) from 1 to 10, got 11");
  expect(() => desk.applySettings({ backoffMs: [1, -1] })).toThrow("backoff: at most 10 waits");
  await until("idle after boot", () => (desk.sim as Sim).terminal.idle);
  desk.applySettings({ reversalAttempts: 5, backoffMs: [] });
  expect((desk.sim as Sim).terminal.settings).toMatchObject({
    parameters: { reversalAttempts: 5, responseTimeoutMs: 5000 },
    backoffMs: [],
  });
});

test("a power cut with an approved sale on flash: the page keeps serving, its panels as last read; power on reads them again", async () => {
  const terminal = () => (desk.sim as Sim).terminal;
  terminal().powerOn();
  await until("power-on", () => terminal().screen?.kind === "idle");
  terminal().script("signOn", {});
  await until("the sign-on", () => desk.sim.events.some((e) => e.ev === "result" && e.op === "signOn"));
  terminal().script("sale", { amount: 100, card: "visa-msr" });
  await until("the approval", () => desk.sim.events.some((e) => e.ev === "result" && e.op === "sale" && e.outcome === "approved"));
  await until("idle", () => terminal().idle);
  const approved = (desk.sim as Sim).view().journal.approved;
  expect(approved).toEqual([expect.objectContaining({ stan: "000002", op: "sale", amount: 100, pan: "476173******0011" })]);

  // An unpowered chip answers no read: before, building the page's view threw PowerCut and the simulator exited.
  desk.power("cut");
  const off = (desk.sim as Sim).view();
  expect(off.powered).toBe(false);
  expect(off.journal.approved).toEqual(approved);

  desk.power("on");
  await until("power-on", () => terminal().screen?.kind === "idle");
  expect((desk.sim as Sim).view().journal.approved).toEqual(approved);
});
