/**
 * Deadlines against a real nats-server: a service slower than its route's
 * deadline costs its client a 504 at the deadline and nothing else, and the
 * service learns the deadline from `Mesh-Deadline`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsServer } from "@runnerly/kit/testing";
import type { Edge } from "../app.ts";
import { createMemoryMetrics } from "../ops/metrics.ts";
import { addHttpService, connect, recordingLogger, respondText, startEdge, waitFor } from "../test-utils.ts";
import { unansweredWrite } from "./index.ts";

setDefaultTimeout(20_000);

let nats: NatsServer;
let nc: NatsConnection;
let edge: Edge;
const metrics = createMemoryMetrics();
const slowCalls: { at: number; deadline: number }[] = [];
let lateReplies = 0;

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false });
  nc = await connect(nats.url);
  await addHttpService(nc, {
    name: "slow",
    prefix: "/api/slow",
    handler(msg) {
      slowCalls.push({ at: Date.now(), deadline: Number(msg.headers?.get("Mesh-Deadline")) });
      setTimeout(() => {
        respondText(msg, 200, "finally");
        lateReplies += 1;
      }, 3000);
    },
  });
  await addHttpService(nc, {
    name: "quick",
    prefix: "/api/quick",
    handler: (m) => respondText(m, 200, "hi"),
  });
  edge = await startEdge({
    nc,
    logger: recordingLogger(),
    metrics,
    requestTimeoutMs: 10_000,
    routeTimeouts: [{ prefix: "/api/slow", ms: 1000 }],
  });
});

afterAll(async () => {
  await edge?.close();
  await nc?.close();
  await nats?.stop();
});

describe("a service answering after 3 s behind a 1 s route deadline", () => {
  test("504 at ~1 s; other services meanwhile unaffected; no try after the deadline", async () => {
    await waitFor(() => edge.routes.list().length === 2, { what: "both routes" });
    const t0 = Date.now();
    const slow = (async () => {
      const res = await edge.app.request("/api/slow/report");
      return { res, ms: Date.now() - t0 };
    })();

    // While it waits, the other service answers at once, again and again.
    const quick: number[] = [];
    while (quick.length < 20) {
      const q0 = performance.now();
      const res = await edge.app.request("/api/quick");
      expect(res.status).toBe(200);
      quick.push(performance.now() - q0);
    }
    expect(Math.max(...quick)).toBeLessThan(200);

    const { res, ms } = await slow;
    expect(res.status).toBe(504);
    expect(ms).toBeGreaterThanOrEqual(990);
    expect(ms).toBeLessThan(1300);
    expect(await res.json()).toMatchObject({
      status: 504,
      detail: "Service slow did not answer within 1000 ms.",
    });

    // Each try told the service when the edge would stop waiting for it; none ran past the deadline.
    expect(slowCalls.length).toBeGreaterThanOrEqual(1);
    expect(slowCalls.length).toBeLessThanOrEqual(3);
    for (const call of slowCalls) {
      expect(call.deadline).toBeGreaterThan(call.at);
      expect(call.deadline).toBeLessThanOrEqual(t0 + 1000 + 50);
    }
    // Wait for the late replies (they come 3 s after each try): the edge sent nothing more meanwhile.
    const tries = slowCalls.length;
    await waitFor(() => lateReplies === tries, { timeoutMs: 5000, what: "the late replies" });
    expect(slowCalls.length).toBe(tries);
    expect(metrics.value("edge_requests_total", { service: "slow", method: "GET", status: "504" })).toBe(1);
    expect((await edge.app.request("/api/quick")).status).toBe(200);
  });

  test("an unanswered POST's 504 says it may have been applied and how an Idempotency-Key finds out", async () => {
    const res = await edge.app.request("/api/slow/things", { method: "POST", body: "{}" });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { detail: string }).detail).toBe(
      `Service slow did not answer within 1000 ms.${unansweredWrite("POST", new Headers())}`,
    );
    expect(unansweredWrite("POST", new Headers())).toContain("send writes with an Idempotency-Key");
    expect(unansweredWrite("POST", new Headers({ "idempotency-key": "k" }))).toContain(
      "repeat it with the same Idempotency-Key",
    );
    expect(unansweredWrite("PUT", new Headers())).toBe("");
  });
});
