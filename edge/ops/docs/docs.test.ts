/**
 * `/docs` in headless Chromium with no network beyond 127.0.0.1: a real
 * nats-server, the runs service (its own SQLite file) and the edge served by
 * Bun. Every request the page makes to any other host is aborted and
 * recorded. Swagger UI must render the merged document (an operation of
 * runs on the page) from the edge's own files; with its bundle refused, the
 * page must say so and link /openapi.json. Screenshot: .test-output/docs.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { NatsServer } from "@runnerly/kit/testing";
import type { Server } from "bun";
import type { Browser, BrowserContext } from "playwright-core";
import { service as runsService } from "../../../services/runs/service.ts";
import { createEdge, type Edge } from "../../app.ts";
import { connect, waitFor } from "../../test-utils.ts";
import { launchChromium } from "../../testdata/browser.ts";
import { DOCS_CSP } from "./index.ts";

setDefaultTimeout(60_000);

const OUT = ".test-output";

let nats: NatsServer;
let dataDir: string;
let runs: RunningService<Record<string, unknown>>;
let nc: NatsConnection;
let edge: Edge;
let server: Server<unknown>;
let url: string;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  nats = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-docs-"));
  const env = { NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: "silent" };
  runs = (await startService(runsService, { env, logger: silentLogger })) as never;
  nc = await connect(nats.url, "edge");
  edge = createEdge({ nc, logger: silentLogger, sweepIntervalMs: 250 });
  await edge.ready;
  await waitFor(() => edge.routes.match("/api/runs/x")?.instances.length, {
    what: "the edge routing to runs",
  });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => edge.app.fetch(req) });
  url = `http://127.0.0.1:${server.port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop(true);
  await edge?.close();
  await nc?.close();
  await runs?.stop();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A context whose pages reach 127.0.0.1 only: every other request is aborted and listed in `elsewhere`. */
async function offlineContext(options: { javaScriptEnabled?: boolean } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const elsewhere: string[] = [];
  await context.route("**/*", (route) => {
    const target = route.request().url();
    if (new URL(target).hostname === "127.0.0.1") return route.continue();
    elsewhere.push(target);
    return route.abort("internetdisconnected");
  });
  return { context, elsewhere };
}

/** Page errors and console errors (CSP refusals show there) of every page of `context`. */
function problemsOf(context: BrowserContext): string[] {
  const problems: string[] = [];
  context.on("page", (page) => {
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(msg.text());
    });
  });
  return problems;
}

describe("/docs in Chromium with no network", () => {
  test("Swagger UI, served by the edge itself, renders the merged API; nothing leaves 127.0.0.1", async () => {
    const { context, elsewhere } = await offlineContext();
    const problems = problemsOf(context);
    // Anything the page's policy refuses (a style, a script, a connection) is listed here too.
    await context.addInitScript(() => {
      const w = window as unknown as { violations: string[] };
      w.violations = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        w.violations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    try {
      const page = await context.newPage();
      const res = await page.goto(`${url}/docs`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()["content-security-policy"]).toBe(DOCS_CSP);

      // An operation of runs, from the merged /openapi.json, rendered by Swagger UI.
      const operation = page.locator(".opblock-summary-path", { hasText: "/api/runs/runs/{id}" }).first();
      await operation.waitFor({ timeout: 15_000 });
      expect(await page.locator(".opblock-tag", { hasText: "runs" }).count()).toBeGreaterThan(0);
      // Mounted: the loading message is gone.
      await page.locator("#docs-status[data-state=ready]").waitFor({ state: "hidden", timeout: 5000 });
      // "Try it out" on the list of runs: the call goes to the edge and its answer is shown, highlighted.
      const list = page.locator(".opblock-get", {
        has: page.locator(".opblock-summary-path", { hasText: /^\/api\/runs\/runs$/ }),
      });
      await list.locator(".opblock-summary").click();
      await list.locator(".try-out__btn").click();
      await list.locator(".execute").click();
      // No token here: the runs service's own 401, through the edge.
      const code = list.locator(".live-responses-table tbody .response-col_status").first();
      await code.waitFor({ timeout: 10_000 });
      expect((await code.textContent())?.trim()).toBe("401");
      const body = list.locator(".live-responses-table .highlight-code").first();
      expect(await body.textContent()).toContain("This route needs an authenticated caller");
      await page.screenshot({ path: join(OUT, "docs.png"), fullPage: false });
      expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual(
        [],
      );

      expect(elsewhere).toEqual([]);
      // The one error the console shows is the 401 asked for above.
      expect(problems.filter((p) => !p.includes("status of 401"))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test("when Swagger UI's script cannot load, the page says so and links /openapi.json", async () => {
    const { context, elsewhere } = await offlineContext();
    try {
      await context.route("**/swagger-ui-bundle.js", (route) => route.abort("failed"));
      const page = await context.newPage();
      expect((await page.goto(`${url}/docs`))?.status()).toBe(200);
      const status = page.locator("#docs-status[data-state=failed]");
      await status.waitFor({ timeout: 10_000 });
      expect(await page.locator("#docs-message").textContent()).toContain("could not be loaded");
      const link = status.locator('a[href="/openapi.json"]');
      expect(await link.isVisible()).toBe(true);
      expect(await page.locator(".opblock").count()).toBe(0);
      expect(elsewhere).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test("without JavaScript the page says it needs it and links /openapi.json", async () => {
    const { context, elsewhere } = await offlineContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      expect((await page.goto(`${url}/docs`))?.status()).toBe(200);
      expect(await page.locator("noscript").count()).toBe(1);
      expect(await page.locator("body").innerText()).toContain("The interactive API docs need JavaScript.");
      expect(await page.locator('#docs-status a[href="/openapi.json"]').isVisible()).toBe(true);
      expect(elsewhere).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
