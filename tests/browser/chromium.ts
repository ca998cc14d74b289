/**
 * What the page tests share: Debian's chromium through playwright-core (one persistent context per file,
 * its profile in a temporary directory), the page's elements by `data-testid`, and the keypad.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
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
export const SHOTS = path.resolve("artifacts/screenshots");
export const WAIT_MS = 20_000;

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-chromium-"));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

export const byId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

export async function screenTitle(page: Page, text: string): Promise<void> {
  await page.waitForFunction((expected) => document.querySelector('[data-testid="screen-title"]')?.textContent === expected, text, {
    timeout: WAIT_MS,
  });
}

export async function press(page: Page, keys: string): Promise<void> {
  for (const key of keys) await byId(page, `key-${key}`).click();
}

export const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
