/**
 * The dashboard of a Bun edge with two worker processes (the real
 * `bun edge/main.ts`, EDGE_WORKERS=2) under load: every worker sums the
 * figures of both, so two tabs answered by different workers show the same
 * figures for the same second, and `/_/slo` counts every request whichever
 * worker answers it. The page keeps the reader's focus and selection across
 * refreshes, and draws its charts (screenshot: .test-output/dashboard-charts.png).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { NatsConnection } from "@nats-io/nats-core";
import { freePort, NatsServer, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import type { Browser, Page } from "playwright-core";
import { addHttpService, connect, respondText } from "../../test-utils.ts";
import { launchChromium } from "../../testdata/browser.ts";
import type { Snapshot } from "./types.ts";

setDefaultTimeout(90_000);

const OUT = ".test-output";
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** Bounds of the load: clients at once, requests in all. */
const CLIENTS = 4;
const MAX_REQUESTS = 30_000;

let nats: NatsServer;
let nc: NatsConnection;
let edge: Subprocess<"ignore", "pipe", "inherit">;
let base: string;
let browser: Browser;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  nats = await NatsServer.start({ jetstream: false });
  nc = await connect(nats.url, "hello-service");
  await addHttpService(nc, {
    name: "hello",
    prefix: "/api/hello",
    // One request in ten fails: the error figures have something to show.
    handler: (msg) => respondText(msg, msg.data.length % 10 === 3 ? 503 : 200, "hi"),
  });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  edge = Bun.spawn([process.execPath, MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      NATS_URL: nats.url,
      EDGE_HOST: "127.0.0.1",
      EDGE_PORT: String(port),
      EDGE_WORKERS: "2",
      EDGE_AUTH: "off",
      LOG_LEVEL: "info",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  void collect(edge.stdout);
  await waitFor(() => lines.some((l) => l.msg === `edge listening on ${base}`), {
    timeoutMs: 20_000,
    what: "the pool to listen",
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (edge && edge.exitCode === null) {
    edge.kill("SIGTERM");
    await edge.exited;
  }
  await nc?.close();
  await nats?.stop();
});

async function collect(stream: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    buffer += decoder.decode(r.value, { stream: true });
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
  }
}

/** Load on fresh connections (the kernel spreads them over the workers) until stopped. */
function load() {
  let running = true;
  const statuses = new Map<number, number>();
  let sent = 0;
  const client = async (c: number) => {
    for (let i = 0; running && sent < MAX_REQUESTS; i++) {
      sent++;
      // The body's length picks the answer: 1 in 10 is a 503.
      const res = await fetch(`${base}/api/hello/x`, {
        method: "POST",
        body: "x".repeat((c + i) % 10),
        keepalive: false,
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
  return {
    statuses,
    answered: () => [...statuses.values()].reduce((a, b) => a + b, 0),
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

/** A tab answered by `worker` (tabs are reopened until one lands on it; each stream is a fresh connection). */
async function tabOn(worker: string): Promise<Page> {
  return waitFor(
    async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
      const page = await context.newPage();
      await page.goto(`${base}/_/`);
      try {
        const summary = page.locator("#summary").filter({ hasText: /answered by worker \d+/ });
        await summary.waitFor({ timeout: 10_000 });
        if ((await summary.textContent())?.includes(`answered by worker ${worker}`)) return page;
      } catch (err) {
        throw new Error(`the page says "${await page.locator("#summary").textContent()}": ${err}`);
      }
      await context.close();
      return null;
    },
    { timeoutMs: 30_000, intervalMs: 1, what: `a tab answered by worker ${worker}` },
  );
}

type Reading = { through: string; worker: string; figures: string };

/** What a tab shows now: the second its figures end with, which worker answered, and hello's row and service level. */
async function read(page: Page): Promise<Reading | null> {
  return page.evaluate(() => {
    const summary = document.querySelector("#summary");
    const row = document.querySelector('#overview tr[data-service="hello"]');
    const slo = document.querySelector('section.card[data-service="hello"] [data-field="slo"]');
    const worker = /answered by worker (\d+)/.exec(summary?.textContent ?? "")?.[1];
    if (!summary || !row || !worker) return null;
    const cells = ["status", "edge-rps", "edge-errors", "edge-p99", "circuit"].map(
      (f) => row.querySelector(`[data-field="${f}"]`)?.textContent ?? "",
    );
    return {
      through: summary.getAttribute("data-through") ?? "",
      worker,
      figures: [...cells, slo?.textContent ?? ""].join(" | "),
    };
  });
}

describe("a two-worker Bun edge", () => {
  test("two tabs on different workers show the same figures for the same second, under load; /_/slo counts every request", async () => {
    const traffic = load();
    try {
      await waitFor(() => traffic.answered() >= 200, { timeoutMs: 10_000, what: "load through the edge" });
      const [a, b] = [await tabOn("0"), await tabOn("1")];
      // Each tab's readings by second, for a few seconds of load.
      const seen: Map<string, Reading>[] = [new Map(), new Map()];
      const started = Date.now();
      await waitFor(
        async () => {
          for (const [i, page] of [a, b].entries()) {
            const r = await read(page);
            if (r?.through) seen[i]!.set(r.through, r);
          }
          const common = [...seen[0]!.keys()].filter(
            (t) => seen[1]!.has(t) && seen[0]!.get(t)!.worker !== seen[1]!.get(t)!.worker,
          );
          return common.length >= 4 && Date.now() - started > 4000;
        },
        { timeoutMs: 20_000, intervalMs: 50, what: "both tabs to show the same seconds" },
      );
      const common = [...seen[0]!.keys()].filter(
        (t) => seen[1]!.has(t) && seen[0]!.get(t)!.worker !== seen[1]!.get(t)!.worker,
      );
      for (const t of common) {
        expect({ through: t, figures: seen[1]!.get(t)!.figures }).toEqual({
          through: t,
          figures: seen[0]!.get(t)!.figures,
        });
      }
      // The figures are the load's: requests flowing, some failing, the service level measured.
      const sample = seen[0]!.get(common[common.length - 1]!)!.figures;
      expect(sample).toMatch(
        /^\w+ \| [1-9][\d.]*k? \| \d+(\.\d)? % \| [\d.]+ m?s \| \S+ \| Service level \(5m\): [\d.]+ %/,
      );
      await a.context().close();
      await b.context().close();
    } finally {
      await traffic.stop();
    }
    // Every request counted once, whichever worker answered it and whichever answers /_/slo.
    const answered = traffic.answered();
    expect(traffic.statuses.get(503)).toBeGreaterThan(0);
    const workers = new Set<string>();
    await waitFor(
      async () => {
        const snap = (await (await fetch(`${base}/_/api/snapshot`, { keepalive: false })).json()) as Snapshot;
        expect(snap.workers.merged).toBe(2);
        if (snap.workers.answeredBy) workers.add(snap.workers.answeredBy);
        return workers.size === 2;
      },
      { timeoutMs: 10_000, intervalMs: 1, what: "snapshots from both workers" },
    );
    const counted = async () => {
      const res = await fetch(`${base}/_/slo`, { keepalive: false });
      const body = (await res.json()) as { services: { service: string; windows: { requests: number }[] }[] };
      return body.services.find((s) => s.service === "hello")?.windows[0]?.requests;
    };
    await waitFor(async () => (await counted()) === answered, {
      timeoutMs: 5000,
      what: `/_/slo to count all ${answered} requests`,
    });
    const again: (number | undefined)[] = [];
    for (let i = 0; i < 20; i++) again.push(await counted());
    expect(again).toEqual(new Array(20).fill(answered));
  });

  test("a refresh keeps the reader's selection and the focus and caret in the filter; the charts draw the load", async () => {
    const traffic = load();
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(msg.text()); // CSP refusals show here
    });
    try {
      await page.goto(`${base}/_/`);
      await page.locator('#overview tr[data-service="hello"]').waitFor({ timeout: 10_000 });
      const refreshes = async (n: number) => {
        const first = await page.locator("#summary").getAttribute("data-through");
        let last = first;
        let seen = 0;
        await waitFor(
          async () => {
            const now = await page.locator("#summary").getAttribute("data-through");
            if (now !== last) {
              seen++;
              last = now;
            }
            return seen >= n;
          },
          { timeoutMs: 10_000, intervalMs: 50, what: `${n} refreshes` },
        );
      };

      // Text selected in the table stays selected while the figures beside it change.
      await page.evaluate(() => {
        const name = document.querySelector('#overview tr[data-service="hello"] th a')!;
        const range = document.createRange();
        range.selectNodeContents(name);
        getSelection()!.removeAllRanges();
        getSelection()!.addRange(range);
      });
      await refreshes(2);
      expect(await page.evaluate(() => getSelection()?.toString())).toBe("hello");

      // Typing in the filter: focus, text and caret survive refreshes.
      await page.locator("#filter").click();
      await page.keyboard.type("hel");
      await page.evaluate(() =>
        (document.getElementById("filter") as HTMLInputElement).setSelectionRange(1, 2),
      );
      await refreshes(2);
      expect(
        await page.evaluate(() => {
          const input = document.activeElement as HTMLInputElement;
          return { id: input.id, value: input.value, start: input.selectionStart, end: input.selectionEnd };
        }),
      ).toEqual({ id: "filter", value: "hel", start: 1, end: 2 });
      await page.locator('#overview tr[data-service="hello"]').waitFor({ timeout: 2000 });

      // The requests/s chart: a canvas with the service's line off the baseline (5-second steps, so wait for some).
      const chart = page.locator('figure.chart[data-chart="rps"] canvas');
      await chart.waitFor({ timeout: 5000 });
      const rows = await waitFor(
        async () => {
          const n = await chart.evaluate((canvas: HTMLCanvasElement) => {
            const ctx = canvas.getContext("2d")!;
            const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
            // The first series' colour, #1d4ed8; rows of the canvas it is drawn in.
            const ys = new Set<number>();
            for (let y = 0; y < height; y++)
              for (let x = 0; x < width; x++) {
                const i = (y * width + x) * 4;
                const d =
                  Math.abs(data[i]! - 0x1d) + Math.abs(data[i + 1]! - 0x4e) + Math.abs(data[i + 2]! - 0xd8);
                if (d < 60 && data[i + 3]! > 200) ys.add(y);
              }
            return ys.size;
          });
          return n > 8 ? n : null;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: "the requests/s line to rise off the baseline" },
      );
      expect(rows).toBeGreaterThan(8);
      for (const id of ["rps", "errors", "p99", "outbox", "lag"]) {
        expect(await page.locator(`figure.chart[data-chart="${id}"] canvas`).count()).toBe(1);
      }
      await page.locator(".charts").screenshot({ path: `${OUT}/dashboard-charts.png` });
      expect(problems).toEqual([]);
    } finally {
      await traffic.stop();
      await context.close();
    }
  });
});
