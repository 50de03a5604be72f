/**
 * Rate limiting through the edge app against a real nats-server with
 * JetStream: 429 with the RateLimit fields, X-Forwarded-For believed only
 * from trusted proxies, one limit shared by two edges, route groups, probes
 * never limited, and local limiting when the KV bucket is unavailable. The
 * peer address reaches the app as Bun's server would hand it over: as the
 * `env` of `app.fetch`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { NatsServer } from "@runnerly/kit/testing";
import type { Edge, EdgeOptions } from "../../app.ts";
import {
  addHttpService,
  cleanups,
  connect,
  recordingLogger,
  respondText,
  startEdge,
  waitFor,
} from "../../test-utils.ts";
import { parseRateLimits } from "./policy.ts";

setDefaultTimeout(20_000);

let nats: NatsServer;
let served = 0;
const cleanup = cleanups();

beforeAll(async () => {
  nats = await NatsServer.start();
  const nc = await connect(nats.url, "hello-service");
  await addHttpService(nc, {
    name: "hello",
    prefix: "/api/hello",
    handler: (msg) => {
      served++;
      respondText(msg, 200, "hi");
    },
  });
});
afterEach(() => cleanup.run());
afterAll(() => nats?.stop());

type Limits = Omit<NonNullable<EdgeOptions["rateLimits"]>, "policies"> & { limits: string };

/** An edge on its own NATS connection, routing /api/hello, with these limits and a fresh KV bucket by default. */
async function edgeWith({ limits, ...rest }: Limits, server = nats) {
  const nc = await connect(server.url, "edge");
  cleanup.add(() => nc.close());
  const logger = recordingLogger();
  const edge = await startEdge({
    nc,
    logger,
    rateLimits: {
      policies: parseRateLimits(limits),
      bucket: `rl_${crypto.randomUUID().slice(0, 8)}`,
      ...rest,
    },
    peerAddress: (_req, env) => (env as { peer?: string } | undefined)?.peer,
  });
  cleanup.add(() => edge.close());
  await waitFor(() => edge.routes.match("/api/hello/x"), { what: "the hello route" });
  return { edge, logger };
}

/** A request from `peer` (the TCP peer the runtime saw), with optional headers. */
function from(edge: Edge, peer: string, path = "/api/hello/x", headers: Record<string, string> = {}) {
  return edge.app.fetch(new Request(`http://edge${path}`, { headers }), { peer });
}

describe("a client over its limit", () => {
  test("request L+1 within the window gets a 429 problem with RateLimit-Policy, RateLimit and Retry-After", async () => {
    const { edge } = await edgeWith({ limits: "default=3/60s" });
    const before = served;
    const ok = [];
    for (let i = 0; i < 3; i++) ok.push(await from(edge, "198.51.100.7"));
    expect(ok.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(ok.map((r) => r.headers.get("ratelimit-policy"))).toEqual(Array(3).fill('"default";q=3;w=60'));
    expect(ok.map((r) => /;r=(\d+);/.exec(r.headers.get("ratelimit") ?? "")?.[1])).toEqual(["2", "1", "0"]);

    const refused = await from(edge, "198.51.100.7");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.headers.get("ratelimit-policy")).toBe('"default";q=3;w=60');
    expect(refused.headers.get("ratelimit")).toMatch(/^"default";r=0;t=\d+$/);
    // 3 per 60 s: a token every 20 s.
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(19);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(20);
    const problem = (await refused.json()) as { type: string; status: number; detail: string };
    expect(problem).toMatchObject({ type: "https://runnerly.dev/problems/rate-limited", status: 429 });
    expect(problem.detail).toContain("3 per 60 s");
    // The service never saw the refused request; another client is unaffected.
    expect(served - before).toBe(3);
    expect((await from(edge, "198.51.100.8")).status).toBe(200);
  });

  test("a spoofed X-Forwarded-For from an untrusted peer does not reset the client's limit", async () => {
    const { edge } = await edgeWith({ limits: "default=3/60s", trustedProxies: ["10.0.0.0/8"] });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const res = await from(edge, "198.51.100.7", "/api/hello/x", { "x-forwarded-for": `203.0.113.${i}` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  test("X-Forwarded-For from a trusted proxy is honoured: each client behind it has its own limit", async () => {
    const { edge } = await edgeWith({ limits: "default=2/60s", trustedProxies: ["10.0.0.0/8"] });
    const via = (xff: string) => from(edge, "10.0.0.2", "/api/hello/x", { "x-forwarded-for": xff });
    expect([(await via("203.0.113.1")).status, (await via("203.0.113.1")).status]).toEqual([200, 200]);
    expect((await via("203.0.113.1")).status).toBe(429);
    // What the client wrote itself stays left of what the proxy appended.
    expect((await via("6.6.6.6, 203.0.113.1")).status).toBe(429);
    expect((await via("203.0.113.2")).status).toBe(200);
  });
});

describe("shared limits", () => {
  test("two edge instances on two NATS connections share one limit", async () => {
    const bucket = `rl_${crypto.randomUUID().slice(0, 8)}`;
    const one = await edgeWith({ limits: "default=4/60s", bucket });
    const two = await edgeWith({ limits: "default=4/60s", bucket });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await from(i % 2 ? two.edge : one.edge, "198.51.100.9")).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect((await from(one.edge, "198.51.100.9")).status).toBe(429);
    expect((await from(two.edge, "198.51.100.9")).status).toBe(429);
  });

  test("route groups: the longest prefix wins, each group its own bucket, encoded paths included", async () => {
    const { edge } = await edgeWith({ limits: "default=100/60s; /api/hello/login=2/60s" });
    const login = (path = "/api/hello/login") => from(edge, "198.51.100.10", path);
    expect([(await login()).status, (await login("/api/hello/%6cogin")).status]).toEqual([200, 200]);
    const refused = await login("/api/hello/login/");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-policy")).toBe('"/api/hello/login";q=2;w=60');
    const other = await from(edge, "198.51.100.10", "/api/hello/x");
    expect(other.status).toBe(200);
    expect(other.headers.get("ratelimit")).toMatch(/^"default";r=99;t=\d+$/);
  });

  test("/healthz, /readyz and /metrics are never limited", async () => {
    const { edge } = await edgeWith({ limits: "default=1/60s" });
    for (const path of ["/healthz", "/readyz", "/metrics", "/healthz", "/readyz", "/metrics"]) {
      const res = await from(edge, "198.51.100.11", path);
      expect(res.status).toBe(200);
      expect(res.headers.has("ratelimit")).toBe(false);
    }
  });

  test("without policies nothing is limited and no field is sent", async () => {
    const nc = await connect(nats.url, "edge");
    cleanup.add(() => nc.close());
    const edge = await startEdge({ nc, logger: recordingLogger(), peerAddress: () => "198.51.100.12" });
    cleanup.add(() => edge.close());
    await waitFor(() => edge.routes.match("/api/hello/x"), { what: "the hello route" });
    for (let i = 0; i < 5; i++) {
      const res = await from(edge, "198.51.100.12");
      expect(res.status).toBe(200);
      expect(res.headers.has("ratelimit-policy")).toBe(false);
    }
  });
});

describe("when NATS KV is unavailable", () => {
  test("the edge limits locally, says so once, and fails no request", async () => {
    const plain = await NatsServer.start({ jetstream: false });
    cleanup.add(() => plain.stop());
    const svc = await connect(plain.url, "hello-service");
    cleanup.add(() => svc.close());
    await addHttpService(svc, {
      name: "hello",
      prefix: "/api/hello",
      handler: (m) => respondText(m, 200, "hi"),
    });
    const { edge, logger } = await edgeWith({ limits: "default=2/60s" }, plain);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await from(edge, "198.51.100.13")).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const warnings = logger.entries.filter((e) => e.msg?.includes("rate limits are local"));
    expect(warnings).toHaveLength(1);
  });
});
