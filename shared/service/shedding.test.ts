/**
 * Load shedding: the middleware alone (a gate holds requests open, so the
 * count is exact), its configuration key, and a real service instance at
 * three times its capacity over NATS and direct HTTP together.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsConnection, headers as natsHeaders } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { Hono } from "hono";
import { ConfigError } from "../config/index.ts";
import { silentLogger } from "../log/logger.ts";
import { HttpHeader, httpSubject } from "../protocol/index.ts";
import { fixtureService } from "../testing/fixture/service.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { type RunningService, startService } from "./index.ts";
import { loadShedding, sheddingOptionsFromEnv } from "./shedding.ts";

describe("loadShedding middleware", () => {
  test("lets N requests run, refuses the next at once with 503 + Retry-After: 1, and recovers", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const app = new Hono();
    app.use("*", loadShedding({ maxConcurrency: 2, exempt: ["/health"] }));
    app.get("/held", async (c) => {
      await gate;
      return c.text("done");
    });
    app.get("/health", (c) => c.text("ok"));

    const held = [app.request("/held"), app.request("/held")];
    const refused = await app.request("/held");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(((await refused.json()) as { detail: string }).detail).toContain("2 requests");
    // Health is exempt: a busy instance is still alive.
    expect((await app.request("/health")).status).toBe(200);

    open();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    expect((await app.request("/held")).status).toBe(200);
  });

  test("a handler's error still frees its slot", async () => {
    const app = new Hono();
    app.use("*", loadShedding({ maxConcurrency: 1 }));
    app.get("/boom", () => {
      throw new Error("boom");
    });
    app.onError((_err, c) => c.text("failed", 500));
    for (let i = 0; i < 3; i++) expect((await app.request("/boom")).status).toBe(500);
  });

  test("SERVICE_MAX_CONCURRENCY: default 64, 0 turns it off, a bad value names the key", () => {
    expect(sheddingOptionsFromEnv({})).toEqual({ maxConcurrency: 64 });
    expect(sheddingOptionsFromEnv({ SERVICE_MAX_CONCURRENCY: "0" })).toEqual({ maxConcurrency: 0 });
    expect(() => sheddingOptionsFromEnv({ SERVICE_MAX_CONCURRENCY: "-1" })).toThrow(ConfigError);
    expect(() => sheddingOptionsFromEnv({ SERVICE_MAX_CONCURRENCY: "many" })).toThrow(
      /SERVICE_MAX_CONCURRENCY/,
    );
  });
});

describe("a service at three times its capacity", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let dataDir: string;
  let svc: RunningService<Record<string, unknown>>;

  beforeAll(async () => {
    nats = await NatsServer.start({ jetstream: false });
    nc = await connect({ servers: nats.url });
    dataDir = mkdtempSync(join(tmpdir(), "runnerly-shed-"));
    const env = { NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: "silent", SERVICE_MAX_CONCURRENCY: "4" };
    svc = (await startService(fixtureService("shed"), { env, logger: silentLogger })) as never;
  });

  afterAll(async () => {
    await svc?.stop();
    await nc?.close();
    await nats?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** One request over NATS or direct HTTP: its status, Retry-After and how long it took. */
  async function timed(via: "nats" | "http", path: string) {
    const started = performance.now();
    if (via === "http") {
      const res = await fetch(`${svc.url}${path}`);
      await res.arrayBuffer();
      return {
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        ms: performance.now() - started,
      };
    }
    const h = natsHeaders();
    h.set(HttpHeader.Method, "GET");
    h.set(HttpHeader.Path, path);
    const reply = await nc.request(httpSubject("shed"), "", { headers: h, timeout: 5000 });
    return {
      status: Number(reply.headers?.get(HttpHeader.Status)),
      retryAfter: reply.headers?.get("retry-after") ?? null,
      ms: performance.now() - started,
    };
  }

  test("12 concurrent requests on a limit of 4: 4 succeed, 8 get a 503 at once, not after the slow ones", async () => {
    const slowMs = 700;
    const path = `/api/shed/slow?ms=${slowMs}`;
    // Half over NATS, half direct: one limit covers both doors.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => timed(i % 2 === 0 ? "nats" : "http", path)),
    );
    const ok = results.filter((r) => r.status === 200);
    const shed = results.filter((r) => r.status === 503);
    expect({ ok: ok.length, shed: shed.length }).toEqual({ ok: 4, shed: 8 });
    for (const r of shed) {
      expect(r.retryAfter).toBe("1");
      // Answered without waiting for a slot: well before the slow requests end (half their time,
      // so that a loaded machine's pause does not count as waiting).
      expect(r.ms).toBeLessThan(slowMs / 2);
    }
    for (const r of ok) expect(r.ms).toBeGreaterThanOrEqual(slowMs - 5);
    // Capacity is back once they are done.
    expect((await timed("nats", "/api/shed/slow?ms=1")).status).toBe(200);
  });

  test("health answers while the instance is full", async () => {
    // Over one NATS connection messages are handled in order: the four hold every slot before the fifth.
    const busy = Array.from({ length: 4 }, () => timed("nats", "/api/shed/slow?ms=400"));
    expect((await timed("nats", "/api/shed/slow?ms=1")).status).toBe(503);
    expect((await timed("nats", "/api/shed/healthz")).status).toBe(200);
    expect((await timed("http", "/api/shed/healthz")).status).toBe(200);
    expect((await Promise.all(busy)).every((r) => r.status === 200)).toBe(true);
  });
});
