/**
 * The edge's own routes: /healthz, /readyz (ready only when connected to NATS
 * with routes loaded), /metrics in the Prometheus text format, and the
 * headers every response carries.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect as connectNode } from "@nats-io/transport-node";
import { createEdge } from "../app.ts";
import { addHttpService, connect, recordingLogger, respondText, startEdge, waitFor } from "../test-utils.ts";
import { natsPerFile } from "../testdata/per-file.ts";
import { createPromMetrics } from "./prom.ts";

setDefaultTimeout(20_000);

const { server, cleanup } = natsPerFile();

describe("/readyz", () => {
  test("503 until the first sweep is done, 200 then, 503 while NATS is away, 200 once it is back", async () => {
    const nc = await connectNode({ servers: server().url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    cleanup.add(() => nc.close());
    const edge = createEdge({ nc, logger: recordingLogger() });
    cleanup.add(() => edge.close());
    const early = await edge.app.request("/readyz");
    expect(early.status).toBe(503);
    expect(await early.json()).toMatchObject({
      detail: expect.stringContaining("first discovery sweep not done"),
    });
    await edge.ready;
    expect((await edge.app.request("/readyz")).status).toBe(200);
    expect((await edge.app.request("/healthz")).status).toBe(200);

    await server().stop({ keepStore: true });
    await waitFor(async () => (await edge.app.request("/readyz")).status === 503, { what: "not ready" });
    const down = await edge.app.request("/readyz");
    expect(await down.json()).toMatchObject({ detail: expect.stringContaining("no NATS connection") });
    expect((await edge.app.request("/healthz")).status).toBe(200); // alive, reconnecting
    await server().restart();
    await waitFor(async () => (await edge.app.request("/readyz")).status === 200, { what: "ready again" });
  });
});

describe("/metrics", () => {
  test("Prometheus text: requests by service and status, latency, attempts, circuit state, cache", async () => {
    const nc = await connect(server().url);
    cleanup.add(() => nc.close());
    await addHttpService(nc, {
      name: "metered",
      prefix: "/api/metered",
      handler: (m) => respondText(m, m.headers?.get("Http-Path")?.endsWith("/missing") ? 404 : 200, "ok"),
    });
    const metrics = createPromMetrics();
    const edge = await startEdge({ nc, logger: recordingLogger(), metrics });
    cleanup.add(() => edge.close());
    await waitFor(() => edge.routes.match("/api/metered"), { what: "metered discovered" });
    await edge.app.request("/api/metered/a");
    await edge.app.request("/api/metered/missing");
    await edge.app.request("/nowhere");

    const res = await edge.app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    for (const line of [
      'edge_requests_total{service="metered",method="GET",status="200"} 1',
      'edge_requests_total{service="metered",method="GET",status="404"} 1',
      'edge_requests_total{service="none",method="GET",status="404"} 1',
      'edge_request_duration_seconds_bucket{le="0.05",service="metered"}',
      'edge_attempts_total{service="metered",outcome="2xx"} 1',
      "# TYPE edge_retries_total counter",
      "# TYPE edge_circuit_state gauge",
      "# TYPE edge_cache_stale_served_total counter",
      "edge_cache_entries 0",
    ]) {
      expect(text).toContain(line);
    }
  });
});

describe("every response", () => {
  test("carries Mesh-Request-Id and the security headers, whoever answered", async () => {
    const nc = await connect(server().url);
    cleanup.add(() => nc.close());
    const edge = await startEdge({ nc, logger: recordingLogger(), hstsMaxAgeSeconds: 600 });
    cleanup.add(() => edge.close());
    for (const [path, init] of [
      ["/healthz", {}],
      ["/readyz", {}],
      ["/_/routes", {}],
      ["/_/nothing", {}],
      ["/api/unknown", {}],
      [`/api/${"x".repeat(9000)}`, {}],
      ["/api/unknown", { method: "POST", headers: { "content-length": String(2 ** 21) } }],
    ] as [string, RequestInit][]) {
      const res = await edge.app.request(path, init);
      expect(res.headers.get("Mesh-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("strict-transport-security")).toBe("max-age=600; includeSubDomains");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
  });
});
