/**
 * The simulator page with the Linux terminal binary behind it (`xspos sim
 * --terminal native`, tools/sim/native-app.ts) in a real browser: a sale with
 * a swipe card, a host that does not answer (the 0400 on the reversal
 * timeline), and a power cut during a sale (SIGKILL) with the reversal at
 * power on. The binary's screens are in its build's language (中文).
 * Skipped, with the reason printed, when the binary is not built
 * (`make native-terminal` needs the Moddable SDK).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { resolveParameters, type TerminalParameters } from "../../modules/terminal/parameters";
import { XSPOS_POLICY } from "../../modules/txn/reversal-policy";
import { NATIVE_TERMINAL } from "../../tools/lin/native-terminal";
import { SimDesk } from "../../tools/sim/desk";
import { startWebServer, type WebServer } from "../../tools/sim/web-server";
import { TcpCapture } from "../../tools/pcap/pcap";
import { byId, launchChromium, press, screenTitle, shot, WAIT_MS, type Browser } from "./chromium";

const built = fs.existsSync(NATIVE_TERMINAL);
if (!built) console.log(`native simulator page tests skipped: no native terminal at ${NATIVE_TERMINAL} (make native-terminal)`);
// Skipped only when the binary could not be built (no Moddable SDK): the line above says so in the run's output.
// eslint-disable-next-line no-restricted-properties
const describeBuilt = built ? describe : describe.skip;

/** Amount, the swipe card, PIN 1234, ENTER: up to the request going out. */
async function startSale(page: Page, amountDigits: string): Promise<void> {
  await press(page, amountDigits);
  await byId(page, "key-enter").click();
  await screenTitle(page, "请刷卡/插卡/挥卡");
  await byId(page, "card-visa-msr").click();
  await screenTitle(page, "请输入密码");
  await press(page, "1234");
  await byId(page, "key-enter").click();
}

async function addFault(page: Page, kind: string, mti: string, ms?: number): Promise<void> {
  await byId(page, "fault-kind").selectOption(kind);
  if (ms !== undefined) await byId(page, "fault-ms").fill(String(ms));
  await byId(page, "fault-count").fill("1");
  await byId(page, "fault-mti").fill(mti);
  await byId(page, "fault-add").click();
  await page.waitForFunction((k) => (document.querySelector('[data-testid="faults-list"]')?.textContent ?? "").includes(k), kind, {
    timeout: WAIT_MS,
  });
}

describeBuilt("the simulator page with the Linux terminal binary", () => {
  let browser: Browser;
  let context: BrowserContext;
  let varDir: string;
  let desk: SimDesk | undefined;
  let web: WebServer | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    context = browser.context;
  });

  afterEach(async () => {
    expect(pageErrors.splice(0)).toEqual([]);
    await web?.close();
    await desk?.close();
    fs.rmSync(varDir, { recursive: true, force: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function start(parameters: Partial<TerminalParameters>): Promise<Page> {
    varDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-native-page-"));
    desk = await SimDesk.start({
      varDir,
      persistent: true,
      settings: { parameters: resolveParameters(parameters), backoffMs: XSPOS_POLICY.backoffMs },
      capture: new TcpCapture(),
      terminal: "native",
    });
    web = await startWebServer(desk, 0);
    desk.sim.terminal.powerOn();
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(web.url);
    await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
    await screenTitle(page, "欢迎使用");
    return page;
  }

  test("a swipe sale, a host that does not answer (0400 on the timeline), a power cut during a sale and its reversal at power on", async () => {
    const page = await start({ responseTimeoutMs: 3000 });
    const sim = desk!.sim;
    // The page says which terminal runs and why the chip and contactless cards are disabled.
    await expect(byId(page, "panel-terminal").isVisible()).resolves.toBe(true);
    await expect(byId(page, "card-unionpay-chip").isDisabled()).resolves.toBe(true);
    await expect(byId(page, "card-visa-contactless").isDisabled()).resolves.toBe(true);
    await expect(byId(page, "cards-note").textContent()).resolves.toContain("swipe cards only");

    await byId(page, "menu-signOn").click();
    await screenTitle(page, "签到成功");
    await byId(page, "key-enter").click();
    await screenTitle(page, "欢迎使用");

    // A sale with the swipe card: approved, the slip masked, the host's messages in the log, the journal and ledger rows.
    await startSale(page, "1234");
    await screenTitle(page, "交易成功");
    await page.waitForSelector('[data-testid="receipt-sale"]', { timeout: WAIT_MS });
    const slip = await byId(page, "receipt-sale").first().textContent();
    expect(slip).toContain("476173******0011");
    await page.waitForSelector('[data-testid="journal-000002"][data-state="approved"]', { timeout: WAIT_MS });
    await page.waitForSelector('[data-testid="ledger-000002"][data-state="approved"]', { timeout: WAIT_MS });
    await page.locator('[data-testid="message"][data-mti="0200"]').first().click();
    const fields = await byId(page, "message-fields").first().textContent();
    expect(fields).toContain("[track 2 hidden");
    expect(fields).toContain("[PIN block hidden]");
    expect(await page.content()).not.toContain("4761730000000011");
    await shot(page, "native-sale-approved");
    await byId(page, "key-enter").click();
    await screenTitle(page, "欢迎使用");

    // No answer to the next sale: the deadline passes, the 0400 goes out and is answered: on the timeline.
    await addFault(page, "noResponse", "0200");
    await startSale(page, "500");
    await page.waitForSelector('[data-testid="timeline-000003"][data-resolution="reversed"]', { timeout: WAIT_MS });
    const timeline = await byId(page, "timeline-000003").locator("li").allTextContents();
    expect(timeline.some((text) => text.includes("0400 sent"))).toBe(true);
    expect(timeline.some((text) => text.includes("reversal due: 98 no answer"))).toBe(true);
    await expect(page.locator('[data-testid="message"][data-mti="0400"]').count()).resolves.toBe(1);
    await screenTitle(page, "已冲正");
    await expect(byId(page, "screen-lines").textContent()).resolves.toContain("持卡人未被扣款");
    await shot(page, "native-timeout-reversed");
    await byId(page, "key-enter").click();
    await screenTitle(page, "欢迎使用");

    // A power cut while the host holds the answer back: the process is killed; at power on the armed sale is reversed.
    await addFault(page, "delay", "0200", 30_000);
    await startSale(page, "2000");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="message"][data-mti="0200"]').length === 3, undefined, {
      timeout: WAIT_MS,
    });
    await byId(page, "power-cut").click();
    await page.waitForSelector('[data-testid="screen"][data-kind="off"]', { timeout: WAIT_MS });
    await shot(page, "native-power-cut");
    await byId(page, "power-on").click();
    await page.waitForSelector('[data-testid="timeline-000004"][data-resolution="reversed"]', { timeout: WAIT_MS });
    await screenTitle(page, "冲正成功 凭证号 000004");
    await expect(byId(page, "screen").getAttribute("data-kind")).resolves.toBe("reversedNotice");
    // New settings would restart the binary and take the notice away before the merchant saw it: refused.
    expect(() => desk!.applySettings({ responseTimeoutMs: 4000 })).toThrow(/reversal notice/);
    expect(sim.events).toContainEqual(expect.objectContaining({ ev: "power", state: "cut" }));
    expect(sim.events).toContainEqual(expect.objectContaining({ ev: "boot", reversalDue: 1 }));
    expect(sim.events).toContainEqual(expect.objectContaining({ ev: "send", mti: "0400", stan: "000004", f39: "98" }));
    const cells = await byId(page, "journal-000004").locator("td").allTextContents();
    expect(cells.slice(0, 3)).toEqual(["000004", "sale", "¥20.00"]);
    await shot(page, "native-power-on-recovered");
    await page.close();
  });

  test("chip cards are refused with the reason; settings restart the terminal with the new parameters", async () => {
    const page = await start({});
    const sim = desk!.sim;
    await byId(page, "menu-sale").click();
    await press(page, "100");
    await byId(page, "key-enter").click();
    await screenTitle(page, "请刷卡/插卡/挥卡");
    // The button is disabled; an action sent anyway is told why.
    desk!.sim.terminal.present("unionpay-chip");
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="notice"]')?.textContent ?? "").includes("仅支持刷卡"),
      undefined,
      {
        timeout: WAIT_MS,
      },
    );
    await byId(page, "key-cancel").click();
    await screenTitle(page, "交易取消");
    await byId(page, "key-enter").click();
    await screenTitle(page, "欢迎使用");
    desk!.applySettings({ responseTimeoutMs: 5000 });
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="notice"]')?.textContent ?? "").includes("终端已重启"),
      undefined,
      { timeout: WAIT_MS },
    );
    expect(sim.events.filter((e) => e.ev === "power").map((e) => e.state)).toEqual(["on", "off", "on"]);
    expect(fs.readFileSync(path.join(varDir, "native/nvs/xspos/respTimeoutMs")).readInt32LE(1)).toBe(5000);
    await page.close();
  });
  test("firmware updates: a good image published on the page installs at the TMS check (exit 75, started again) and is confirmed; one that crashes on boot rolls back", async () => {
    const page = await start({});
    const sim = desk!.sim;
    await page.waitForSelector('[data-testid="firmware-version"]:has-text("1.0.0")', { timeout: WAIT_MS });
    await byId(page, "menu-signOn").click();
    await screenTitle(page, "签到成功");
    await byId(page, "key-enter").click();
    const publish = async (version: string, kind: string) => {
      await byId(page, "tms-version").fill(version);
      await byId(page, "tms-kind").selectOption(kind);
      await byId(page, "tms-publish").click();
      await page.waitForSelector(`[data-testid="tms-state"]:has-text("published ${version}")`, { timeout: WAIT_MS });
      await byId(page, "menu-tmsCheck").click();
    };
    await publish("1.1.0", "good");
    await page.waitForSelector('[data-testid="firmware-update"][data-state="confirmed"]', { timeout: WAIT_MS });
    await expect(byId(page, "firmware-version").textContent()).resolves.toBe("1.1.0");
    // 1.2.1: the binary refuses the valid signatures of 1.2.0 and 1.3.0 crashesOnBoot (4096 bytes) as badSignature,
    // where the same core accepts them in Node and in xsnap: an open finding of the native build's P-256 check.
    await publish("1.2.1", "crashesOnBoot");
    await page.waitForSelector('[data-testid="firmware-update"][data-state="rolledBack"]', { timeout: WAIT_MS });
    await expect(byId(page, "firmware-update").textContent()).resolves.toContain("update 1.2.1: rolledBack (selfTest)");
    await expect(byId(page, "firmware-version").textContent()).resolves.toBe("1.1.0");
    expect(sim.events.filter((e) => e.ev === "boot").map((e) => e.version)).toEqual(["1.0.0", "1.1.0", "1.2.1", "1.1.0"]);
    await shot(page, "native-firmware-rolled-back");
    await page.close();
  });
});
