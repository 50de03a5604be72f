/**
 * Failover with real processes: instances of a kit service (testdata/
 * mesh-service.ts) are SIGKILLed while requests flow, as a crash or an OOM
 * kill would do it. Nothing may fail that the edge can safely try again.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { createMemoryMetrics } from "../ops/metrics.ts";
import { connect, recordingLogger, startEdge, waitFor } from "../test-utils.ts";
import { natsPerFile } from "../testdata/per-file.ts";
import { HOLDING_SUBJECT, meshProcesses } from "../testdata/spawn.ts";

setDefaultTimeout(45_000);

const { server, cleanup } = natsPerFile();

async function setup(routeTimeoutMs: number) {
  const mesh = meshProcesses(server().url);
  cleanup.add(() => mesh.stopAll());
  const nc = await connect(server().url, "edge");
  cleanup.add(() => nc.close());
  const metrics = createMemoryMetrics();
  const edge = await startEdge({
    nc,
    logger: recordingLogger(),
    metrics,
    routeTimeouts: [{ prefix: "/api/mesh", ms: routeTimeoutMs }],
  });
  cleanup.add(() => edge.close());
  const instances = () => edge.routes.match("/api/mesh")?.instances.length ?? 0;
  return { mesh, nc, edge, metrics, instances };
}

describe("an instance killed under load", () => {
  test("kill -9 of one of three instances at 200 GET/s for 10 s: not one request fails", async () => {
    // A 2 s deadline: a try that went to the dead instance gives up after ~667 ms and is retried.
    const { mesh, edge, metrics, instances } = await setup(2000);
    const procs = [mesh.start(), mesh.start(), mesh.start()];
    await waitFor(() => instances() === 3, { timeoutMs: 15_000, what: "three instances" });

    const RATE = 200;
    const SECONDS = 10;
    const total = RATE * SECONDS;
    const statuses = new Map<number, number>();
    const servedBy = new Map<string, number>();
    const pending: Promise<void>[] = [];
    async function one(): Promise<void> {
      // Each request takes 100 ms, so ~7 are in flight on each instance when one is killed.
      const res = await edge.app.request("/api/mesh/hello?delay=100");
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.ok) {
        const { instance } = (await res.json()) as { instance: string };
        servedBy.set(instance, (servedBy.get(instance) ?? 0) + 1);
      }
    }
    let killedAt = 0;
    const t0 = performance.now();
    for (let sent = 0; sent < total; ) {
      // Paced, not waiting for anything: fire every request that is due, then yield a tick.
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1);
      for (; sent < due; sent++) pending.push(one());
      if (!killedAt && performance.now() - t0 >= 3000) {
        void procs[1]!.kill();
        killedAt = performance.now();
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);

    expect([...statuses]).toEqual([[200, total]]);
    expect(servedBy.size).toBe(3); // the dead one served until it died, the others after
    // Requests it held when it died were answered by another instance: hedged there once slower
    // than the service's p95, or retried after their try timed out.
    const rescued =
      metrics.value("edge_hedges_total", { service: "mesh" }) +
      metrics.value("edge_retries_total", { service: "mesh", reason: "timeout" });
    expect(rescued).toBeGreaterThan(0);
    // The route table forgets the dead instance within 2 s (sweep + ping), with no announcement.
    await waitFor(() => instances() === 2, { timeoutMs: 2000, what: "the killed instance to leave" });
  });
});

describe("a POST with an Idempotency-Key whose instance dies before replying", () => {
  test("is retried on another instance and creates exactly one record", async () => {
    const { mesh, nc, edge, metrics, instances } = await setup(6000);
    let held: string | null = null;
    const sub = nc.subscribe(HOLDING_SUBJECT, {
      callback: (_err, msg) => {
        held = msg.string();
      },
    });
    cleanup.add(() => sub.unsubscribe());
    const doomed = mesh.start({ HOLD_POSTS: "1" });
    await waitFor(() => instances() === 1, { timeoutMs: 15_000, what: "the first instance" });

    const posting = edge.app.request("/api/mesh/items", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "order-1" },
      body: JSON.stringify({ name: "race entry" }),
    });
    const doomedId = await waitFor(() => held, { what: "the first try to reach the doomed instance" });
    mesh.start();
    await waitFor(() => instances() === 2, { timeoutMs: 15_000, what: "a second instance" });
    await doomed.kill();

    const res = await posting;
    expect(res.status).toBe(201);
    const created = (await res.json()) as { instance: string; name: string };
    expect(created.name).toBe("race entry");
    expect(created.instance).not.toBe(doomedId);
    // The second try went out as a retry after the first timed out, or as a hedge beside it.
    expect(
      metrics.value("edge_retries_total", { service: "mesh", reason: "timeout" }) +
        metrics.value("edge_hedges_total", { service: "mesh" }),
    ).toBeGreaterThanOrEqual(1);
    const count = await edge.app.request("/api/mesh/count");
    expect(await count.json()).toEqual({ count: 1 });
  });
});
