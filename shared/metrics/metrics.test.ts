/**
 * Service metrics against real parts: a nats-server with JetStream, two kit
 * services with their own SQLite files (a producer of events and a consumer
 * of them). Scrapes `/metrics` and `$SRV.STATS` and checks exact series. That
 * the edge never routes to a service's `/metrics` is edge/ops/metrics-route.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { silentLogger } from "../log/logger.ts";
import { createRpcClient, defineRpc } from "../rpc/index.ts";
import { type RunningService, startService } from "../service/index.ts";
import * as schema from "../testing/fixture/schema.ts";
import { fixtureRpc, fixtureService } from "../testing/fixture/service.ts";
import { meshFetch } from "../testing/mesh-fetch.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";
import type { ServiceStatsData } from "./index.ts";

setDefaultTimeout(60_000);

let nats: NatsServer;
let nc: NatsConnection;
let producer: RunningService<typeof schema>;
let consumer: RunningService<typeof schema>;
/** Items created at the producer so far: each is one event. */
let emitted = 0;

const env = (prefix: string, extra: Record<string, string> = {}) => ({
  NATS_URL: nats.url,
  DATA_DIR: mkdtempSync(join(tmpdir(), prefix)),
  LOG_LEVEL: "silent",
  ...extra,
});

async function addItem(owner: string, qty: number): Promise<number> {
  const res = await meshFetch(nc, "fixture", "/api/fixture/items", {
    method: "POST",
    user: owner,
    json: { qty, name: "i" },
  });
  expect(res.status).toBe(201);
  emitted++;
  return ((await res.json()) as { id: number }).id;
}

type Sample = { name: string; labels: Record<string, string>; value: number };

/** Parses the Prometheus text format (enough of it for these series). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(svc: RunningService<typeof schema>): Promise<Sample[]> {
  const res = await fetch(`${svc.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parse(await res.text());
}

/** The samples of `name` whose labels include `labels`. */
const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/** The one sample of `name` with `labels` (undefined when absent). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = find(samples, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

async function srvStats(name: string): Promise<unknown[]> {
  const datas: unknown[] = [];
  for await (const s of await new Svcm(nc).client().stats(name)) {
    for (const e of s.endpoints ?? []) datas.push(e.data);
  }
  return datas;
}

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  producer = (await startService(fixtureService(), {
    env: env("metrics-p-"),
    logger: silentLogger,
  })) as never;
  consumer = (await startService(fixtureService("tally", "1.0.0", { consume: true }), {
    env: env("metrics-c-"),
    logger: silentLogger,
  })) as never;
});

afterAll(async () => {
  await consumer?.stop();
  await producer?.stop();
  await nc?.close();
  await nats?.stop();
});

describe("HTTP requests", () => {
  test("are counted by method, route pattern and status, over NATS and on the direct port", async () => {
    for (let i = 0; i < 2; i++) expect((await fetch(`${producer.url}/api/fixture/healthz`)).status).toBe(200);
    const id = await addItem("meter", 1);
    const get = (user: string) => meshFetch(nc, "fixture", `/api/fixture/items/${id}`, { user });
    expect((await get("meter")).status).toBe(200);
    expect((await get("someone-else")).status).toBe(404);
    // The direct port drops Mesh-User (only the edge vouches for a caller): 401.
    const direct = await fetch(`${producer.url}/api/fixture/items/${id}`, {
      headers: { "mesh-user": "meter" },
    });
    expect(direct.status).toBe(401);
    const bad = await meshFetch(nc, "fixture", "/api/fixture/items", {
      method: "POST",
      user: "meter",
      json: {},
    });
    expect(bad.status).toBe(400);
    expect((await meshFetch(nc, "fixture", "/api/fixture/no/such/route")).status).toBe(404);

    await scrape(producer);
    const samples = await scrape(producer);
    const requests = (method: string, route: string, status: number) =>
      value(samples, "runnerly_http_requests_total", { method, route, status: String(status) });
    expect(requests("GET", "/api/fixture/healthz", 200)).toBe(2);
    expect(requests("POST", "/api/fixture/items", 201)).toBe(1);
    expect(requests("POST", "/api/fixture/items", 400)).toBe(1);
    expect(requests("GET", "/api/fixture/items/:id", 200)).toBe(1);
    expect(requests("GET", "/api/fixture/items/:id", 404)).toBe(1);
    expect(requests("GET", "/api/fixture/items/:id", 401)).toBe(1);
    expect(requests("GET", "unmatched", 404)).toBe(1);
    // Raw paths never become labels, and scrapes are not counted.
    const routes = new Set(find(samples, "runnerly_http_requests_total").map((s) => s.labels.route));
    expect([...routes].sort()).toEqual([
      "/api/fixture/healthz",
      "/api/fixture/items",
      "/api/fixture/items/:id",
      "unmatched",
    ]);
    expect(
      value(samples, "runnerly_http_request_duration_seconds_count", {
        method: "GET",
        route: "/api/fixture/healthz",
        status: "200",
      }),
    ).toBe(2);
    // Every series names its service and instance; process metrics are there too.
    const one = find(samples, "runnerly_http_requests_total")[0];
    expect(one?.labels).toMatchObject({ service: "fixture", instance: producer.instanceId });
    expect(value(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
  });

  test("/metrics is served over NATS too, outside the prefix", async () => {
    const res = await meshFetch(nc, "fixture", "/metrics");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("runnerly_http_requests_total");
    // Under the prefix there is no such route.
    expect((await meshFetch(nc, "fixture", "/api/fixture/metrics")).status).toBe(404);
  });

  test("requests refused by load shedding are counted, and /metrics is never shed", async () => {
    const shedder = (await startService(fixtureService("shedder"), {
      env: env("metrics-s-", { SERVICE_MAX_CONCURRENCY: "1" }),
      logger: silentLogger,
    })) as RunningService<typeof schema>;
    let refused = 0;
    const get = async (path: string) => {
      const res = await fetch(`${shedder.url}/api/shedder${path}`);
      if (res.status === 503) refused++;
      return res;
    };
    try {
      // Holds the only slot for a while (tried again in the unlikely case a probe held it first).
      const slow = (async () => {
        for (;;) {
          const res = await get("/slow?ms=1500");
          if (res.status !== 503) return res;
        }
      })();
      // Once the slot is taken, every other request is refused at once.
      await waitFor(async () => (await get("/echo")).status === 503, { what: "the slot to be taken" });
      const more = await Promise.all([1, 2, 3].map(() => get("/slow?ms=0")));
      expect(more.map((r) => r.status)).toEqual([503, 503, 503]);
      const whileBusy = await scrape(shedder);
      expect((await slow).status).toBe(200);
      const samples = await scrape(shedder);
      expect(value(samples, "runnerly_shed_total")).toBe(refused);
      expect(value(whileBusy, "runnerly_shed_total")).toBe(refused);
      const shedRequests = find(samples, "runnerly_http_requests_total", { status: "503" });
      expect(shedRequests.reduce((n, s) => n + s.value, 0)).toBe(refused);
      expect(
        value(samples, "runnerly_http_requests_total", { route: "/api/shedder/slow", status: "200" }),
      ).toBe(1);
    } finally {
      await shedder.stop();
    }
  });
});

describe("RPC calls", () => {
  test("are counted by target and outcome, for the service whose connection made them", async () => {
    // Calls made with the tally service's own connection, as its handlers would.
    const fixture = createRpcClient(consumer.nc, fixtureRpc, { timeoutMs: 2000 });
    expect(await fixture.add({ a: 1, b: 2 })).toEqual({ sum: 3 });
    expect(await fixture.add({ a: 2, b: 2 })).toEqual({ sum: 4 });
    // The callee's own errors, even a 503 or 504, are `error`: it answered.
    for (const status of [409, 503]) {
      await expect(fixture.fail({ status })).rejects.toMatchObject({ status });
    }
    await expect(fixture.add({ a: "x" } as never)).rejects.toMatchObject({ status: 400 });
    const ghost = createRpcClient(
      consumer.nc,
      defineRpc("ghost", { ping: { input: z.object({}), output: z.object({}) } }),
    );
    await expect(ghost.ping({})).rejects.toMatchObject({ status: 503 });
    // A listener that never answers.
    const silentSub = nc.subscribe("svc.silent.rpc.ping");
    await nc.flush();
    const silent = createRpcClient(
      consumer.nc,
      defineRpc("silent", { ping: { input: z.object({}), output: z.object({}) } }),
    );
    await expect(silent.ping({}, { timeoutMs: 150 })).rejects.toMatchObject({ status: 504 });
    silentSub.unsubscribe();

    const samples = await scrape(consumer);
    const calls = (target: string, outcome: string) =>
      value(samples, "runnerly_rpc_calls_total", { target, outcome });
    expect(calls("fixture.add", "ok")).toBe(2);
    expect(calls("fixture.fail", "error")).toBe(2);
    expect(calls("fixture.add", "invalid")).toBe(1);
    expect(calls("ghost.ping", "no_responders")).toBe(1);
    expect(calls("silent.ping", "timeout")).toBe(1);
    expect(find(samples, "runnerly_rpc_calls_total")).toHaveLength(5);
    const timeoutSum = value(samples, "runnerly_rpc_call_duration_seconds_sum", {
      target: "silent.ping",
      outcome: "timeout",
    });
    expect(timeoutSum).toBeGreaterThanOrEqual(0.14);
    // The producer made none of these calls.
    expect(find(await scrape(producer), "runnerly_rpc_calls_total")).toEqual([]);
  });
});

describe("events", () => {
  const tally = async (owner: string) =>
    consumer.store.db.select().from(schema.tallies).where(eq(schema.tallies.owner, owner)).get();
  const consumerLabels = { consumer: "fixture-tally-items" };

  test("consumer outcomes, dead letters, pending and the outbox are reported", async () => {
    for (const qty of [1, 2, 13, 4]) await addItem("ev", qty); // 13 is a poison event
    await waitFor(async () => (await tally("ev"))?.total === 7, { what: "ev's events applied" });

    // What JetStream itself says of the consumer. (A server before 2.10 ignores a
    // termination with a reason, so there the dead-lettered event stays unacknowledged
    // until its ack wait ends: the figures must agree with the server, not with a hope.)
    const jsm = await jetstreamManager(nc);
    const serverView = async () => {
      const i = await jsm.consumers.info("EVENTS_FIXTURE", "fixture-tally-items");
      return { pending: i.num_pending, ackPending: i.num_ack_pending, redelivered: i.num_redelivered };
    };
    const applied = emitted - 1;
    const outcome = (s: Sample[], o: string) =>
      value(s, "runnerly_consumer_messages_total", { ...consumerLabels, outcome: o });
    let server = await serverView();
    const samples = await waitFor(
      async () => {
        const s = await scrape(consumer);
        server = await serverView();
        const done =
          outcome(s, "applied") === applied &&
          outcome(s, "dead") === 1 &&
          value(s, "runnerly_dead_letters", consumerLabels) === 1 &&
          value(s, "runnerly_consumer_pending", consumerLabels) === server.pending &&
          value(s, "runnerly_consumer_ack_pending", consumerLabels) === server.ackPending &&
          value(s, "runnerly_consumer_redelivered", consumerLabels) === server.redelivered;
        return done ? s : null;
      },
      { timeoutMs: 10_000, what: "the consumer's figures" },
    );
    expect(server.pending).toBe(0);
    // The poison event: delivered 3 times (maxDeliver), retried twice, then dead-lettered.
    expect(outcome(samples, "retry")).toBe(2);
    expect(outcome(samples, "skipped")).toBe(0);
    // The consumer publishes no events: no outbox series.
    expect(find(samples, "runnerly_outbox_backlog")).toEqual([]);

    const p = await waitFor(
      async () => {
        const s = await scrape(producer);
        return value(s, "runnerly_events_published_total") === emitted ? s : null;
      },
      { what: "every event published" },
    );
    expect(value(p, "runnerly_outbox_backlog")).toBe(0);
    expect(value(p, "runnerly_outbox_oldest_age_seconds")).toBe(0);
    expect(find(p, "runnerly_consumer_pending")).toEqual([]);

    // $SRV.STATS: every endpoint carries the same figures.
    const expected: ServiceStatsData = {
      outbox: null,
      consumers: [{ name: "fixture-tally-items", stream: "EVENTS_FIXTURE", ...server, dead: 1 }],
    };
    const datas = await srvStats("tally");
    expect(datas.length).toBeGreaterThan(1);
    for (const d of datas) expect(d).toEqual(expected);
    const producerDatas = await srvStats("fixture");
    expect(producerDatas.length).toBeGreaterThan(1);
    for (const d of producerDatas)
      expect(d).toEqual({ outbox: { backlog: 0, oldestAgeMs: null }, consumers: [] });
  });

  test("a backlog while the relay is stopped, and pending events while the consumer is paused", async () => {
    const relay = producer.relay!;
    const runner = consumer.consumers[0]!;
    const heldBy = (s: Sample[]) =>
      (value(s, "runnerly_consumer_pending", consumerLabels) ?? 0) +
      (value(s, "runnerly_consumer_ack_pending", consumerLabels) ?? 0);
    const before = heldBy(await scrape(consumer));
    await relay.stop();
    await runner.pause();
    try {
      await addItem("held", 5);
      await addItem("held", 6);
      const p = await waitFor(
        async () => {
          const s = await scrape(producer);
          return value(s, "runnerly_outbox_backlog") === 2 ? s : null;
        },
        { what: "a backlog of 2" },
      );
      expect(value(p, "runnerly_outbox_oldest_age_seconds")).toBeGreaterThanOrEqual(0);
      const stats = (await waitFor(
        async () => {
          const [d] = (await srvStats("fixture")) as ServiceStatsData[];
          return d?.outbox?.backlog === 2 ? d : null;
        },
        { what: "a backlog of 2 in $SRV.STATS" },
      )) as ServiceStatsData;
      expect(stats.outbox?.oldestAgeMs).toBeGreaterThanOrEqual(0);

      relay.start();
      // Published but held by the paused consumer: pending or delivered-unacknowledged.
      await waitFor(async () => heldBy(await scrape(consumer)) === before + 2, {
        what: "2 events held for the paused consumer",
      });
      await waitFor(
        async () => {
          const [d] = (await srvStats("tally")) as ServiceStatsData[];
          const c = d?.consumers[0];
          return c && c.pending + c.ackPending === before + 2;
        },
        { what: "2 events held, in $SRV.STATS" },
      );
    } finally {
      runner.resume();
      relay.start();
    }
    await waitFor(async () => (await tally("held"))?.total === 11, { what: "the held events applied" });
    await waitFor(
      async () => {
        const s = await scrape(producer);
        return (
          value(s, "runnerly_outbox_backlog") === 0 && value(s, "runnerly_events_published_total") === emitted
        );
      },
      { what: "an empty backlog" },
    );
  });
});

describe("NATS", () => {
  test("disconnects and reconnects are counted", async () => {
    for (const svc of [producer, consumer]) {
      const s = await scrape(svc);
      expect(value(s, "runnerly_nats_disconnects_total")).toBe(0);
      expect(value(s, "runnerly_nats_reconnects_total")).toBe(0);
    }
    await nats.restart();
    for (const svc of [producer, consumer]) {
      await waitFor(
        async () => {
          const s = await scrape(svc);
          return (
            value(s, "runnerly_nats_reconnects_total") === 1 &&
            value(s, "runnerly_nats_disconnects_total") === 1
          );
        },
        { timeoutMs: 15_000, what: `${svc.name} reconnected` },
      );
    }
  });
});
