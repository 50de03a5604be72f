/**
 * Headless Chromium for the browser tests (the page, the dashboard,
 * accessibility): Debian's build, or `CHROMIUM_BIN`, driven by playwright-core.
 */
import { type Browser, chromium } from "playwright-core";

/** Starts headless Chromium; close it in the test file's afterAll. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
