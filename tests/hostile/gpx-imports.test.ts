/**
 * One runner's heavy uploads must not stall the runs service for everybody
 * else, and a 504 must never hide a stored run. Real processes on loopback:
 * nats-server, accounts, runs and the edge at their defaults. One runner
 * sends 14 GPX imports of 5 MiB at once (each about a second of parsing)
 * while another runner lists her runs without pause.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, NatsServer, waitFor } from "@runnerly/kit/testing";
import {
  type EdgeProc,
  latencies,
  routedInstances,
  type ServiceProc,
  startEdgeProc,
  startServiceProc,
} from "../cluster/processes.ts";

setDefaultTimeout(120_000);

const MAX_GPX_BYTES = 5 * 1024 * 1024;
const IMPORTS = 14;

let nats: NatsServer;
let dataDir: string;
let edge: EdgeProc;
const services: ServiceProc[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-gpx-imports-"));
  const env = (name: string) => ({ NATS_URL: nats.url, DATA_DIR: join(dataDir, name) });
  services.push(await startServiceProc("accounts", "accounts", env("accounts")));
  services.push(await startServiceProc("runs", "runs", env("runs")));
  edge = await startEdgeProc("edge", await freePort(), { NATS_URL: nats.url, EDGE_WORKERS: "1" });
  await waitFor(
    async () => {
      const routed = await routedInstances(edge.url);
      return routed.get("accounts")?.length === 1 && routed.get("runs")?.length === 1;
    },
    { timeoutMs: 20_000, what: "the edge routing to accounts and runs" },
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([edge?.proc.stop(), ...services.map((s) => s.proc.stop())]);
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

/** A new runner's id and access token (sign up, then log in). */
async function runner(name: string): Promise<{ id: string; token: string }> {
  const credentials = { email: `${name}-${crypto.randomUUID()}@example.com`, password: "correct Horse 7" };
  const post = (path: string) =>
    fetch(`${edge.url}/api/accounts/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(credentials),
    });
  expect([201, 202]).toContain((await post("signup")).status);
  const login = await post("login");
  expect(login.status).toBe(200);
  const body = (await login.json()) as { accessToken: string; user: { id: string } };
  return { id: body.user.id, token: body.accessToken };
}

/** A valid GPX track just under the upload limit: tens of thousands of timed points. */
function bigGpx(): string {
  const start = Date.parse("2026-11-01T06:00:00Z");
  const head = '<?xml version="1.0"?><gpx version="1.1" creator="test"><trk><name>long one</name><trkseg>';
  const tail = "</trkseg></trk></gpx>";
  const parts: string[] = [];
  let size = head.length + tail.length;
  for (let i = 0; ; i++) {
    const point = `<trkpt lat="${(52 + i * 0.00002).toFixed(6)}" lon="${(4 + i * 0.00001).toFixed(6)}"><time>${new Date(start + i * 1000).toISOString().slice(0, 19)}Z</time></trkpt>\n`;
    if (size + point.length > MAX_GPX_BYTES - 4096) break;
    parts.push(point);
    size += point.length;
  }
  return head + parts.join("") + tail;
}

/** A multipart upload of `bigGpx()` as the import route takes it. */
function gpxForm(): FormData {
  const form = new FormData();
  form.append("file", new Blob([bigGpx()], { type: "application/gpx+xml" }), "long.gpx");
  return form;
}

test("14 parallel 5 MiB imports by one runner: another runner's reads stay fast, and no import is stored unless answered 201", async () => {
  const [importer, reader] = await Promise.all([runner("importer"), runner("reader")]);
  const gpx = new Blob([bigGpx()], { type: "application/gpx+xml" });
  expect(gpx.size).toBeGreaterThan(MAX_GPX_BYTES - 8192);

  let importing = true;
  const reads: { status: number; ms: number }[] = [];
  const readLoop = (async () => {
    while (importing) {
      const started = performance.now();
      const res = await fetch(`${edge.url}/api/runs/runs?limit=20`, {
        headers: { authorization: `Bearer ${reader.token}` },
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      reads.push({ status: res.status, ms: performance.now() - started });
    }
  })();

  const imports = await Promise.all(
    Array.from({ length: IMPORTS }, async () => {
      const form = new FormData();
      form.append("file", gpx, "long.gpx");
      const res = await fetch(`${edge.url}/api/runs/runs/import`, {
        method: "POST",
        headers: { authorization: `Bearer ${importer.token}` },
        body: form,
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { id?: string; detail?: string };
      return {
        status: res.status,
        id: body.id,
        retryAfter: res.headers.get("retry-after"),
        detail: body.detail,
      };
    }),
  );
  // A few more reads after the last import was answered, then stop.
  const after = reads.length;
  await waitFor(() => reads.length >= after + 5, { timeoutMs: 10_000, what: "reads after the imports" });
  importing = false;
  await readLoop;

  const statuses = imports.map((i) => i.status);
  console.log(
    `imports: ${statuses.join(" ")}; reads: ${reads.length}, ${JSON.stringify(latencies(reads.map((r) => r.ms)))}`,
  );
  // Every import was stored and answered 201, or refused with 429/503 and a Retry-After.
  for (const i of imports) {
    expect([201, 429, 503]).toContain(i.status);
    if (i.status !== 201) expect(Number(i.retryAfter)).toBeGreaterThanOrEqual(1);
  }
  expect(statuses).toContain(201);
  // The reader was never turned away nor kept waiting.
  expect(reads.every((r) => r.status === 200)).toBe(true);
  expect(latencies(reads.map((r) => r.ms)).p99).toBeLessThan(500);

  // Exactly the imports answered 201 are stored, once each.
  const db = new Database(join(dataDir, "runs", "runs.db"), { readonly: true });
  try {
    const stored = db
      .query<{ id: string }, [string]>("SELECT id FROM runs WHERE owner = ? ORDER BY id")
      .all(importer.id)
      .map((r) => r.id);
    const answered = imports.filter((i) => i.status === 201).map((i) => i.id as string);
    expect(stored).toEqual(answered.sort());
  } finally {
    db.close();
  }
});

test("an import still being parsed at its deadline is stopped by the service and not stored: the 504 hides nothing", async () => {
  // How long importing a 5 MiB file takes on this machine now (about 1.5 s on a quiet machine
  // here, under one on a fast one), timed through the main edge for another runner.
  const timer = await runner("timer");
  const started = performance.now();
  const timed = await fetch(`${edge.url}/api/runs/runs/import`, {
    method: "POST",
    headers: { authorization: `Bearer ${timer.token}` },
    body: gpxForm(),
    signal: AbortSignal.timeout(30_000),
  });
  expect(timed.status).toBe(201);
  const importMs = performance.now() - started;
  const importer = await runner("late");
  // A second edge whose deadline for runs is half of that: the upload (a small share of the
  // time) reaches the service in time, the parsing is still under way at the deadline, and the
  // service's answer comes back within the try's margin (100 ms).
  const hurried = await startEdgeProc("edge-hurried", await freePort(), {
    NATS_URL: nats.url,
    EDGE_WORKERS: "1",
    EDGE_ROUTE_TIMEOUTS: `/api/runs=${Math.max(200, Math.round(importMs / 2))}`,
  });
  try {
    await waitFor(async () => (await routedInstances(hurried.url)).get("runs")?.length === 1, {
      timeoutMs: 20_000,
      what: "the second edge routing to runs",
    });
    const res = await fetch(`${hurried.url}/api/runs/runs/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${importer.token}` },
      body: gpxForm(),
      signal: AbortSignal.timeout(10_000),
    });
    const problem = (await res.json()) as { detail?: string };
    expect(res.status).toBe(504);
    // The service's own answer, sent before the edge stopped waiting: it stopped the work.
    expect(problem.detail).toContain("GPX import was stopped");
    const db = new Database(join(dataDir, "runs", "runs.db"), { readonly: true });
    try {
      const stored = db.query("SELECT count(*) AS n FROM runs WHERE owner = ?").get(importer.id) as {
        n: number;
      };
      expect(stored.n).toBe(0);
    } finally {
      db.close();
    }
  } finally {
    await hurried.proc.stop();
  }
});
