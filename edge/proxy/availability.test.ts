/**
 * What clients see when services go away, come back, or answer late: fast
 * 503s and 504s, never a hang, and recovery without touching the edge.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ServiceMsg } from "@nats-io/services";
import {
  addHttpService,
  connect,
  recordingLogger,
  respondText,
  startEdge,
  waitFor,
  waitUntilServerForgets,
} from "../test-utils.ts";
import { natsPerFile } from "../testdata/per-file.ts";

// Room for a loaded CI machine; every wait inside a test has its own, shorter bound.
setDefaultTimeout(15_000);

const { server, cleanup } = natsPerFile();

async function setup(options: { requestTimeoutMs?: number } = { requestTimeoutMs: 2000 }) {
  const edgeNc = await connect(server().url, "edge");
  cleanup.add(() => edgeNc.close());
  const logger = recordingLogger();
  const edge = await startEdge({ nc: edgeNc, logger, sweepIntervalMs: 100, ...options });
  cleanup.add(() => edge.close());
  return { edge, logger };
}

async function serviceOnOwnConnection(
  name: string,
  handler = (msg: ServiceMsg) => respondText(msg, 200, name),
) {
  const nc = await connect(server().url, name);
  cleanup.add(() => nc.close());
  const service = await addHttpService(nc, { name, prefix: `/api/${name}`, handler });
  return { nc, service };
}

async function timed(fn: () => Response | Promise<Response>): Promise<{ res: Response; ms: number }> {
  const t0 = performance.now();
  const res = await fn();
  return { res, ms: performance.now() - t0 };
}

describe("a service that goes away", () => {
  test("service.stop(): 503 problem in well under 1 s; the route stays (503, not 404) and recovers", async () => {
    const { edge } = await setup();
    const { nc, service } = await serviceOnOwnConnection("flaky");
    await waitFor(() => edge.routes.match("/api/flaky")?.instances.length, { what: "flaky discovered" });
    expect((await edge.app.request("/api/flaky/x")).status).toBe(200);

    await service.stop();
    const { res, ms } = await timed(() => edge.app.request("/api/flaky/x"));
    expect(res.status).toBe(503);
    expect(ms).toBeLessThan(1000);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("Mesh-Request-Id")).toBeTruthy();
    expect(await res.json()).toMatchObject({ status: 503, detail: "Service flaky has no running instance." });

    // The PING check confirms it is gone: no instance left, but the route is kept for a clear 503.
    await waitFor(() => edge.routes.match("/api/flaky")?.instances.length === 0, { what: "flaky emptied" });
    expect((await edge.app.request("/api/flaky/x")).status).toBe(503);

    await addHttpService(nc, {
      name: "flaky",
      prefix: "/api/flaky",
      handler: (m) => respondText(m, 200, "back"),
    });
    const back = await waitFor(
      async () => {
        const r = await edge.app.request("/api/flaky/x");
        return r.status === 200 && (await r.text());
      },
      { what: "flaky back" },
    );
    expect(back).toBe("back");
  });

  test("its NATS connection closes: 503 in well under 1 s, and it recovers on a new connection", async () => {
    const { edge } = await setup();
    const probe = await connect(server().url, "probe");
    cleanup.add(() => probe.close());
    const { nc } = await serviceOnOwnConnection("fragile");
    await waitFor(() => edge.routes.match("/api/fragile")?.instances.length, { what: "fragile discovered" });

    await nc.close();
    await waitUntilServerForgets(probe, "fragile");
    const { res, ms } = await timed(() => edge.app.request("/api/fragile"));
    expect(res.status).toBe(503);
    expect(ms).toBeLessThan(1000);

    await serviceOnOwnConnection("fragile");
    await waitFor(async () => (await edge.app.request("/api/fragile")).status === 200, {
      what: "fragile back",
    });
  });

  test("two instances: one stopping does not interrupt the other", async () => {
    const { edge } = await setup();
    const first = await serviceOnOwnConnection("pair");
    await serviceOnOwnConnection("pair");
    await waitFor(() => edge.routes.match("/api/pair")?.instances.length === 2, { what: "both instances" });
    await first.service.stop();
    for (let i = 0; i < 10; i++) expect((await edge.app.request("/api/pair")).status).toBe(200);
  });
});

describe("a service that answers late", () => {
  test("504 problem at the timeout, the edge keeps serving, and the late reply harms nothing", async () => {
    const { edge, logger } = await setup({ requestTimeoutMs: 200 });
    let lateReplies = 0;
    await serviceOnOwnConnection("slow", (msg) => {
      if (msg.headers?.get("Http-Path") === "/api/slow/fast") return respondText(msg, 200, "fast");
      setTimeout(() => {
        respondText(msg, 200, "too late");
        lateReplies += 1;
      }, 500);
    });
    await waitFor(() => edge.routes.match("/api/slow"), { what: "slow discovered" });

    const { res, ms } = await timed(() => edge.app.request("/api/slow/crawl"));
    expect(res.status).toBe(504);
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(1000);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({
      status: 504,
      detail: "Service slow did not answer within 200 ms.",
    });

    const fast = await edge.app.request("/api/slow/fast");
    expect(fast.status).toBe(200);
    await waitFor(() => lateReplies === 1, { what: "the late reply" });
    expect((await edge.app.request("/api/slow/fast")).status).toBe(200);
    expect(edge.routes.match("/api/slow")?.instances).toHaveLength(1);
    expect(logger.entries.some((e) => e.msg === "service timed out" && e.fields.requestId)).toBe(true);
  });
});
