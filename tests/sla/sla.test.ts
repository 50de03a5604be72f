/**
 * Service levels as code, end to end: kit services declare objectives and a
 * rate limit in their contract (ADR-32 metadata), run side by side in two
 * major versions, and the edge routes by `Api-Version`, splits unversioned
 * traffic by the canary setting that `runnerly canary` / `rollback` write,
 * enforces the declared limit and reports measured levels on `/_/slo`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  CANARY_BUCKET,
  type RunningService,
  type ServiceLevels,
  silentLogger,
  startService,
} from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { fixtureService } from "@runnerly/kit/testing/fixture";
import type { Server } from "bun";
import { getCanary, setCanary } from "../../cli/canary.ts";
import { createEdge, type Edge } from "../../edge/app.ts";
import type { ServiceReport } from "../../edge/ops/slo/tracker.ts";
import { connect } from "../../edge/test-utils.ts";

setDefaultTimeout(60_000);

let nats: NatsServer;
let nc: NatsConnection;
let edge: Edge;
let server: Server<unknown>;
let base: string;
let dataDir: string;
const running: RunningService<Record<string, unknown>>[] = [];

async function start(name: string, version: string, slo?: ServiceLevels) {
  const def = { ...fixtureService(name, version), ...(slo ? { slo } : {}) };
  const env = {
    NATS_URL: nats.url,
    DATA_DIR: mkdtempSync(join(dataDir, `${name}-${version}-`)),
    LOG_LEVEL: "silent",
  };
  const s = await startService(def, { env, logger: silentLogger });
  running.push(s as never);
  return s;
}

/** The version of the instance that answered a health check through the edge, or the failure. */
async function versionOf(headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${base}/api/greeter/healthz`, { headers });
  if (res.status !== 200) return `HTTP ${res.status}`;
  return ((await res.json()) as { version: string }).version;
}

/** Sends `count` requests, `concurrency` at a time; returns how many each answer got. */
async function tally(count: number, send: () => Promise<string>, concurrency = 16) {
  const seen: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const v = await send().catch((err: unknown) => `error ${String(err)}`);
        seen[v] = (seen[v] ?? 0) + 1;
      }
    }),
  );
  return seen;
}

const sloOf = async (service: string) => {
  const body = (await (await fetch(`${base}/_/slo`)).json()) as {
    services: ServiceReport[];
    canaries: Record<string, { major: number; percent: number }>;
  };
  return { report: body.services.find((s) => s.service === service), canaries: body.canaries };
};

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect(nats.url);
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-sla-"));
  // What the provisioner makes: the edges' canary bucket.
  await new Kvm(jetstream(nc)).create(CANARY_BUCKET, { history: 10 });
  await start("greeter", "1.0.0");
  await start("greeter", "1.0.0");
  await start("greeter", "2.0.0");
  await start("flaky", "1.0.0", { availability: 99.9, latencyP99Ms: 500 });
  await start("limited", "1.0.0", { rateLimit: { limit: 3, windowMs: 60_000 } });
  edge = createEdge({
    nc,
    logger: silentLogger,
    sweepIntervalMs: 200,
    rateLimits: { policies: [], bucket: null },
    peerAddress: (req, srv) => (srv as Server<unknown>).requestIP(req)?.address,
  });
  await edge.ready;
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => edge.app.fetch(req, srv),
  });
  base = `http://127.0.0.1:${server.port}`;
  await waitFor(
    () => {
      const greeter = edge.routes.list().find((r) => r.service === "greeter");
      return (
        greeter?.versions.map((v) => `${v.major}:${v.instances.length}:${Boolean(v.subject)}`).join(",") ===
        "1:2:true,2:1:true"
      );
    },
    { what: "greeter v1 (2 instances) and v2 routed" },
  );
});

afterAll(async () => {
  await server?.stop(true);
  await edge?.close();
  for (const s of running.reverse()) await s.stop();
  await nc?.close();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("versions side by side", () => {
  test("Api-Version: 1 reaches only v1, 2 only v2; a major that does not run is a 404 naming those that do", async () => {
    expect(await tally(200, () => versionOf({ "api-version": "1" }))).toEqual({ "1.0.0": 200 });
    expect(await tally(100, () => versionOf({ "api-version": "v2" }))).toEqual({ "2.0.0": 100 });
    const missing = await fetch(`${base}/api/greeter/healthz`, { headers: { "api-version": "3" } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(((await missing.json()) as { detail: string }).detail).toBe(
      "greeter has no running instance of major version 3 (running: 1, 2)",
    );
    const bad = await fetch(`${base}/api/greeter/healthz`, { headers: { "api-version": "latest" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(
      /Api-Version must be a major version number/,
    );
  });

  test("a 10 % canary sends 10 % ± 3 % of 2,000 unversioned requests to v2; rollback returns all to v1 with no failure", async () => {
    await setCanary(nc, "greeter", { major: 2, percent: 10 });
    expect(await getCanary(nc, "greeter")).toEqual({ major: 2, percent: 10 });
    await waitFor(async () => (await sloOf("greeter")).canaries.greeter?.percent === 10, {
      what: "the edge reading the 10 % canary",
    });
    const split = await tally(2000, () => versionOf());
    expect(Object.keys(split).sort()).toEqual(["1.0.0", "2.0.0"]);
    const share = (split["2.0.0"] ?? 0) / 2000;
    expect(share).toBeGreaterThanOrEqual(0.07);
    expect(share).toBeLessThanOrEqual(0.13);

    // Rollback under load: every request succeeds, and once the edge has it, v2 gets none.
    let stop = false;
    const during: Record<string, number> = {};
    const load = (async () => {
      while (!stop) {
        const v = await versionOf().catch((err: unknown) => `error ${String(err)}`);
        during[v] = (during[v] ?? 0) + 1;
      }
    })();
    await setCanary(nc, "greeter", { major: 2, percent: 0 });
    await waitFor(async () => (await sloOf("greeter")).canaries.greeter?.percent === 0, {
      what: "the edge reading the rollback",
    });
    stop = true;
    await load;
    expect(Object.keys(during).filter((k) => k !== "1.0.0" && k !== "2.0.0")).toEqual([]);
    expect(await tally(500, () => versionOf())).toEqual({ "1.0.0": 500 });
  });
});

describe("declared service levels", () => {
  test("the edge enforces a service's declared rate limit: the 4th request within the minute is a 429", async () => {
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${base}/api/limited/healthz`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.headers.get("ratelimit-policy")).toBe('"/api/limited";q=3;w=60');
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another service declares no limit.
    expect(
      (await tally(10, async () => String((await fetch(`${base}/api/flaky/healthz`)).status)))["200"],
    ).toBe(10);
  });

  test("under a fault failing 5 % of requests, /_/slo shows the availability and burn the client counted", async () => {
    const before = (await sloOf("flaky")).report?.windows[0];
    let sent = 0;
    let failed = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 20; i++) {
        // One request in twenty hits the route that fails.
        const res = await fetch(`${base}/api/flaky/${i === 7 ? "crash" : "healthz"}`);
        await res.arrayBuffer();
        sent++;
        if (res.status >= 500) failed++;
      }
    }
    expect(failed).toBe(20);
    const after = await waitFor(
      async () => {
        const w = (await sloOf("flaky")).report?.windows[0];
        return w && w.requests - (before?.requests ?? 0) === sent ? w : null;
      },
      { what: "every request counted" },
    );
    const requests = after.requests;
    const failures = after.failed;
    expect(failures - (before?.failed ?? 0)).toBe(failed);
    const { report } = await sloOf("flaky");
    expect(report?.objectives).toEqual({ availability: 99.9, latencyP99Ms: 500 });
    expect(after.availability).toBeCloseTo(((requests - failures) / requests) * 100, 6);
    expect(after.burnRate).toBeCloseTo(failures / requests / 0.001, 3);
    expect(after.budgetRemaining).toBeCloseTo((1 - failures / (0.001 * requests)) * 100, 3);
    expect(report?.burning).toBe(true);
    expect(report?.windows.map((w) => w.window)).toEqual(["5m", "1h"]);
    // The dashboard shows the same figures, and flags the service.
    const snapshot = (await (await fetch(`${base}/_/api/snapshot`)).json()) as {
      services: {
        name: string;
        status: string;
        reasons: string[];
        slo: { availability: number; burning: boolean };
      }[];
    };
    const flaky = snapshot.services.find((s) => s.name === "flaky");
    expect(flaky?.slo).toMatchObject({ availability: after.availability, burning: true, objective: 99.9 });
    expect(flaky?.status).toBe("degraded");
    expect(flaky?.reasons.some((r) => r.startsWith("burning its error budget fast"))).toBe(true);
  });
});
