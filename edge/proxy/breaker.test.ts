/**
 * A service failing every request: the retry budget keeps the extra load it
 * gets from the edge within 20 %, its circuit opens so later requests fail
 * fast, and once it is healthy a half-open probe closes the circuit again.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsServer } from "@runnerly/kit/testing";
import type { Edge, RouteStatus } from "../app.ts";
import { createPromMetrics } from "../ops/prom.ts";
import { addHttpService, connect, recordingLogger, respondText, startEdge, waitFor } from "../test-utils.ts";

setDefaultTimeout(20_000);

let nats: NatsServer;
let nc: NatsConnection;
let edge: Edge;
let healthy = false;
let calls = 0;

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false });
  nc = await connect(nats.url);
  await addHttpService(nc, {
    name: "shaky",
    prefix: "/api/shaky",
    handler(msg) {
      calls += 1;
      if (healthy) respondText(msg, 200, "fine");
      else msg.respondError(503, "overloaded");
    },
  });
  edge = await startEdge({
    nc,
    logger: recordingLogger(),
    metrics: createPromMetrics(),
    // Enough failures in a row that the budget, not the circuit, limits the first wave.
    breaker: { failures: 100, halfOpenAfterMs: 500 },
    retry: { budgetRatio: 0.2, budgetMinRetries: 10, budgetWindowMs: 10_000 },
  });
});

afterAll(async () => {
  await edge?.close();
  await nc?.close();
  await nats?.stop();
});

async function circuit(): Promise<string | undefined> {
  const { routes } = (await (await edge.app.request("/_/routes")).json()) as { routes: RouteStatus[] };
  return routes.find((r) => r.service === "shaky")?.circuit;
}

async function metric(line: string): Promise<boolean> {
  return (await (await edge.app.request("/metrics")).text()).includes(line);
}

describe("a service failing every request", () => {
  test("retries stay within the budget, the circuit opens, and a probe closes it after recovery", async () => {
    await waitFor(() => edge.routes.match("/api/shaky"), { what: "shaky discovered" });
    let offered = 0;
    const statuses: number[] = [];
    async function wave(n: number): Promise<void> {
      offered += n;
      const responses = await Promise.all(Array.from({ length: n }, () => edge.app.request("/api/shaky/x")));
      statuses.push(...responses.map((r) => r.status));
    }
    for (let i = 0; i < 10; i++) await wave(20);
    expect(statuses.every((s) => s === 503)).toBe(true);
    expect(calls).toBeGreaterThanOrEqual(100);
    expect(calls).toBeLessThanOrEqual(1.2 * offered);
    expect(await metric('edge_retries_denied_total{service="shaky"}')).toBe(true);

    // Open: the next requests fail fast with Retry-After and never reach the service.
    expect(await circuit()).toBe("open");
    expect(await metric('edge_circuit_state{service="shaky"} 1')).toBe(true);
    const before = calls;
    const fast = await edge.app.request("/api/shaky/x");
    expect(fast.status).toBe(503);
    expect(Number(fast.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await fast.json()).toMatchObject({ detail: expect.stringContaining("stopped calling it") });
    expect(calls).toBe(before);

    // Healthy again: after the pause, one probe goes through and closes the circuit.
    healthy = true;
    await waitFor(async () => (await edge.app.request("/api/shaky/x")).status === 200, {
      timeoutMs: 3000,
      intervalMs: 50,
      what: "a probe to close the circuit",
    });
    expect(await circuit()).toBe("closed");
    expect(await metric('edge_circuit_state{service="shaky"} 0')).toBe(true);
    expect((await edge.app.request("/api/shaky/x")).status).toBe(200);
  });
});
