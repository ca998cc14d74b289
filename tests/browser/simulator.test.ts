/**
 * The simulator page in a real browser (Debian's chromium via playwright-core):
 * a sale, a host delay past the deadline and its reversal, a power cut during
 * a sale and the recovery at power on; the test engineer's desk: settings and
 * the time scale changed while it runs, the reversal timeline, reset, record
 * and replay, the exports. Each test runs its own simulator
 * in-process (host over TLS, terminal core on real time, web server) on free
 * ports with its own temporary var dir. Screenshots: artifacts/screenshots/.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Ajv from "ajv";
import type { BrowserContext, Page } from "playwright-core";
import { resolveParameters, type TerminalParameters } from "../../modules/terminal/parameters";
import { XSPOS_POLICY } from "../../modules/txn/reversal-policy";
import type { Sim } from "../../tools/sim/app";
import { SimDesk } from "../../tools/sim/desk";
import { startWebServer, type WebServer } from "../../tools/sim/web-server";
import { TcpCapture } from "../../tools/pcap/pcap";
import { byId, launchChromium, press, screenTitle, shot, WAIT_MS, type Browser } from "./chromium";

const validEvent = new Ajv().compile(JSON.parse(fs.readFileSync("docs/schemas/event.schema.json", "utf8")) as object);

/** Every event the page's simulator traced fits docs/schemas/event.schema.json. */
function expectEventsFitTheSchema(events: readonly object[]): void {
  expect(events.filter((event) => !validEvent(event))).toEqual([]);
}

interface Running {
  readonly desk: SimDesk;
  /** The simulator as it was started (a reset replaces it: use desk.sim after one). */
  readonly sim: Sim;
  readonly web: WebServer;
  readonly varDir: string;
}

let browser: Browser;
let context: BrowserContext;
const running: Running[] = [];

async function startAll(parameters: Partial<TerminalParameters> = {}, varDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-browser-"))) {
  const desk = await SimDesk.start({
    varDir,
    persistent: true,
    settings: { parameters: resolveParameters(parameters), backoffMs: XSPOS_POLICY.backoffMs },
    capture: new TcpCapture(),
  });
  const web = await startWebServer(desk, 0);
  const entry = { desk, sim: desk.sim as Sim, web, varDir };
  running.push(entry);
  (desk.sim as Sim).terminal.powerOn();
  return entry;
}

async function stop(entry: Running): Promise<void> {
  running.splice(running.indexOf(entry), 1);
  await entry.web.close();
  await entry.desk.close();
}

beforeAll(async () => {
  browser = await launchChromium();
  context = browser.context;
});

afterEach(async () => {
  expect(pageErrors.splice(0)).toEqual([]);
  for (const entry of [...running]) {
    await stop(entry);
    fs.rmSync(entry.varDir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  await browser?.close();
});

/** Script errors on the page (a broken render is a bug even when the test's assertions pass). */
const pageErrors: string[] = [];

async function open(url: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
  await byId(page, "lang-en").click();
  return page;
}

async function signOn(page: Page): Promise<void> {
  await byId(page, "menu-signOn").click();
  await screenTitle(page, "SIGNED ON");
  await byId(page, "key-enter").click();
  await screenTitle(page, "WELCOME");
}

/** Amount, card, PIN 1234, ENTER: up to the request going out. */
async function startSale(page: Page, amountDigits: string, card: string): Promise<void> {
  await press(page, amountDigits);
  await byId(page, "key-enter").click();
  await screenTitle(page, "PRESENT CARD");
  await byId(page, card).click();
  await screenTitle(page, "ENTER PIN");
  await press(page, "1234");
  await byId(page, "key-enter").click();
}

async function addDelayFault(page: Page, ms: number): Promise<void> {
  await byId(page, "fault-kind").selectOption("delay");
  await byId(page, "fault-ms").fill(String(ms));
  await byId(page, "fault-mti").fill("0200");
  await byId(page, "fault-add").click();
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="faults-list"]')?.textContent ?? "").includes("delay"),
    undefined,
    {
      timeout: WAIT_MS,
    },
  );
}

/** The next `count` messages (the sale and its reversal attempts) get no answer. */
async function addNoResponseFault(page: Page, count: number): Promise<void> {
  await byId(page, "fault-kind").selectOption("noResponse");
  await byId(page, "fault-count").fill(String(count));
  await byId(page, "fault-mti").fill("");
  await byId(page, "fault-add").click();
}

test("a sale completes: approved on screen, slip printed with the PAN masked, booked by the host, kept on flash across a restart", async () => {
  const first = await startAll();
  const page = await open(first.web.url);
  await signOn(page);
  await startSale(page, "1234", "card-visa-msr");
  await screenTitle(page, "APPROVED");
  const slip = await byId(page, "receipt-sale").first().textContent();
  expect(slip).toContain("476173******0011");
  expect(slip).toContain("RMB 12.34");
  expect(await page.content()).not.toContain("4761730000000011");
  await expect(byId(page, "journal-000002").getAttribute("data-state")).resolves.toBe("approved");
  // The approved row's last cell is the auth code, labelled (it sits in the column reversals use for their reason).
  await expect(byId(page, "journal-000002").locator("td").last().textContent()).resolves.toMatch(/^授权 auth \d{6}$/);
  await expect(byId(page, "ledger-000002").getAttribute("data-state")).resolves.toBe("approved");
  // A message's decoded fields: PAN masked, track 2 and PIN block never shown raw.
  await page.locator('[data-testid="message"][data-mti="0200"]').first().click();
  const fields = await byId(page, "message-fields").first().textContent();
  expect(fields).toContain("[track 2 hidden");
  expect(fields).toContain("[PIN block hidden]");
  expect(fields).not.toMatch(/4761730000000011/);
  await byId(page, "lang-zh").click();
  await screenTitle(page, "交易成功");
  await shot(page, "sale-approved");
  await page.close();

  // The flash image survives a restart of the whole simulator.
  const varDir = first.varDir;
  await stop(first);
  const second = await startAll({}, varDir);
  expect(second.sim.view().journal.approved.map((r) => r.stan)).toEqual(["000002"]);
});

test("a host delay past the deadline: the countdown runs out, REVERSING while the 0400 is out, then REVERSED: not charged", async () => {
  const { web, sim } = await startAll({ responseTimeoutMs: 1500 });
  const page = await open(web.url);
  await signOn(page);
  // 1 s past the deadline: the connection is still open when the late 0210 comes, so the log shows it.
  await addDelayFault(page, 2500);
  await startSale(page, "500", "card-unionpay-chip");
  await page.waitForSelector('[data-testid="countdown"][data-active="true"]', { timeout: WAIT_MS });
  await shot(page, "delay-countdown");
  await screenTitle(page, "REVERSED");
  expect(sim.events.map((e) => e.ev === "screen" && e.text)).toContain("REVERSING");
  await expect(byId(page, "journal-000002").getAttribute("data-state")).resolves.toBe("reversed");
  const reversal = byId(page, "message").and(page.locator('[data-mti="0400"]'));
  await expect(reversal.count()).resolves.toBe(1);
  await expect(byId(page, "screen-lines").textContent()).resolves.toContain("the customer was not charged");
  await shot(page, "delay-reversed");
  // The 0210 arrives after the deadline: marked as the terminal treated it, not as an answer that took long.
  const late = page.locator('[data-testid="message"][data-mti="0210"].discarded');
  await late.waitFor({ timeout: WAIT_MS });
  await expect(late.textContent()).resolves.toMatch(/\d+ ms · late — discarded/);

  // The timeline of STAN 000002: the request, its deadline, the attempt, the 0400, the late 0210 marked, how it ended.
  const timeline = byId(page, "timeline-000002");
  await page.waitForSelector('[data-testid="timeline-000002"] li[data-kind="late"]', { timeout: WAIT_MS });
  await expect(timeline.getAttribute("data-resolution")).resolves.toBe("reversed");
  const kinds = await timeline.locator("li").evaluateAll((items) => items.map((li) => li.getAttribute("data-kind")));
  expect(kinds.slice(0, 4)).toEqual(["request", "request", "deadline", "attempt"]);
  expect(kinds).toContain("sent");
  expect(kinds.indexOf("resolution")).toBeLessThan(kinds.indexOf("late"));
  await expect(timeline.locator('li[data-kind="late"]').textContent()).resolves.toContain("0210 late — the deadline had passed, discarded");
  await shot(page, "timeline-late-answer");

  // A reload keeps the reversed row's details (they live on the server, not in the page).
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
  const cells = await byId(page, "journal-000002").locator("td").allTextContents();
  expect(cells).toEqual(["000002", "sale", "¥5.00", "622848******0023", "reversed", ""]);
  await page.close();
});

test("a power cut during a sale: the armed reversal survives on flash and goes out at power on", async () => {
  const { web, sim } = await startAll();
  const page = await open(web.url);
  await signOn(page);
  await addDelayFault(page, 30_000);
  await startSale(page, "2000", "card-unionpay-msr");
  await page.waitForSelector('[data-testid="countdown"][data-active="true"]', { timeout: WAIT_MS });
  await byId(page, "power-cut").click();
  await page.waitForSelector('[data-testid="screen"][data-kind="off"]', { timeout: WAIT_MS });
  await expect(byId(page, "journal-000002").getAttribute("data-state")).resolves.toBe("armed");
  await shot(page, "power-cut");
  await byId(page, "power-on").click();
  await page.waitForSelector('[data-testid="journal-000002"][data-state="reversed"]', { timeout: WAIT_MS });
  expect(sim.events).toContainEqual(expect.objectContaining({ ev: "boot", reversalDue: 1 }));
  expect(sim.events).toContainEqual(expect.objectContaining({ ev: "send", mti: "0400", stan: "000002", f39: "98" }));
  // The merchant never saw the cut sale's outcome: its reversal is told once, until ENTER.
  await screenTitle(page, "REVERSED: STAN 000002");
  await shot(page, "power-on-recovered");
  await byId(page, "key-enter").click();
  await screenTitle(page, "WELCOME");

  // A cut inside the next flash operation (the sale's STAN write): nothing is sent, and the terminal boots clean.
  await byId(page, "power-cut-next-flash").click();
  await press(page, "7");
  await byId(page, "key-enter").click();
  await screenTitle(page, "PRESENT CARD");
  await byId(page, "card-visa-msr").click();
  await press(page, "1234");
  await byId(page, "key-enter").click();
  await page.waitForSelector('[data-testid="screen"][data-kind="off"]', { timeout: WAIT_MS });
  await byId(page, "power-on").click();
  await page.waitForSelector('[data-testid="power-state"]:has-text("ON")', { timeout: WAIT_MS });
  expect(sim.events.filter((e) => e.ev === "send" && e.mti === "0200")).toHaveLength(1);
  const boots = sim.events.filter((e) => e.ev === "boot");
  expect(boots.at(-1)).toMatchObject({ reversalDue: 0 });
  expect(sim.events.filter((e) => e.ev === "power" && e.state === "cut")).toHaveLength(2);
  await page.close();
});

test("冲正失败 stays on the screen until ENTER; the pending-reversals list and the void prompt are modules/ui screens", async () => {
  const { web, sim } = await startAll({ responseTimeoutMs: 1000, reversalAttempts: 2 });
  const page = await open(web.url);
  await signOn(page);
  // The sale and every 0400 go unanswered for the whole test (the idle worker keeps retrying in the background).
  await addNoResponseFault(page, 40);
  await startSale(page, "1234", "card-visa-msr");
  await screenTitle(page, "REVERSAL FAILED");
  const lines = await byId(page, "screen-lines").textContent();
  expect(lines).toContain("The customer may have been charged");
  expect(lines).toContain("Keep this slip");
  expect(lines).toContain("call the acquirer hotline with the STAN");
  expect(await byId(page, "receipt-reversalFailed").first().textContent()).toContain("STAN  000002");
  // The sale's timeout result came after it and did not replace it; digits and the menu wait.
  expect(sim.events).toContainEqual(expect.objectContaining({ ev: "result", op: "sale", outcome: "timeout" }));
  await press(page, "5");
  await byId(page, "menu-pending").click();
  await expect(byId(page, "screen-title").textContent()).resolves.toBe("REVERSAL FAILED");
  await byId(page, "lang-zh").click();
  await screenTitle(page, "冲正失败");
  await shot(page, "reversal-failed-zh");
  await byId(page, "lang-en").click();
  await shot(page, "reversal-failed-en");
  await byId(page, "key-enter").click();
  await screenTitle(page, "WELCOME - 1 REVERSAL(S) PENDING");

  await byId(page, "menu-pending").click();
  await screenTitle(page, "PENDING REVERSALS");
  await expect(byId(page, "screen-lines").textContent()).resolves.toContain("000002 sale ¥12.34 FAILED 98 no answer, 2 tries");
  await byId(page, "lang-zh").click();
  await screenTitle(page, "未完成冲正");
  await expect(byId(page, "screen-lines").textContent()).resolves.toContain("000002 消费 ¥12.34 冲正失败 98 无应答 已试2次");
  await shot(page, "pending-reversals-zh");
  await byId(page, "lang-en").click();
  await shot(page, "pending-reversals-en");
  await byId(page, "key-cancel").click();
  await screenTitle(page, "WELCOME - 1 REVERSAL(S) PENDING");

  await byId(page, "menu-void").click();
  await screenTitle(page, "VOID: ORIGINAL STAN");
  await press(page, "9");
  await byId(page, "key-enter").click();
  await page.waitForFunction(() =>
    (document.querySelector('[data-testid="notice"]')?.textContent ?? "").includes("No sale with this STAN"),
  );
  await byId(page, "lang-zh").click();
  await page.waitForFunction(() => (document.querySelector('[data-testid="notice"]')?.textContent ?? "").includes("无此凭证号"));
  await byId(page, "lang-en").click();
  await expect(byId(page, "screen-title").textContent()).resolves.toBe("VOID: ORIGINAL STAN");
  await page.close();
});

test("the merchant's story: timeout → REVERSING → 冲正失败 with its slip → the network is down, the retry cannot go and nothing else may → the network is back → REVERSED notice and slip", async () => {
  const { web, sim } = await startAll({ responseTimeoutMs: 1000, reversalAttempts: 2 });
  const page = await open(web.url);
  await signOn(page);
  await addNoResponseFault(page, 40);
  await startSale(page, "1234", "card-unionpay-msr");
  await screenTitle(page, "REVERSING");
  await expect(byId(page, "screen-lines").textContent()).resolves.toContain("STAN 000002");
  await screenTitle(page, "REVERSAL FAILED");
  await expect(byId(page, "receipt-reversalFailed").count()).resolves.toBe(1);
  await byId(page, "key-enter").click();
  await screenTitle(page, "WELCOME - 1 REVERSAL(S) PENDING");

  // The bank answers again, but the network is down: the reversal cannot go, so the sign-on may not either.
  await byId(page, "fault-clear").click();
  await byId(page, "net-down").click();
  await byId(page, "menu-signOn").click();
  await screenTitle(page, "NO NETWORK — NOT SENT");
  await expect(byId(page, "receipt-reversalFailed").count()).resolves.toBe(1);
  await byId(page, "key-enter").click();
  await screenTitle(page, "WELCOME - 1 REVERSAL(S) PENDING");

  // The network is back: the terminal sends what it owes by itself, and tells the merchant once.
  await byId(page, "net-up").click();
  await screenTitle(page, "REVERSED: STAN 000002");
  await expect(byId(page, "screen-lines").textContent()).resolves.toContain("the customer was not charged");
  await expect(byId(page, "receipt-reversed").count()).resolves.toBe(1);
  await shot(page, "reversed-notice-en");
  await byId(page, "key-enter").click();
  await screenTitle(page, "WELCOME");
  expect(sim.events.filter((e) => e.ev === "slip").map((e) => e.kind)).toEqual(["reversalFailed", "reversed"]);
  await page.close();
});

async function applySettings(page: Page, values: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(values)) await byId(page, `set-${name}`).fill(value);
  await byId(page, "settings-apply").click();
}

async function scenarioState(page: Page, state: string): Promise<void> {
  await page.waitForSelector(`[data-testid="scenario-state"][data-state="${state}"]`, { timeout: 60_000 });
}

test("settings and the time scale apply while the simulator runs: a 60 s timeout in well under a second of real time at ×100", async () => {
  const { web, desk } = await startAll();
  const page = await open(web.url);
  await signOn(page);
  await expect(byId(page, "set-responseTimeoutMs").inputValue()).resolves.toBe("60000");

  // A value out of the parameter table's range is refused, naming the parameter; nothing changes.
  await applySettings(page, { responseTimeoutMs: "0" });
  await page.waitForFunction(() =>
    (document.querySelector('[data-testid="settings-state"]')?.textContent ?? "").includes(
      "responseTimeoutMs: must be an integer (ms) from 1",
    ),
  );
  expect((desk.sim as Sim).terminal.parameters.responseTimeoutMs).toBe(60_000);
  await applySettings(page, { responseTimeoutMs: "60000", backoffMs: "-5" });
  await page.waitForFunction(() => (document.querySelector('[data-testid="settings-state"]')?.textContent ?? "").includes("backoff"));

  // Two attempts, backoff 1000 ms then 3000 ms: applied at once, the terminal keeps its journal and sign-on.
  await applySettings(page, { responseTimeoutMs: "60000", reversalAttempts: "2", backoffMs: "1000, 3000", connectTimeoutMs: "20000" });
  await page.waitForFunction(() => (document.querySelector('[data-testid="settings-state"]')?.textContent ?? "").includes("2 attempts"));
  expect((desk.sim as Sim).terminal.settings).toEqual({
    parameters: expect.objectContaining({ responseTimeoutMs: 60_000, reversalAttempts: 2, connectTimeoutMs: 20_000 }),
    backoffMs: [1000, 3000],
  });
  await screenTitle(page, "WELCOME");
  expect((desk.sim as Sim).terminal.terminalState?.signedOn).toBe(true);

  // ×100: the sale's 60 s deadline and both 60 s reversal attempts (with the 1 s backoff) pass in about 2 s.
  await byId(page, "time-scale").selectOption("100");
  await page.waitForFunction(() => (document.querySelector('[data-testid="settings-state"]')?.textContent ?? "").includes("time ×100"));
  // Unanswered throughout: the idle worker's retries (5 s, 15 s, … of terminal time) fail too.
  await addNoResponseFault(page, 40);
  const startedMs = Date.now();
  await startSale(page, "100", "card-visa-msr");
  await screenTitle(page, "REVERSAL FAILED");
  const realMs = Date.now() - startedMs;
  const events = desk.sim.events;
  const sent = events.find((e) => e.ev === "send" && e.mti === "0200")!;
  const timeout = events.find((e) => e.ev === "journal" && e.state === "reversalDue")!;
  // Terminal time: the full 60 s deadline; real time: a small fraction of it (generous bound, shared machine).
  expect(timeout.t - sent.t).toBeGreaterThanOrEqual(60_000);
  expect(realMs).toBeLessThan(30_000);
  const failed = events.findIndex((e) => e.ev === "journal" && e.state === "failed");
  expect(events.slice(0, failed).filter((e) => e.ev === "send" && e.mti === "0400")).toHaveLength(2);
  const timeline = byId(page, "timeline-000002");
  await expect(timeline.getAttribute("data-resolution")).resolves.toBe("failed");
  await expect(timeline.locator('li[data-kind="backoff"]').textContent()).resolves.toContain("backoff 1000 ms before attempt 2");
  // Busy screens keep their settings: 冲正失败 waits for ENTER.
  await applySettings(page, { responseTimeoutMs: "5000" });
  // (or, while the idle worker's retry is on the wire, the terminal is busy)
  await page.waitForFunction(() =>
    /settings: the (screen waits for ENTER|terminal is busy)/.test(
      document.querySelector('[data-testid="settings-state"]')?.textContent ?? "",
    ),
  );
  expect((desk.sim as Sim).terminal.parameters.responseTimeoutMs).toBe(60_000);
  await byId(page, "key-enter").click();
  // New settings rebuilt the terminal (its boot event, no power event): still the contract's events.
  expectEventsFitTheSchema(desk.sim.events);
  await shot(page, "settings-time-scale");
  await page.close();
});

test("the timeline shows a reversal attempt refused at connect, the record still owed, and the retry that reversed it", async () => {
  // 20 s at ×10: 2 s of real time to pull the network while the sale waits.
  const { web, desk } = await startAll({ responseTimeoutMs: 20_000 });
  const page = await open(web.url);
  await signOn(page);
  await byId(page, "time-scale").selectOption("10");
  // The sale gets no answer and the network goes down while it waits: the reversal's connect is refused.
  await addNoResponseFault(page, 1);
  await startSale(page, "300", "card-visa-msr");
  await page.waitForSelector('[data-testid="countdown"][data-active="true"]', { timeout: WAIT_MS });
  await byId(page, "net-down").click();
  await page.waitForSelector('[data-testid="timeline-000002"] li[data-kind="offline"]', { timeout: WAIT_MS });
  await expect(byId(page, "timeline-000002").getAttribute("data-resolution")).resolves.toBe("open");
  await byId(page, "net-up").click();
  await page.waitForSelector('[data-testid="timeline-000002"][data-resolution="reversed"]', { timeout: WAIT_MS });
  const timeline = byId(page, "timeline-000002");
  const texts = await timeline.locator("li").allTextContents();
  const kinds = await timeline.locator("li").evaluateAll((items) => items.map((li) => li.getAttribute("data-kind")));
  expect(kinds).toContain("refused");
  expect(kinds).toContain("offline");
  expect(kinds.indexOf("refused")).toBeLessThan(kinds.indexOf("sent"));
  expect(texts.join("\n")).toContain("(owed from before)");
  expect(desk.sim.events).toContainEqual(expect.objectContaining({ ev: "journal", stan: "000002", state: "reversed" }));
  await shot(page, "timeline-refused-connect");
  await page.close();
});

/** Publishes a test image from the firmware panel; the page shows it as published. */
async function publishImage(page: Page, version: string, kind: string): Promise<void> {
  await byId(page, "tms-version").fill(version);
  await byId(page, "tms-kind").selectOption(kind);
  await byId(page, "tms-publish").click();
  await page.waitForFunction(
    (text) => (document.querySelector('[data-testid="tms-state"]')?.textContent ?? "").includes(text),
    `published ${version} (${kind}`,
    { timeout: WAIT_MS },
  );
}

async function firmwareState(page: Page, state: string, version: string): Promise<void> {
  await page.waitForSelector(`[data-testid="firmware-update"][data-state="${state}"]`, { timeout: WAIT_MS });
  await expect(byId(page, "firmware-update").textContent()).resolves.toContain(`update ${version}: ${state}`);
}

test("firmware updates on the page: a good image downloads at the TMS check, restarts into 1.1.0 and is confirmed; a bad signature is rejected and 1.1.0 runs on", async () => {
  const { web, desk } = await startAll();
  const page = await open(web.url);
  await expect(byId(page, "firmware-version").textContent()).resolves.toBe("1.0.0");
  await signOn(page);
  await publishImage(page, "1.1.0", "good");
  await byId(page, "menu-tmsCheck").click();
  // Downloaded, verified and activated: the terminal restarts into the new slot, whose first boot signs on and confirms it.
  await firmwareState(page, "confirmed", "1.1.0");
  await expect(byId(page, "firmware-version").textContent()).resolves.toBe("1.1.0");
  await expect(byId(page, "notice").textContent()).resolves.toContain("Software updated");
  const updates = desk.sim.events.filter((e) => e.ev === "update").map((e) => `${String(e.state)} ${String(e.version)}`);
  expect(updates).toEqual(["available 1.1.0", "downloading 1.1.0", "verified 1.1.0", "activated 1.1.0", "confirmed 1.1.0"]);
  expect(desk.sim.events.filter((e) => e.ev === "boot").map((e) => e.version)).toEqual(["1.0.0", "1.1.0"]);
  expect(desk.sim.events).toContainEqual(expect.objectContaining({ ev: "power", state: "off" }));
  await shot(page, "firmware-confirmed");

  await publishImage(page, "1.2.0", "badSignature");
  await byId(page, "menu-tmsCheck").click();
  await firmwareState(page, "rejected", "1.2.0");
  await expect(byId(page, "firmware-update").textContent()).resolves.toContain("(badSignature)");
  await expect(byId(page, "notice").textContent()).resolves.toContain("Software update refused");
  await expect(byId(page, "firmware-version").textContent()).resolves.toBe("1.1.0");
  expect(desk.sim.events.filter((e) => e.ev === "boot")).toHaveLength(2);
  // Not downloaded: a bad signature is refused on the manifest.
  expect(desk.sim.events.filter((e) => e.ev === "update" && e.version === "1.2.0").map((e) => e.state)).toEqual(["available", "rejected"]);
  expectEventsFitTheSchema(desk.sim.events);
  await shot(page, "firmware-rejected");

  // A publication the host would refuse is refused on the page with the reason.
  await byId(page, "tms-kind").selectOption("good");
  await byId(page, "tms-version").fill("1.2");
  await byId(page, "tms-publish").click();
  await page.waitForSelector('[data-testid="tms-state"][data-error="true"]', { timeout: WAIT_MS });
  await expect(byId(page, "tms-state").textContent()).resolves.toContain("version must be major.minor.patch");
  await page.close();
});

test("reset gives a blank terminal and host; the message panel names the fields and hides the card's bytes in the hex dump; the exports", async () => {
  const { web, desk } = await startAll();
  const page = await open(web.url);
  await signOn(page);
  await startSale(page, "1234", "card-visa-msr");
  await screenTitle(page, "APPROVED");
  await byId(page, "key-enter").click();
  // A declined sale's record closes (completed): its row keeps op, amount and masked PAN, across a reload too.
  await startSale(page, "777", "card-insufficient-funds");
  await page.waitForSelector('[data-testid="journal-000003"][data-state="completed"]', { timeout: WAIT_MS });
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
  const declined = await byId(page, "journal-000003").locator("td").allTextContents();
  expect(declined.slice(0, 3)).toEqual(["000003", "sale", "¥7.77"]);
  expect(declined[3]).toMatch(/^\d{6}\*{6}\d{4}$/);

  await page.locator('[data-testid="message"][data-mti="0200"]').last().click();
  const fields = await byId(page, "message-fields").first().textContent();
  expect(fields).toContain("0200 Financial request");
  expect(fields).toMatch(/F11 System trace audit number +000002/);
  expect(fields).toMatch(/F35 Track 2 data +\[track 2 hidden, 34 digits\]/);
  const hex = (await byId(page, "message-hex").first().textContent())!;
  expect(hex).toMatch(/^0000 {2}[0-9a-f]{2} /);
  expect(hex).toContain("**");
  // The PAN's middle digits, the track and the PIN block never appear: 47 61 73 ** … 00 11.
  expect(hex.replace(/\s+/g, "")).not.toContain("4761730000000011");

  const pcap = await page.evaluate(async () => Array.from(new Uint8Array(await (await fetch("/capture.pcap")).arrayBuffer()).slice(0, 4)));
  expect(pcap).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
  const trace = await page.evaluate(async () => (await fetch("/trace.jsonl")).text());
  const events = trace
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(events).toContainEqual(expect.objectContaining({ ev: "send", mti: "0200", stan: "000002" }));
  expect(await byId(page, "export-pcap").getAttribute("href")).toBe("/capture.pcap");

  await byId(page, "reset").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="journal"]')?.childElementCount === 0, undefined, {
    timeout: WAIT_MS,
  });
  await screenTitle(page, "WELCOME");
  await expect(byId(page, "terminal-state").textContent()).resolves.toContain("next STAN 000001 · not signed on");
  await expect(byId(page, "ledger").textContent()).resolves.toContain("approved 0");
  expect(desk.sim.messages.entries()).toHaveLength(0);
  await page.close();
});

test("record a session as a scenario file, replay it with PASS shown; a file that fails shows FAIL and why; a bad file names the JSON path", async () => {
  const { web, desk } = await startAll({ responseTimeoutMs: 2000 });
  const page = await open(web.url);
  await byId(page, "time-scale").selectOption("10");
  await byId(page, "record-start").click();
  await scenarioState(page, "recording");
  await signOn(page);
  await addDelayFault(page, 5000);
  await startSale(page, "500", "card-unionpay-chip");
  await screenTitle(page, "REVERSED");
  await byId(page, "key-enter").click();
  const download = page.waitForEvent("download");
  await byId(page, "record-stop").click();
  const file = await download;
  const recorded = JSON.parse(fs.readFileSync((await file.path())!, "utf8")) as {
    terminal: Record<string, unknown>;
    steps: Record<string, unknown>[];
    expect: unknown[];
  };
  expect(recorded.terminal).toMatchObject({ responseTimeoutMs: 2000 });
  const ops = recorded.steps.map((step) => step.op).filter((op) => op !== "advance");
  expect(ops).toEqual(["powerOn", "signOn", "hostFault", "sale", "drain"]);
  expect(recorded.steps).toContainEqual({ op: "sale", card: "unionpay-chip", amount: 500, pin: "1234" });
  expect(recorded.steps).toContainEqual({ op: "hostFault", fault: { kind: "delay", count: 1, mti: "0200", ms: 5000 } });
  expect(recorded.expect).toContainEqual({ has: { ev: "result", op: "sale", outcome: "timeout", stan: "000002" } });
  expect(recorded.expect).toContainEqual({ has: { ev: "journal", stan: "000002", state: "reversed" } });
  await page.waitForFunction(() =>
    /recorded: \d+ step\(s\)/.test(document.querySelector('[data-testid="scenario-state"]')?.textContent ?? ""),
  );

  // The CLI reads what the page wrote.
  const cli = spawnSync("tools/xspos", ["sim", "--headless", "--script", (await file.path())!, "--time-scale", "10"], {
    encoding: "utf8",
    timeout: 90_000,
  });
  expect(cli.stderr).toBe("");
  expect(cli.status).toBe(0);

  await byId(page, "record-replay").click();
  await scenarioState(page, "passed");
  await expect(byId(page, "scenario-state").textContent()).resolves.toContain("PASS");
  expectEventsFitTheSchema(desk.sim.events);
  await shot(page, "scenario-passed");

  // A scenario whose expectation does not hold.
  const failing = {
    name: "expects an approval",
    steps: [{ op: "powerOn" }, { op: "signOn" }],
    expect: [{ has: { ev: "result", op: "sale" } }],
  };
  await byId(page, "scenario-file").setInputFiles({
    name: "failing.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(failing)),
  });
  await scenarioState(page, "failed");
  await expect(byId(page, "scenario-failures").textContent()).resolves.toContain('expected an event with {"ev":"result","op":"sale"}');
  await shot(page, "scenario-failed");

  // A file that is not a scenario: refused before anything runs, with the JSON path.
  const bad = { steps: [{ op: "powerOn" }, { op: "sale", amount: 0, card: "visa-msr" }] };
  await byId(page, "scenario-file").setInputFiles({
    name: "bad.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(bad)),
  });
  await page.waitForFunction(() =>
    (document.querySelector('[data-testid="scenario-state"]')?.textContent ?? "").includes("steps[1].amount"),
  );
  await page.close();
});
