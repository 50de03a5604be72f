/**
 * The web page and the operations dashboard checked with axe-core in a real
 * headless Chromium (Debian's, driven by playwright-core) against the real
 * stack: zero serious or critical violations, signed out and signed in with
 * runs and a plan, on a wide screen and on a 390 px phone (where nothing may
 * be wider than the screen: WCAG's reflow). The same person's charts keep a
 * slot for every week, the empty ones too, with units on their axes, and the
 * plan shows all its weeks down to the race. Screenshots go to .test-output/
 * (page-1280.png, page-390.png).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { waitFor } from "@runnerly/kit/testing";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../testdata/browser.ts";
import { isoWeekKey, weeksEnding } from "./client/periods.ts";
import { startWebStack, type WebStack } from "./testdata/stack.ts";

const OUT = ".test-output";
const PASSWORD = "correct Horse 7";
/** Bound of every wait: stats counts runs from events, a moment after they are stored. */
const WAIT_MS = 20_000;
const DAY_MS = 86_400_000;
/** Runs this many weeks ago (0 = this week): weeks between them have none. */
const RUN_WEEKS_AGO = [0, 2, 5, 9];
/** The plan's race, about 21 weeks out. */
const RACE_IN_DAYS = 145;

let stack: WebStack;
let browser: Browser;
const seededAt = Date.now();
const email = `axe-${seededAt}@example.com`;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  stack = await startWebStack();
  await seed();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A person with runs in weeks apart and a marathon plan, through the API, once stats has counted the runs. */
async function seed(): Promise<void> {
  const call = async (path: string, body: unknown, token?: string): Promise<Response> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${stack.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  await call("/api/accounts/signup", { email, password: PASSWORD, displayName: "Axe Runner" });
  const { accessToken } = (await (
    await call("/api/accounts/login", { email, password: PASSWORD })
  ).json()) as {
    accessToken: string;
  };
  for (const [i, weeks] of RUN_WEEKS_AGO.entries()) {
    const startedAt = runStart(weeks).toISOString();
    const run = { distanceM: 6000 + i * 2500, durationS: 1800 + i * 750, startedAt, kind: "easy" };
    await call("/api/runs/runs", run, accessToken);
  }
  const raceDate = new Date(Date.now() + RACE_IN_DAYS * DAY_MS).toISOString().slice(0, 10);
  const plan = { name: "Spring marathon", raceDate, raceDistanceM: 42_195, goalTimeS: 4 * 3600 };
  await call("/api/plans/plans", plan, accessToken);
  await waitFor(
    async () => {
      const res = await fetch(`${stack.url}/api/stats/summary`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      return res.ok && ((await res.json()) as { runs: number }).runs === RUN_WEEKS_AGO.length;
    },
    { timeoutMs: WAIT_MS, what: "stats counting the seeded runs" },
  );
}

/** When the run `weeksAgo` weeks back started: a minute before now, that many weeks earlier. */
function runStart(weeksAgo: number): Date {
  return new Date(seededAt - weeksAgo * 7 * DAY_MS - 60_000);
}

/** Serious and critical violations axe finds on the page as it is, one line each (empty when none). */
async function violations(page: Page): Promise<string[]> {
  const { violations, passes } = await new AxeBuilder({ page }).analyze();
  // axe ran its rules on this page: some passed.
  expect(passes.length).toBeGreaterThan(10);
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** A fresh page of `width` px, signed in as the seeded person, with the chart and the plan shown. */
async function signedIn(width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  await page.goto(stack.url);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  const weekly = page.getByRole("region", { name: "Weekly totals" });
  await weekly.getByRole("img").locator("rect.bar").first().waitFor({ timeout: WAIT_MS });
  await page.getByRole("region", { name: "Weeks of the plan" }).waitFor({ timeout: WAIT_MS });
  return page;
}

describe("the web page", () => {
  test("signed out: the log-in and sign-up forms have no serious violation", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(stack.url);
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await violations(page)).toEqual([]);
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByRole("heading", { name: "Create your account" }).waitFor();
    expect(await violations(page)).toEqual([]);
    await context.close();
  }, 60_000);

  test("signed in at 1280 px: a bar slot for every week, units on the axes, every week of the plan, no serious violation", async () => {
    const page = await signedIn(1280);
    await page.screenshot({ path: `${OUT}/page-1280.png`, fullPage: true });
    const chart = page.getByRole("region", { name: "Weekly totals" }).getByRole("img");

    // Twelve weeks in a row up to this one, the ones without runs at 0.
    const labels = await chart.locator("text.bar-label").allTextContents();
    expect(labels).toHaveLength(12);
    const numbers = labels.map((l) => Number(l.replace(/^W/, "")));
    for (let i = 1; i < numbers.length; i++) {
      const step = numbers[i]! - numbers[i - 1]!;
      // One week on, or from week 52 or 53 to week 1 at a year's end.
      expect(step === 1 || (numbers[i] === 1 && numbers[i - 1]! >= 52)).toBe(true);
    }
    const shown = weeksEnding(isoWeekKey(new Date()), 12);
    const withRuns = new Set(RUN_WEEKS_AGO.map((ago) => shown.indexOf(isoWeekKey(runStart(ago)))));
    const values = await chart.locator("text.bar-value").allTextContents();
    expect(values.map((v, i) => (v !== "0") === withRuns.has(i))).toEqual(values.map(() => true));
    expect(labels).toEqual(shown.map((key) => key.slice(5)));
    expect(await chart.locator("text.unit").textContent()).toBe("km");
    expect(await chart.locator("text.axis-title").textContent()).toMatch(/^ISO week, \d{4}(–\d{4})?$/);
    expect(await chart.locator("text.tick").count()).toBeGreaterThanOrEqual(3);
    expect(await chart.getAttribute("aria-label")).toContain(`; none in ${12 - withRuns.size} of them.`);
    const table = page.getByRole("table", { name: "Distance per week" });
    expect(await table.locator("tbody tr").count()).toBe(12);

    // The plan: every week laid out in full, the last one the race week, with nothing clipped around it.
    const weeks = page.getByRole("region", { name: "Weeks of the plan" });
    const rows = weeks.locator("tbody tr");
    expect(await rows.count()).toBeGreaterThanOrEqual(20);
    const race = rows.last();
    expect(await race.getAttribute("class")).toContain("week-race");
    expect(await race.getByRole("rowheader").textContent()).toContain("Race week");
    const clipped = await weeks.evaluate((box) => box.scrollHeight > box.clientHeight);
    expect(clipped).toBe(false);
    await race.scrollIntoViewIfNeeded();
    expect(await race.isVisible()).toBe(true);

    expect(await violations(page)).toEqual([]);
    await page.context().close();
  }, 60_000);

  test("signed in at 390 px: nothing wider than the screen, the plan's Done column in view, no serious violation", async () => {
    const page = await signedIn(390);
    await page.screenshot({ path: `${OUT}/page-390.png`, fullPage: true });
    const widths = await page.evaluate(() => ({
      scroll: document.scrollingElement?.scrollWidth ?? Number.POSITIVE_INFINITY,
      inner: window.innerWidth,
    }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);

    const weeks = page.getByRole("region", { name: "Weeks of the plan" });
    // The table fits its box: nothing to scroll sideways to.
    expect(await weeks.evaluate((box) => box.scrollWidth <= box.clientWidth)).toBe(true);
    const done = weeks.getByRole("columnheader", { name: "Done" });
    const lastDone = weeks.locator("tbody tr").last().locator("td").nth(2);
    for (const cell of [done, lastDone]) {
      const box = await cell.boundingBox();
      expect(box).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(widths.inner);
    }

    expect(await violations(page)).toEqual([]);
    await page.context().close();
  }, 60_000);
});

describe("the operations dashboard", () => {
  test("/_/ with every service listed has no serious violation", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.url}/_/`);
    // Filled in from its first snapshot: the services' names are on the page.
    for (const name of ["accounts", "runs", "stats", "plans"]) {
      const named = page.locator("main").getByText(name, { exact: true }).first();
      await named.waitFor({ state: "attached", timeout: WAIT_MS });
    }
    expect(await violations(page)).toEqual([]);
    await context.close();
  }, 60_000);
});
