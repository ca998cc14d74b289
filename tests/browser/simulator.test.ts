/**
 * The simulator page in a real browser (Debian's chromium via playwright-core):
 * a sale, a host delay past the deadline and its reversal, a power cut during
 * a sale and the recovery at power on. Each test runs its own simulator
 * in-process (host over TLS, terminal core on real time, web server) on free
 * ports with its own temporary var dir. Screenshots: artifacts/screenshots/.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { resolveParameters, type TerminalParameters } from "../../modules/terminal/parameters";
import { XSPOS_POLICY } from "../../modules/txn/reversal-policy";
import type { Sim } from "../../tools/sim/app";
import { SimDesk } from "../../tools/sim/desk";
import { startWebServer, type WebServer } from "../../tools/sim/web-server";
import { TcpCapture } from "../../tools/pcap/pcap";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = path.resolve("artifacts/screenshots");
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const WAIT_MS = 20_000;

interface Running {
  readonly desk: SimDesk;
  /** The simulator as it was started (a reset replaces it: use desk.sim after one). */
  readonly sim: Sim;
  readonly web: WebServer;
  readonly varDir: string;
}

let context: BrowserContext;
let profileDir: string;
const running: Running[] = [];

async function startAll(parameters: Partial<TerminalParameters> = {}, varDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-browser-"))) {
  const desk = await SimDesk.start({
    varDir,
    persistent: true,
    settings: { parameters: resolveParameters(parameters), backoffMs: XSPOS_POLICY.backoffMs },
    capture: new TcpCapture(),
  });
  const web = await startWebServer(desk, 0);
  const entry = { desk, sim: desk.sim, web, varDir };
  running.push(entry);
  desk.sim.terminal.powerOn();
  return entry;
}

async function stop(entry: Running): Promise<void> {
  running.splice(running.indexOf(entry), 1);
  await entry.web.close();
  await entry.desk.close();
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-chromium-"));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 1000 },
  });
});

afterEach(async () => {
  for (const entry of [...running]) {
    await stop(entry);
    fs.rmSync(entry.varDir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  await context?.close();
  fs.rmSync(profileDir, { recursive: true, force: true });
});

const byId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

async function open(url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
  await byId(page, "lang-en").click();
  return page;
}

async function screenTitle(page: Page, text: string): Promise<void> {
  await page.waitForFunction((expected) => document.querySelector('[data-testid="screen-title"]')?.textContent === expected, text, {
    timeout: WAIT_MS,
  });
}

async function press(page: Page, keys: string): Promise<void> {
  for (const key of keys) await byId(page, `key-${key}`).click();
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

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

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
