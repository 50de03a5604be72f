/**
 * Graceful degradation: while a service is down, GETs it marked cacheable get
 * the last good copy, marked stale, and only the caller who got it; once the
 * service is back, answers are fresh from it again.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { headers as natsHeaders } from "@nats-io/nats-core";
import type { ServiceMsg } from "@nats-io/services";
import { createMemoryMetrics } from "../ops/metrics.ts";
import { addHttpService, connect, recordingLogger, startEdge, waitFor } from "../test-utils.ts";
import { natsPerFile } from "../testdata/per-file.ts";

setDefaultTimeout(20_000);

const { server, cleanup } = natsPerFile();

/** The catalog service, version `v`: what it answers and how it marks it. */
function catalog(v: string) {
  return (msg: ServiceMsg) => {
    const path = msg.headers?.get("Http-Path") ?? "";
    const caller = msg.headers?.get("authorization") ?? "nobody";
    const h = natsHeaders();
    h.set("Http-Status", "200");
    h.set("content-type", "text/plain");
    let body = `${v} items`;
    if (path.endsWith("/items")) h.set("cache-control", "public, max-age=1");
    else if (path.endsWith("/mine")) {
      // Per-caller data a careless service still marks shareable: the edge keys it by caller anyway.
      h.set("cache-control", "max-age=60");
      body = `${v} runs of ${caller}`;
    } else if (path.endsWith("/private")) h.set("cache-control", "private, max-age=60");
    else h.set("cache-control", "no-store");
    msg.respond(new TextEncoder().encode(body), { headers: h });
  };
}

describe("a service that stops", () => {
  test("stale copies stand in (per caller, never private ones); fresh ones return with the service", async () => {
    const metrics = createMemoryMetrics();
    const edgeNc = await connect(server().url, "edge");
    cleanup.add(() => edgeNc.close());
    const edge = await startEdge({ nc: edgeNc, logger: recordingLogger(), metrics, sweepIntervalMs: 200 });
    cleanup.add(() => edge.close());
    const svcNc = await connect(server().url, "catalog");
    cleanup.add(() => svcNc.close());
    const v1 = await addHttpService(svcNc, {
      name: "catalog",
      prefix: "/api/catalog",
      handler: catalog("v1"),
    });
    await waitFor(() => edge.routes.match("/api/catalog")?.instances.length, { what: "catalog discovered" });

    const get = (path: string, user?: string) =>
      edge.app.request(`/api/catalog${path}`, user ? { headers: { authorization: `Bearer ${user}` } } : {});
    const fresh = await get("/items");
    expect(fresh.headers.get("mesh-stale")).toBeNull(); // served by the service, not the cache
    expect(await fresh.text()).toBe("v1 items");
    expect(await (await get("/mine", "alice")).text()).toBe("v1 runs of Bearer alice");
    await get("/private", "alice");
    await get("/nostore");

    await v1.stop();
    const stale = await get("/items");
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe("v1 items");
    expect(stale.headers.get("mesh-stale")).toBe("true");
    expect(stale.headers.get("warning")).toBe('110 - "Response is Stale"');
    expect(Number(stale.headers.get("age"))).toBeGreaterThanOrEqual(0);
    expect(stale.headers.get("Mesh-Request-Id")).toBeTruthy();

    expect(await (await get("/mine", "alice")).text()).toBe("v1 runs of Bearer alice");
    const bob = await get("/mine", "bob");
    expect(bob.status).toBe(503); // never alice's copy
    expect((await get("/mine")).status).toBe(503); // nor an anonymous caller's
    expect((await get("/private", "alice")).status).toBe(503);
    expect((await get("/nostore")).status).toBe(503);
    // Still served once the circuit has opened on the failures.
    for (let i = 0; i < 5; i++) await get("/nostore");
    expect(edge.status().find((r) => r.service === "catalog")?.circuit).toBe("open");
    expect((await get("/items")).headers.get("mesh-stale")).toBe("true");
    expect(metrics.value("edge_cache_stale_served_total", { service: "catalog" })).toBe(3);

    await addHttpService(svcNc, { name: "catalog", prefix: "/api/catalog", handler: catalog("v2") });
    const back = await waitFor(
      async () => {
        const res = await get("/items");
        return res.headers.get("mesh-stale") === null && res.status === 200 && (await res.text());
      },
      { timeoutMs: 3000, what: "fresh answers from the restarted service" },
    );
    expect(back).toBe("v2 items");
  });

  test("a POST that changes a resource forgets the copies of it", async () => {
    const edgeNc = await connect(server().url, "edge");
    cleanup.add(() => edgeNc.close());
    const edge = await startEdge({ nc: edgeNc, logger: recordingLogger() });
    cleanup.add(() => edge.close());
    const svcNc = await connect(server().url, "catalog");
    cleanup.add(() => svcNc.close());
    const svc = await addHttpService(svcNc, {
      name: "catalog",
      prefix: "/api/catalog",
      handler: catalog("v1"),
    });
    await waitFor(() => edge.routes.match("/api/catalog")?.instances.length, { what: "catalog discovered" });
    await edge.app.request("/api/catalog/items");
    expect((await edge.app.request("/api/catalog/items", { method: "POST", body: "x" })).status).toBe(200);
    await svc.stop();
    expect((await edge.app.request("/api/catalog/items")).status).toBe(503);
  });
});
