/**
 * Server-sent events through the edge (docs/protocol.md, "Streamed replies"),
 * over real HTTP and a real nats-server: a kit route answering `streamSSE`
 * reaches a client event by event as it writes them; without
 * `Accept: text/event-stream` the same route answers in one reply; a client
 * that leaves makes the edge unsubscribe while the service goes on publishing
 * to nobody; a service that dies, or a message lost on the way, ends the
 * client's stream (a dead service within the idle bound).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Service } from "@nats-io/services";
import { defineService, type MeshEnv, type RunningService, startService } from "@runnerly/kit";
import { freePort, NatsServer } from "@runnerly/kit/testing";
import { fixtureMigrationsFolder, fixtureSchema } from "@runnerly/kit/testing/fixture";
import { MeshHeader, MeshHeaders, MeshStream } from "@runnerly/kit/web";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Edge } from "../app.ts";
import { createMemoryMetrics } from "../ops/metrics.ts";
import { addHttpService, cleanups, connect, recordingLogger, startEdge, waitFor } from "../test-utils.ts";

setDefaultTimeout(30_000);

// Kit services beat every 10 s; this bound is for a test that kills one right after its first event.
const IDLE_MS = 2000;
const EVENTS = "event: tick\ndata: 1\n\nevent: tick\ndata: 2\n\nevent: tick\ndata: 3\n\n";

let nats: NatsServer;
let monitor: string;
let edgeNc: NatsConnection;
let edge: Edge;
let server: ReturnType<typeof Bun.serve>;
let dataDir: string;
const done = cleanups();
const serviceLogs = recordingLogger();
/** What each request's route did, by its `id` query parameter. */
const routes = new Map<string, { produced: number; go: () => void }>();
const streamDeadlines: number[] = [];

/** A kit service whose route writes three events, the second once the test lets it go (`?wait=0`: at once). */
function tickerService(name: string) {
  return defineService({
    name,
    version: "1.0.0",
    schema: fixtureSchema,
    migrationsFolder: fixtureMigrationsFolder,
    routes: () =>
      new Hono<MeshEnv>().get("/events", (c) => {
        const route = { produced: 0, go: () => {} };
        const gate = new Promise<void>((r) => {
          route.go = r;
          if (c.req.query("wait") === "0") r();
        });
        routes.set(c.req.query("id") ?? "", route);
        return streamSSE(c, async (s) => {
          for (const n of [1, 2, 3]) {
            if (n === 2) await gate;
            await s.writeSSE({ event: "tick", data: String(n) });
            route.produced = n;
          }
        });
      }),
  });
}

function start(name: string): Promise<RunningService<typeof fixtureSchema>> {
  return startService(tickerService(name), {
    env: { NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: "warn" },
    logger: serviceLogs,
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-streaming-"));
  const monitorPort = await freePort();
  nats = await NatsServer.start({ jetstream: false, extraConfig: `http: "127.0.0.1:${monitorPort}"` });
  monitor = `http://127.0.0.1:${monitorPort}`;
  edgeNc = await connect(nats.url, "edge");
  const ticker = await start("ticker");
  done.add(() => ticker.stop());
  edge = await startEdge({
    nc: edgeNc,
    logger: recordingLogger(),
    metrics: createMemoryMetrics(),
    streams: { maxMs: 120_000, idleMs: IDLE_MS },
  });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: edge.app.fetch });
  await waitFor(() => edge.routes.list().some((r) => r.service === "ticker"), { what: "the ticker's route" });
});

afterAll(async () => {
  for (const r of routes.values()) r.go();
  server?.stop(true);
  await edge?.close();
  await done.run();
  await edgeNc?.close();
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Reads a body chunk by chunk, as an EventSource would. */
function eventReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    get text() {
      return text;
    },
    /** Reads until `pattern` has arrived; false when the body ended first. */
    async until(pattern: string): Promise<boolean> {
      while (!text.includes(pattern)) {
        const { done, value } = await reader.read();
        if (done) return false;
        text += decoder.decode(value, { stream: true });
      }
      return true;
    },
    async rest(): Promise<string> {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
const sse = { accept: "text/event-stream" };

/** The stream inboxes the edge's NATS connection subscribes to (its one-reply requests share one `_INBOX.<id>.*`). */
async function streamInboxes(): Promise<string[]> {
  const res = await fetch(`${monitor}/connz?subs=1`);
  const { connections } = (await res.json()) as {
    connections: { name?: string; subscriptions_list?: string[] }[];
  };
  const subs = connections.find((c) => c.name === "edge")?.subscriptions_list ?? [];
  // A streamed request's reply subject names the service it is addressed to (its NATS user may publish only there).
  return subs.filter((s) => /^_INBOX\.stream\.ticker\.[^.*>]+$/.test(s));
}

describe("a kit route answering with server-sent events", () => {
  test("reaches the client event by event as it is written, and ends when the route ends", async () => {
    const res = await fetch(url("/api/ticker/events?id=live"), { headers: sse });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("mesh-stream")).toBeNull();
    const events = eventReader(res);
    expect(await events.until("data: 1\n\n")).toBe(true);
    // The route has written only the first event: it waits for the test before the second.
    expect(routes.get("live")?.produced).toBe(1);
    expect(events.text).not.toContain("data: 2");
    expect(await streamInboxes()).toHaveLength(1);
    routes.get("live")?.go();
    expect(await events.rest()).toBe(EVENTS);
    expect(routes.get("live")?.produced).toBe(3);
    await waitFor(async () => (await streamInboxes()).length === 0, {
      what: "the edge to unsubscribe after end",
    });
  });

  test("without Accept: text/event-stream the same route answers in one reply", async () => {
    const res = await fetch(url("/api/ticker/events?id=whole&wait=0"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(await res.text()).toBe(EVENTS);
  });

  test("a client that leaves: the edge unsubscribes, the service goes on publishing to nobody without error", async () => {
    const abort = new AbortController();
    const res = await fetch(url("/api/ticker/events?id=gone"), { headers: sse, signal: abort.signal });
    const events = eventReader(res);
    expect(await events.until("data: 1\n\n")).toBe(true);
    expect(await streamInboxes()).toHaveLength(1);
    abort.abort();
    // Well before the idle bound, which would end it anyway.
    await waitFor(async () => (await streamInboxes()).length === 0, {
      what: "the edge to drop the stream's subscription",
      timeoutMs: IDLE_MS / 2,
    });
    const route = routes.get("gone")!;
    route.go();
    await waitFor(() => route.produced === 3, { what: "the route to write its last event" });
    expect(serviceLogs.entries.filter((e) => e.level === "error" || e.level === "warn")).toEqual([]);
    const again = await fetch(url("/api/ticker/events?id=after&wait=0"), { headers: sse });
    expect(await again.text()).toBe(EVENTS);
  });
});

describe("a stream whose service goes away or loses a message", () => {
  test("a service that dies mid-way: the client's stream ends within the idle bound", async () => {
    const doomed = await start("doomed");
    await waitFor(() => edge.routes.list().some((r) => r.service === "doomed"), { what: "the doomed route" });
    const res = await fetch(url("/api/doomed/events?id=dies"), { headers: sse });
    const events = eventReader(res);
    expect(await events.until("data: 1\n\n")).toBe(true);
    const t0 = performance.now();
    // Gone without a word, as a killed process: its connection closes under it.
    await doomed.nc.close();
    expect(await events.rest()).toBe("event: tick\ndata: 1\n\n");
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(IDLE_MS * 0.5);
    expect(ms).toBeLessThan(IDLE_MS + 1500);
    await waitFor(async () => (await streamInboxes()).length === 0, { what: "the edge to unsubscribe" });
    routes.get("dies")?.go();
    await doomed.stop().catch(() => {});
  });

  test("a gap in Mesh-Stream-Seq ends the client's stream after the bytes before it; its Mesh-Deadline is the stream cap", async () => {
    const nc = await connect(nats.url, "gappy");
    done.add(() => nc.close());
    const gappy: Service = await addHttpService(nc, {
      name: "gappy",
      prefix: "/api/gappy",
      handler(msg) {
        streamDeadlines.push(Number(msg.headers?.get(MeshHeader.Deadline)) - Date.now());
        const send = (kind: string, seq: number | null, body: string) => {
          const h = new MeshHeaders();
          if (kind === MeshStream.Open) {
            h.append("Http-Status", "200");
            h.append("content-type", "text/event-stream");
          }
          h.append(MeshHeader.Stream, kind);
          if (seq !== null) h.append(MeshHeader.StreamSeq, String(seq));
          msg.respond(new TextEncoder().encode(body), { headers: h });
        };
        send(MeshStream.Open, null, "data: a\n\n");
        send(MeshStream.Data, 1, "data: b\n\n");
        send(MeshStream.Data, 3, "data: after-a-lost-one\n\n");
        send(MeshStream.Data, 4, "data: d\n\n");
      },
    });
    done.add(() => gappy.stop());
    await waitFor(() => edge.routes.list().some((r) => r.service === "gappy"), { what: "the gappy route" });
    const t0 = performance.now();
    const res = await fetch(url("/api/gappy/x"), { headers: sse });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("data: a\n\ndata: b\n\n");
    expect(performance.now() - t0).toBeLessThan(IDLE_MS);
    expect(streamDeadlines[0]).toBeGreaterThan(110_000);
    await waitFor(async () => (await streamInboxes()).length === 0, { what: "the edge to unsubscribe" });
  });
});
