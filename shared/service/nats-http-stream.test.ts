/**
 * Streamed replies from the kit's `http` endpoint (docs/protocol.md,
 * "Streamed replies"): the messages' order, sequence numbers, coalescing and
 * splitting (StreamSender alone), then a Hono app answering with
 * `streamSSE`, served by `serveHttpMessage` on a real nats-server: `open`
 * first, `data` as the app writes, `end` last; its Mesh-Deadline and the
 * kit's cap end a stream the app would keep open; a request without
 * `Mesh-Stream: 1` gets today's single reply.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createInbox, type Msg, type NatsConnection, headers as natsHeaders } from "@nats-io/nats-core";
import { type Service, Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { silentLogger } from "../log/logger.ts";
import { HttpHeader, MeshHeader, MeshHeaders, MeshStream } from "../protocol/index.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";
import { type StreamOptions, StreamSender, serveHttpMessage } from "./nats-http.ts";

type Sent = { kind: string; seq: string; bytes: number; text: string };

function recorder(): { sent: Sent[]; publish: (body: Uint8Array, h: MeshHeaders) => void } {
  const sent: Sent[] = [];
  return {
    sent,
    publish: (body, h) =>
      sent.push({
        kind: h.get(MeshHeader.Stream),
        seq: h.get(MeshHeader.StreamSeq),
        bytes: body.byteLength,
        text: new TextDecoder().decode(body),
      }),
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe("StreamSender", () => {
  test("open first, then data numbered from 1, end last with the next number", async () => {
    const { sent, publish } = recorder();
    const s = new StreamSender(publish, 60_000, 64 * 1024);
    s.open(new MeshHeaders());
    s.write(bytes("a"));
    await waitFor(() => sent.length === 2, { what: "the first chunk" });
    s.write(bytes("b"));
    s.end();
    expect(sent.map((m) => [m.kind, m.seq, m.text])).toEqual([
      ["open", "", ""],
      ["data", "1", "a"],
      ["data", "2", "b"],
      ["end", "3", ""],
    ]);
  });

  test("writes of one tick go as one message; more than a chunk is split at the chunk size", async () => {
    const { sent, publish } = recorder();
    const s = new StreamSender(publish, 60_000, 10);
    s.open(new MeshHeaders());
    s.write(bytes("0123"));
    s.write(bytes("4567"));
    s.write(bytes("89abcdefghijklmnopqrstu"));
    expect(sent).toHaveLength(1);
    await waitFor(() => sent.length > 1, { what: "the coalesced chunks" });
    expect(sent.slice(1).map((m) => m.text)).toEqual(["0123456789", "abcdefghij", "klmnopqrst", "u"]);
    expect(sent.slice(1).map((m) => m.seq)).toEqual(["1", "2", "3", "4"]);
    s.end();
  });

  test("a silent stream beats: an empty data message, numbered like the others", async () => {
    const { sent, publish } = recorder();
    const s = new StreamSender(publish, 30, 64 * 1024);
    s.open(new MeshHeaders());
    await waitFor(() => sent.length >= 3, { what: "two heartbeats" });
    s.end();
    expect(sent.slice(1, 3)).toEqual([
      { kind: "data", seq: "1", bytes: 0, text: "" },
      { kind: "data", seq: "2", bytes: 0, text: "" },
    ]);
    const count = sent.length;
    expect(sent[count - 1]?.kind).toBe("end");
  });

  test("a publish that throws (connection gone) marks it broken and sends nothing more", () => {
    let calls = 0;
    const s = new StreamSender(
      () => {
        calls += 1;
        if (calls > 1) throw new Error("closed");
      },
      60_000,
      1024,
    );
    s.open(new MeshHeaders());
    s.write(bytes("x"));
    s.flush();
    expect(s.broken).toBe(true);
    s.end();
    expect(calls).toBe(2);
  });
});

describe("serveHttpMessage on a real nats-server", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let service: Service;
  let options: StreamOptions = { maxMs: 60_000 };
  let release: () => void = () => {};
  const aborted: string[] = [];
  const served: Promise<unknown>[] = [];

  const app = new Hono();
  app.get("/api/ticker/events", (c) =>
    streamSSE(c, async (s) => {
      s.onAbort(() => void aborted.push(c.req.query("id") ?? ""));
      await s.writeSSE({ event: "tick", data: "1" });
      await new Promise<void>((r) => {
        release = r;
        if (c.req.query("wait") === "0") r();
      });
      await s.writeSSE({ event: "tick", data: "2" });
      await s.writeSSE({ event: "tick", data: "3" });
    }),
  );

  beforeAll(async () => {
    nats = await NatsServer.start({ jetstream: false });
    nc = await connect({ servers: nats.url });
    service = await new Svcm(nc).add({ name: "ticker", version: "1.0.0" });
    service.addEndpoint("http", {
      subject: "svc.ticker.http",
      handler: (_err, msg) => {
        served.push(serveHttpMessage(app, msg, "http://ticker.mesh", silentLogger, options));
      },
    });
    await nc.flush();
  });

  afterAll(async () => {
    release();
    await Promise.allSettled(served);
    await service?.stop();
    await nc?.close();
    await nats?.stop();
  });

  /** Sends a request with its own reply subject and collects every reply message. */
  function send(path: string, { stream = true, deadline = Date.now() + 30_000 } = {}) {
    const got: Msg[] = [];
    const inbox = createInbox();
    const sub = nc.subscribe(inbox, { callback: (_e, m) => void got.push(m) });
    const h = natsHeaders();
    h.set(HttpHeader.Method, "GET");
    h.set(HttpHeader.Path, path);
    h.set(MeshHeader.Deadline, String(deadline));
    if (stream) h.set(MeshHeader.Stream, MeshStream.Accepted);
    nc.publish("svc.ticker.http", new Uint8Array(), { headers: h, reply: inbox });
    return { got, sub, text: () => got.map((m) => m.string()).join("") };
  }

  test("open carries the status and content type; each event follows as it is written; end closes", async () => {
    const r = send("/api/ticker/events?id=a");
    await waitFor(() => r.text().includes("data: 1"), { what: "the first event" });
    // Event 2 is held back by the route: the first one was sent alone, before it existed.
    const open = r.got[0]!;
    expect(open.headers?.get(MeshHeader.Stream)).toBe(MeshStream.Open);
    expect(open.headers?.get(HttpHeader.Status)).toBe("200");
    expect(open.headers?.get("content-type")).toContain("text/event-stream");
    expect(r.text()).not.toContain("data: 2");
    release();
    await waitFor(() => r.got.at(-1)?.headers?.get(MeshHeader.Stream) === MeshStream.End, {
      what: "the end of the stream",
    });
    r.sub.unsubscribe();
    const after = r.got.slice(1);
    expect(after.map((m) => m.headers?.get(MeshHeader.StreamSeq))).toEqual(
      after.map((_, i) => String(i + 1)),
    );
    expect(r.text()).toBe("event: tick\ndata: 1\n\nevent: tick\ndata: 2\n\nevent: tick\ndata: 3\n\n");
  });

  test("without Mesh-Stream: 1 the same route answers in one reply with the whole body", async () => {
    const r = send("/api/ticker/events?wait=0", { stream: false });
    await waitFor(() => r.got.length === 1, { what: "the reply" });
    r.sub.unsubscribe();
    const reply = r.got[0]!;
    expect(reply.headers?.get(MeshHeader.Stream)).toBe("");
    expect(reply.headers?.get(HttpHeader.Status)).toBe("200");
    expect(reply.string()).toBe("event: tick\ndata: 1\n\nevent: tick\ndata: 2\n\nevent: tick\ndata: 3\n\n");
  });

  test("a stream ends with end at its Mesh-Deadline: the app's stream is aborted", async () => {
    const r = send("/api/ticker/events?id=deadline", { deadline: Date.now() + 400 });
    await waitFor(() => r.got.at(-1)?.headers?.get(MeshHeader.Stream) === MeshStream.End, {
      what: "end at the deadline",
      timeoutMs: 3000,
    });
    r.sub.unsubscribe();
    expect(r.text()).toBe("event: tick\ndata: 1\n\n");
    await waitFor(() => aborted.includes("deadline"), { what: "the app to see its stream aborted" });
    release();
  });

  test("the kit's cap ends a stream whose deadline is later", async () => {
    options = { maxMs: 300 };
    try {
      const r = send("/api/ticker/events?id=cap", { deadline: Date.now() + 60_000 });
      const t0 = Date.now();
      await waitFor(() => r.got.at(-1)?.headers?.get(MeshHeader.Stream) === MeshStream.End, {
        what: "end at the cap",
        timeoutMs: 3000,
      });
      expect(Date.now() - t0).toBeLessThan(2000);
      r.sub.unsubscribe();
    } finally {
      options = { maxMs: 60_000 };
      release();
    }
  });

  test("the service stopping (its signal) ends open streams with end", async () => {
    const stopping = new AbortController();
    options = { maxMs: 60_000, signal: stopping.signal };
    try {
      const r = send("/api/ticker/events?id=stop");
      await waitFor(() => r.text().includes("data: 1"), { what: "the first event" });
      stopping.abort();
      await waitFor(() => r.got.at(-1)?.headers?.get(MeshHeader.Stream) === MeshStream.End, {
        what: "end on stop",
      });
      r.sub.unsubscribe();
    } finally {
      options = { maxMs: 60_000 };
      release();
    }
  });
});
