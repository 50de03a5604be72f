/**
 * A person's whole journey on the Runnerly web page, in a real headless
 * Chromium (Debian's, driven by playwright-core) against the real stack:
 * nats-server, the accounts, runs, stats and plans services, and the edge.
 * Screenshots go to .test-output/ (journey.png, journey-narrow.png,
 * journey-degraded.png).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { Browser, Locator, Page } from "playwright-core";
import { launchChromium } from "../testdata/browser.ts";
import { sampleGpx } from "./testdata/gpx.ts";
import { startWebStack, type WebStack } from "./testdata/stack.ts";

const OUT = ".test-output";
const PASSWORD = "correct Horse 7";
/** Bound of every wait: stats counts runs from events, a moment after they are stored. */
const WAIT_MS = 20_000;

let stack: WebStack;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  stack = await startWebStack();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Waits for `locator` to contain `text` (auto-retrying, bounded). */
async function see(locator: Locator, text: string | RegExp): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: WAIT_MS });
}

/** The card (a `<section>` region) named by its heading. */
const card = (page: Page, name: string) => page.getByRole("region", { name, exact: true });

describe("the web page", () => {
  test("sign up, log a run, import a GPX file, see totals and bests, plan a race and get its season report, log out and in, degrade", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      // Failed API calls the page handles (the weak password below) are logged by Chromium; CSP refusals too.
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource"))
        problems.push(msg.text());
    });

    // The shell: real HTML with a strict policy, then the app takes over.
    const home = await page.goto(stack.url);
    expect(home?.status()).toBe(200);
    expect(home?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await page.getByRole("heading", { name: "Log in" }).waitFor();

    // Sign up, by keyboard; the service's problem detail is shown for a weak password.
    const email = `ann-${Date.now()}@example.com`;
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByLabel("Email").focus();
    await page.keyboard.type(email);
    await page.keyboard.press("Tab");
    await page.keyboard.type("Ann Runner");
    await page.keyboard.press("Tab");
    await page.keyboard.type("aaaaaaaaaaaa");
    await page.keyboard.press("Enter");
    await see(page.locator("#auth-status.error"), "must mix at least two");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("Password").press("Enter");
    await see(page.locator("header"), "Signed in as Ann Runner");

    // Log a run.
    const logRun = card(page, "Log a run");
    await logRun.getByLabel("Distance (km)").fill("10.5");
    await logRun.getByLabel("Duration (hh:mm:ss)").fill("52:30");
    await logRun.getByLabel("Kind").selectOption("tempo");
    await logRun.getByLabel("Notes").fill("Canal loop");
    await logRun.getByRole("button", { name: "Log run" }).click();
    await see(logRun.getByRole("status"), "Logged 10.5 km in 52:30.");

    // Import a GPX file: laps of a park an hour ago.
    const track = sampleGpx({ start: new Date(Date.now() - 3_600_000), km: 5.4, paceSPerKm: 320 });
    const gpx = card(page, "Import a GPX file");
    await gpx.getByLabel(/GPX file/).setInputFiles({
      name: "park-laps.gpx",
      mimeType: "application/gpx+xml",
      buffer: Buffer.from(track.xml),
    });
    await gpx.getByRole("button", { name: "Import" }).click();
    await see(gpx.getByRole("status"), /Imported park-laps\.gpx: 5\.4 km in 28:00, \d+ m climb\./);

    // Both runs listed, newest first.
    const runs = card(page, "Your runs").getByRole("listitem");
    await see(runs.nth(1), "GPX");
    await see(runs.first(), "10.5 km");
    expect(await runs.count()).toBe(2);

    // Totals follow once stats has counted both runs: bars, a summary label, and the data table.
    const weekly = card(page, "Weekly totals");
    await see(card(page, "All time"), /Runs\s*2/);
    const weeklyChart = weekly.getByRole("img");
    await weeklyChart.locator("rect.bar").first().waitFor({ timeout: WAIT_MS });
    expect(await weeklyChart.getAttribute("aria-label")).toContain("15.9 km in all");
    const weeklyTable = weekly.getByRole("table", { name: "Distance per week" });
    expect(await weeklyTable.locator("tbody tr").count()).toBeGreaterThanOrEqual(1);
    const monthly = card(page, "Monthly totals").getByRole("img");
    expect(await monthly.locator("rect.bar").count()).toBeGreaterThanOrEqual(1);
    // The GPX track has per-km splits, so it gives a 5 km best.
    await see(card(page, "Personal bests").getByRole("row"), "5 km");

    // Create a plan for a 10 km race ten weeks out, and see its weeks and progress.
    const plans = card(page, "Plans");
    const raceDay = new Date(Date.now() + 70 * 86_400_000).toISOString().slice(0, 10);
    await plans.getByLabel("Name").fill("Autumn 10k");
    await plans.getByLabel("Race date").fill(raceDay);
    await plans.getByLabel("Distance", { exact: true }).selectOption({ label: "10 km" });
    await plans.getByLabel("Goal time (hh:mm:ss)").fill("0:48:00");
    await plans.getByRole("button", { name: "Create plan" }).click();
    await see(plans.getByRole("status"), /Created “Autumn 10k” with \d+ weeks\./);
    await plans.getByRole("heading", { name: "Autumn 10k" }).waitFor();
    const weeks = plans.getByRole("region", { name: "Weeks of the plan" }).locator("tbody tr");
    expect(await weeks.count()).toBeGreaterThanOrEqual(10);
    // This week's runs (15.9 km) count toward the first week: completion above zero.
    await see(plans.locator(".completion"), /Completion so far\s*[1-9]\d*% of the planned distance/);
    // Both runs, or only the manual one in the first hour of a week (the track started an hour earlier).
    await see(weeks.first(), /15\.9 km|10\.5 km/);

    // The season report: plans asks stats through the broker; the page follows its status as a stream through the edge.
    const streamed = page.waitForResponse(
      (res) =>
        res.url().endsWith("/report") && (res.request().headers().accept ?? "").includes("text/event-stream"),
      { timeout: WAIT_MS },
    );
    await plans.getByRole("button", { name: "Season report" }).click();
    expect((await streamed).headers()["content-type"]).toContain("text/event-stream");
    const season = plans.getByRole("region", { name: "Season report" });
    await see(season, /15\.9 km in 2 runs|10\.5 km in 1 run/);
    await see(season, "at 5:");
    expect(await season.getByRole("table").locator("tbody tr").count()).toBeGreaterThanOrEqual(1);
    await see(plans.locator("#season-status"), "Season report ready.");

    // An expired or broken access token is renewed with the refresh token, once, unseen.
    const before = await session(page);
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem("runnerly.session") ?? "{}");
      sessionStorage.setItem("runnerly.session", JSON.stringify({ ...s, accessToken: "broken" }));
    });
    await page.reload();
    await see(card(page, "Your runs").getByRole("listitem").first(), "10.5 km");
    const after = await session(page);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe("broken");

    await page.screenshot({ path: `${OUT}/journey.png`, fullPage: true });

    // A phone: one column, nothing wider than the viewport (the layout itself is checked in accessibility.test.ts).
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(
      () => (document.scrollingElement?.scrollWidth ?? Number.POSITIVE_INFINITY) - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${OUT}/journey-narrow.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    // Log out: the session is gone here and at accounts (its refresh token no longer works).
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("runnerly.session"))).toBeNull();
    const reuse = await fetch(`${stack.url}/api/accounts/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: after.refreshToken }),
    });
    expect(reuse.status).toBe(401);

    // Log in again: the same runs are there.
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await see(card(page, "Your runs").getByRole("listitem").first(), "10.5 km");

    // Stats goes down: the plan is still shown, with its progress marked unavailable.
    await stack.stopService("stats");
    await page.reload();
    await plans.getByRole("heading", { name: "Autumn 10k" }).waitFor({ timeout: WAIT_MS });
    await see(plans.locator(".note"), "Progress unavailable right now");
    await see(card(page, "Your runs").getByRole("listitem").first(), "10.5 km");
    await page.screenshot({ path: `${OUT}/journey-degraded.png`, fullPage: true });

    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});

async function session(page: Page): Promise<{ accessToken: string; refreshToken: string }> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("runnerly.session") ?? "null"));
}
