/**
 * The dashboard against the real thing: a nats-server with JetStream, the
 * runs and stats services as their own Bun processes (each with its SQLite
 * file), the edge served by Bun, and Debian's Chromium driven by
 * playwright-core. A service SIGKILLed by PID must turn "down" on the open
 * page within seconds. Two instances of the edge's test service
 * (testdata/mesh-service.ts), one made to fail, show the balancer's
 * ejection. Screenshots: .test-output/dashboard.png, dashboard-ejected.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsServer } from "@runnerly/kit/testing";
import type { Server, Subprocess } from "bun";
import type { Browser, Page } from "playwright-core";
import { createEdge, type Edge } from "../../app.ts";
import { connect, recordingLogger, waitFor } from "../../test-utils.ts";
import { launchChromium } from "../../testdata/browser.ts";
import { meshProcesses } from "../../testdata/spawn.ts";
import type { ServiceView, Snapshot } from "./types.ts";

setDefaultTimeout(60_000);

const OUT = ".test-output";
const SERVICES = ["runs", "stats"] as const;
/** "Within a few seconds": the bound on a killed service turning down on the page. */
const DOWN_WITHIN_MS = 5000;
/** How long an ejection lasts here: longer than the test looks at it. */
const EJECT_MS = 120_000;
/** `--down` in styles.css: the colour of a problem. */
const DOWN_COLOUR = "rgb(180, 35, 24)";

let nats: NatsServer;
let dataDir: string;
const procs = new Map<string, Subprocess>();
let mesh: ReturnType<typeof meshProcesses>;
let nc: NatsConnection;
let edge: Edge;
let server: Server<unknown>;
let url: string;
let browser: Browser;

function spawnService(name: string): Subprocess {
  const main = new URL(`../../../services/${name}/main.ts`, import.meta.url).pathname;
  return Bun.spawn([process.execPath, main], {
    env: { PATH: process.env.PATH ?? "", NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: "warn" },
    stdin: "ignore",
    stdout: "inherit",
    stderr: "inherit",
  });
}

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  nats = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-dashboard-"));
  for (const name of SERVICES) procs.set(name, spawnService(name));
  mesh = meshProcesses(nats.url);
  mesh.start();
  mesh.start();
  nc = await connect(nats.url, "edge");
  edge = createEdge({
    nc,
    logger: recordingLogger(),
    sweepIntervalMs: 250,
    // One failure ejects: this file shows an ejection, it does not test when one happens
    // (proxy/balancing.test.ts does). With three, a failing instance whose one slow 503 under load
    // made the balancer avoid it could stay undrawn for longer than the test waits.
    outlier: { failures: 1, ejectMs: EJECT_MS, maxEjectMs: EJECT_MS },
  });
  await edge.ready;
  // A service that cannot start says so at once rather than after the wait.
  const died = Promise.race(
    [...procs].map(([name, p]) =>
      p.exited.then((code) => Promise.reject(new Error(`${name} exited (${code}) before it was routed`))),
    ),
  );
  died.catch(() => {}); // the processes are killed at the end too
  await Promise.race([
    died,
    waitFor(
      () =>
        SERVICES.every((s) => edge.routes.match(`/api/${s}/x`)?.instances.length) &&
        edge.routes.match("/api/mesh/x")?.instances.length === 2,
      { timeoutMs: 30_000, what: "the edge routing to runs, stats and two instances of mesh" },
    ),
  ]);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => edge.app.fetch(req) });
  url = `http://127.0.0.1:${server.port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop(true);
  await edge?.close();
  await nc?.close();
  for (const p of procs.values()) {
    if (p.exitCode === null && p.signalCode === null) process.kill(p.pid, "SIGKILL");
    await p.exited;
  }
  await mesh?.stopAll();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function snapshot(): Promise<Snapshot> {
  const res = await fetch(`${url}/_/api/snapshot`);
  expect(res.status).toBe(200);
  return (await res.json()) as Snapshot;
}

const find = (s: Snapshot, name: string): ServiceView | undefined => s.services.find((x) => x.name === name);

async function traffic(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    for (const s of SERVICES) expect((await fetch(`${url}/api/${s}/healthz`)).status).toBe(200);
  }
}

describe("GET /_/api/snapshot", () => {
  test("every running service: healthy, its instance and version, endpoints, kit figures, topology, live rates", async () => {
    // The kit's figures ride on $SRV.STATS once each service runs: wait for both to report them.
    const first = await waitFor(
      async () => {
        const s = await snapshot();
        return find(s, "runs")?.outbox && find(s, "stats")?.consumers.length ? s : null;
      },
      { timeoutMs: 10_000, what: "runs and stats reporting their outbox and consumers" },
    );
    for (const name of SERVICES) {
      const svc = find(first, name);
      expect(svc).toMatchObject({
        status: "healthy",
        reasons: [],
        prefix: `/api/${name}`,
        circuit: "closed",
      });
      // The edge has not called it yet: the balancer knows nothing of it.
      expect(svc?.instances).toEqual([
        { id: expect.any(String), version: "1.0.0", started: expect.any(String), missed: 0, balance: null },
      ]);
      expect(svc?.endpoints[0]).toMatchObject({ name: "http", subject: `svc.${name}.http`, kind: "http" });
    }
    const runs = find(first, "runs")!;
    const stats = find(first, "stats")!;
    expect(runs.outbox).toEqual({ backlog: 0, oldestAgeMs: null });
    expect(runs.stream).toBe("EVENTS_RUNS");
    expect(stats.endpoints.map((e) => `${e.name}:${e.kind}`)).toContain("weeklyTotals:rpc");
    expect(stats.consumers).toContainEqual(
      expect.objectContaining({ name: "stats-update-totals", stream: "EVENTS_RUNS", dead: 0 }),
    );
    expect(first.topology.links).toEqual(
      expect.arrayContaining([
        { from: "edge", to: "service:runs" },
        { from: "edge", to: "service:stats" },
        { from: "service:runs", to: "stream:EVENTS_RUNS" },
        { from: "stream:EVENTS_RUNS", to: "consumer:EVENTS_RUNS/stats-update-totals" },
        // Stats submits its monthly reports to its own queue.
        { from: "service:stats", to: "queue:TASKS_STATS", kind: "task" },
      ]),
    );
    expect(stats.tasks?.queue).toMatchObject({ stream: "TASKS_STATS", inProgress: expect.any(Number) });
    expect(stats.tasks?.submits).toContain("stats/report.monthly");
    expect(first.topology.nodes).toContainEqual({
      id: "queue:TASKS_STATS",
      kind: "queue",
      label: "TASKS_STATS (stats)",
      status: "healthy",
      depth: expect.any(Number),
      oldestAgeMs: null,
    });

    // Requests through the edge show in its own figures at once, and in the services' counts a poll later.
    await traffic(20);
    const after = await waitFor(
      async () => {
        const s = await snapshot();
        return (find(s, "runs")?.service.requestsPerSecond ?? 0) > 0 ? s : null;
      },
      { timeoutMs: 5000, what: "the service's own counts moving" },
    );
    const edgeFigures = find(after, "runs")!.edge;
    expect(edgeFigures.requests).toBeGreaterThanOrEqual(20);
    expect(edgeFigures.requestsPerSecond).toBeGreaterThan(0);
    expect(edgeFigures.errorRate).toBe(0);
    expect(edgeFigures.p99Ms).toBeGreaterThan(0);
    // Now the edge has called each instance: healthy, with a latency estimate.
    for (const name of SERVICES) {
      expect(find(after, name)?.instances[0]?.balance).toEqual({
        state: "healthy",
        ejectedUntil: null,
        inFlight: expect.any(Number),
        latencyMs: expect.any(Number),
        failures: 0,
        ejections: 0,
      });
    }
  });
});

describe("GET /_/events", () => {
  test("a Server-Sent Events stream: `data:` frames, each a snapshot, about one a second", async () => {
    const abort = new AbortController();
    const res = await fetch(`${url}/_/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const started = performance.now();
    const frames = () => text.split("\n\n").filter((f) => f.includes("data: "));
    while (frames().length < 2 && performance.now() - started < 5000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    abort.abort();
    const [first, second] = frames();
    expect(first).toMatch(/^retry: 1000$/m);
    for (const frame of [first!, second!]) {
      expect(frame).toMatch(/^event: snapshot$/m);
      const data = frame
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      const snap = JSON.parse(data) as Snapshot;
      expect(snap.services.map((s) => s.name)).toEqual(expect.arrayContaining([...SERVICES]));
    }
  });
});

describe("the edge's own namespace", () => {
  test("/_/ is never rate limited; `dashboard: false` leaves it a 404", async () => {
    const limitedNc = await connect(nats.url, "edge-limited");
    const limited = createEdge({
      nc: limitedNc,
      logger: recordingLogger(),
      // On the service's prefix: it wins over the limit runs declares (a `default` would not).
      rateLimits: {
        policies: [{ name: "/api/runs", prefix: "/api/runs", limit: 2, windowMs: 60_000 }],
        bucket: null,
      },
      peerAddress: () => "192.0.2.7",
    });
    const off = createEdge({ nc: limitedNc, logger: recordingLogger(), dashboard: false });
    try {
      await Promise.all([limited.ready, off.ready]);
      const proxied = [];
      for (let i = 0; i < 3; i++) proxied.push((await limited.app.request("/api/runs/healthz")).status);
      expect(proxied).toEqual([200, 200, 429]);
      for (let i = 0; i < 3; i++) expect((await limited.app.request("/_/api/snapshot")).status).toBe(200);
      expect((await limited.app.request("/_/")).status).toBe(200);

      for (const path of ["/_/", "/_/api/snapshot", "/_/events"]) {
        expect((await off.app.request(path)).status).toBe(404);
      }
    } finally {
      await limited.close();
      await off.close();
      await limitedNc.close();
    }
  });
});

describe("the page in Chromium", () => {
  test("shows the running services healthy and live; a SIGKILLed service turns down within seconds", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const elsewhere: string[] = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(msg.text()); // CSP refusals show here
    });
    page.on("request", (req) => {
      if (!req.url().startsWith(url) && !req.url().startsWith("data:")) elsewhere.push(req.url());
    });

    const res = await page.goto(`${url}/_/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await page.locator("#link.live").waitFor({ timeout: 5000 });
    for (const name of SERVICES) await seeStatus(page, name, "healthy", 10_000);

    // Traffic through the edge: the overview's request rate for runs moves above zero.
    await traffic(25);
    await page.waitForFunction(
      () =>
        Number(
          document.querySelector('#overview tr[data-service="runs"] [data-field="edge-rps"]')?.textContent,
        ) > 0,
      undefined,
      { timeout: 5000 },
    );
    // Each instance as the edge's balancer sees it, in words: healthy, tries in flight, latency.
    await page
      .locator('section.card[data-service="runs"] .instances [data-field="balance"]')
      .filter({ hasText: /^ · healthy · \d+ in flight · latency \d+(\.\d)? m?s$/ })
      .waitFor({ timeout: 5000 });
    // The topology: edge → runs → EVENTS_RUNS → stats' consumer.
    for (const id of [
      "edge",
      "service:runs",
      "service:stats",
      "stream:EVENTS_RUNS",
      "consumer:EVENTS_RUNS/stats-update-totals",
      "queue:TASKS_STATS",
    ]) {
      await page.locator(`svg.topology [data-node="${id}"]`).waitFor({ timeout: 5000 });
    }
    // Stats' own task queue with its depth, and the dashed link of the tasks it submits to it.
    expect(await page.locator('svg.topology [data-node="queue:TASKS_STATS"] text.lag').textContent()).toBe(
      "0",
    );
    // Attached, not "visible": a level curve has no height, which Playwright counts as hidden.
    await page.locator('svg.topology path.link.task[data-link="service:stats>queue:TASKS_STATS"]').waitFor({
      state: "attached",
      timeout: 5000,
    });
    expect(
      await page.locator('section.card[data-service="stats"] [data-field="tasks"]').textContent(),
    ).toContain("in TASKS_STATS");

    // Kill stats outright: no announcement, no goodbye; the page must notice on its own.
    const stats = procs.get("stats")!;
    process.kill(stats.pid, "SIGKILL");
    await stats.exited;
    const killedAt = performance.now();
    await seeStatus(page, "stats", "down", DOWN_WITHIN_MS);
    const tookMs = performance.now() - killedAt;
    expect(tookMs).toBeLessThan(DOWN_WITHIN_MS);
    await page.locator('section.card.down[data-service="stats"]').waitFor({ timeout: 2000 });
    await page.locator('svg.topology [data-node="service:stats"].down').waitFor({ timeout: 2000 });
    // The other service is untouched.
    expect(await statusText(page, "runs")).toBe("healthy");
    await page.screenshot({ path: `${OUT}/dashboard.png`, fullPage: true });

    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
    await context.close();
  });
});

describe("the page in Chromium, an instance that fails", () => {
  test("is ejected: its line says until when (local time) in the colour of a problem; the service is degraded", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    await page.goto(`${url}/_/`);
    await seeStatus(page, "mesh", "healthy", 10_000);

    const instances = () => edge.status().find((r) => r.service === "mesh")?.instances ?? [];
    const [failing, other] = instances().map((i) => i.id);
    // Its 503 is retried on the other instance, and ejects it.
    const ejected = await waitFor(
      async () => {
        expect((await fetch(`${url}/api/mesh/hello?fail=${failing}`)).status).toBe(200);
        const balance = instances().find((i) => i.id === failing)?.balance;
        return balance?.state === "ejected" ? balance : null;
      },
      { timeoutMs: 10_000, intervalMs: 1, what: "the failing instance to be ejected" },
    );

    await seeStatus(page, "mesh", "degraded", 5000);
    const card = page.locator('section.card[data-service="mesh"]');
    await card
      .locator(".reasons li")
      .filter({ hasText: /^1 of 2 instances ejected \(until \d\d:\d\d:\d\d UTC\)$/ })
      .waitFor({ timeout: 5000 });
    const line = card.locator(`li.ejected[data-instance="${failing}"]`);
    await line.waitFor({ timeout: 5000 });
    const text = (await line.locator('[data-field="balance"]').textContent()) ?? "";
    // The browser's own time of day (the edge computes the instant once per snapshot: allow a second either way).
    const until = Date.parse(ejected.ejectedUntil ?? "");
    const local = await page.evaluate(
      (times) => times.map((t) => new Date(t).toLocaleTimeString()),
      [until - 1000, until, until + 1000],
    );
    expect(local.some((t) => text.startsWith(` · ejected until ${t} · `))).toBe(true);
    expect(text).toMatch(/ · \d+ in flight · [1-9]\d* failures? in a row$/);
    expect(await line.evaluate((el) => getComputedStyle(el).color)).toBe(DOWN_COLOUR);
    // The other instance took the retries: healthy, not in the colour of a problem.
    const healthy = card.locator(`li[data-instance="${other}"]`);
    // (Its first answer may still be on its way when the ejection shows: wait for its latency.)
    await healthy
      .locator('[data-field="balance"]')
      .filter({ hasText: /^ · healthy · \d+ in flight · latency / })
      .waitFor({ timeout: 5000 });
    expect(await healthy.evaluate((el) => getComputedStyle(el).color)).not.toBe(DOWN_COLOUR);
    await card.screenshot({ path: `${OUT}/dashboard-ejected.png` });

    expect(problems).toEqual([]);
    await context.close();
  });
});

function statusCell(page: Page, service: string) {
  return page.locator(`#overview tr[data-service="${service}"] [data-field="status"]`);
}

async function statusText(page: Page, service: string): Promise<string | null> {
  return statusCell(page, service).textContent();
}

async function seeStatus(page: Page, service: string, status: string, timeout: number): Promise<void> {
  await statusCell(page, service)
    .filter({ hasText: new RegExp(`^${status}$`) })
    .waitFor({ timeout });
}
