/**
 * Size limits: oversized bodies (declared, understated or chunked), header
 * blocks and URLs are refused with 413, 431 and 414 before a service sees
 * them. In process through `app.request`, and on a real socket with raw HTTP
 * bytes, where Bun's own parser also has a say.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect as tcpConnect } from "node:net";
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsServer } from "@runnerly/kit/testing";
import type { Server } from "bun";
import type { Edge } from "../../app.ts";
import {
  addHttpService,
  connect,
  recordingLogger,
  respondText,
  startEdge,
  waitFor,
} from "../../test-utils.ts";
import { ClientFault, readBody } from "./index.ts";

setDefaultTimeout(20_000);

const LIMITS = { maxBodyBytes: 64 * 1024, maxHeaderBytes: 8 * 1024, maxUrlBytes: 4 * 1024 };
let nats: NatsServer;
let nc: NatsConnection;
let edge: Edge;
let server: Server<undefined>;
const seen: number[] = []; // body sizes the service received
// Paths the service received: a late request from an earlier test must not count against a later one.
const seenPaths: string[] = [];

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false });
  nc = await connect(nats.url);
  await addHttpService(nc, {
    name: "sink",
    prefix: "/api/sink",
    handler(msg) {
      seen.push(msg.data.length);
      seenPaths.push(msg.headers?.get("Http-Path") ?? "");
      respondText(msg, 200, `got ${msg.data.length}`);
    },
  });
  edge = await startEdge({ nc, logger: recordingLogger(), limits: LIMITS });
  await waitFor(() => edge.routes.match("/api/sink"), { what: "sink discovered" });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: edge.app.fetch });
});

afterAll(async () => {
  await server?.stop(true);
  await edge?.close();
  await nc?.close();
  await nats?.stop();
});

/** A body stream of `total` bytes in 16 KiB chunks, with no length. */
function stream(total: number): ReadableStream<Uint8Array> {
  let left = total;
  return new ReadableStream({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(16 * 1024, left);
      left -= n;
      c.enqueue(new Uint8Array(n).fill(97));
    },
  });
}

/** Sends raw bytes to the edge and returns everything it answered until it closed (bounded). */
function raw(parts: (string | Uint8Array)[]): Promise<string> {
  return new Promise((resolve) => {
    const socket = tcpConnect(server.port ?? 0, "127.0.0.1");
    let out = "";
    const done = () => {
      clearTimeout(bound);
      socket.destroy();
      resolve(out);
    };
    const bound = setTimeout(done, 5000);
    socket.on("data", (d) => {
      out += d.toString("latin1");
    });
    socket.on("close", done);
    socket.on("error", () => {}); // the edge may close while we still write: that is the point
    socket.on("connect", () => {
      for (const p of parts) socket.write(p);
      socket.end();
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);

describe("in process", () => {
  test.each([
    [
      "a declared Content-Length over the limit",
      { "content-length": String(LIMITS.maxBodyBytes + 1) },
      LIMITS.maxBodyBytes + 1,
    ],
    ["a Content-Length that understates the body", { "content-length": "10" }, 4 * LIMITS.maxBodyBytes],
    ["a body with no length at all", {}, 4 * LIMITS.maxBodyBytes],
  ])("%s → 413, the service never called", async (_name, headers, size) => {
    const before = seen.length;
    const res = await edge.app.request("/api/sink/upload", {
      method: "POST",
      headers,
      body: stream(size),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ status: 413, title: "Content Too Large" });
    expect(seen.length).toBe(before);
  });

  test("431 for a header block over the limit; 414 for a long URL; the service never called", async () => {
    const before = seen.length;
    const big = await edge.app.request("/api/sink/x", {
      headers: { "x-big": "b".repeat(LIMITS.maxHeaderBytes) },
    });
    expect(big.status).toBe(431);
    const long = await edge.app.request(`/api/sink/${"u".repeat(LIMITS.maxUrlBytes)}`);
    expect(long.status).toBe(414);
    expect(long.headers.get("content-type")).toBe("application/problem+json");
    expect(seen.length).toBe(before);
  });

  test("a body at the limit goes through", async () => {
    const res = await edge.app.request("/api/sink/upload", {
      method: "POST",
      body: new Uint8Array(LIMITS.maxBodyBytes),
    });
    expect(await res.text()).toBe(`got ${LIMITS.maxBodyBytes}`);
  });

  test("readBody never holds more than the limit plus one chunk", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 1000;
        c.enqueue(new Uint8Array(1000));
      }, // endless
    });
    const req = new Request("http://edge/x", { method: "POST", body, duplex: "half" } as RequestInit);
    await expect(readBody(req, 10_000)).rejects.toMatchObject({ status: 413 });
    expect(pulled).toBeLessThanOrEqual(10_000 + 1000 + 1000); // plus what the stream queued ahead
  });
});

test("readBody takes a body of declared length whole, and still refuses one longer than the limit", async () => {
  const declared = (bytes: number, length: number) =>
    new Request("http://edge/x", {
      method: "POST",
      body: new Uint8Array(bytes).fill(7),
      headers: { "content-length": String(length) },
    });
  expect(await readBody(declared(64, 64), 100)).toEqual(new Uint8Array(64).fill(7));
  // A length header that does not match the body (only a Request made in code can have one).
  await expect(readBody(declared(200, 50), 100)).rejects.toMatchObject({ status: 413 });
});

describe("readBody and a client that does not finish its body", () => {
  /** A body that sends one chunk, then nothing (or fails, as a stream does when its connection ends). */
  const halfBody = (fail: boolean) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"a":1'));
        if (fail) c.error(new DOMException("The connection was closed.", "AbortError"));
      },
    });
  const request = (body: ReadableStream<Uint8Array>, headers: Record<string, string>) =>
    new Request("http://edge/x", { method: "POST", body, headers, duplex: "half" } as RequestInit);

  test.each([
    ["with a declared length", { "content-length": "100" }],
    ["chunked", {}],
  ])("%s: a 408 ClientFault once the body timeout passes", async (_name, headers) => {
    const started = performance.now();
    const err = await readBody(request(halfBody(false), headers), 10_000, 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientFault);
    expect(err).toMatchObject({ status: 408, reason: "body-timeout", headers: { connection: "close" } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  test("whose connection ends: a 499 ClientFault, not an error of the edge", async () => {
    const err = await readBody(request(halfBody(true), {}), 10_000, 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientFault);
    expect(err).toMatchObject({ status: 499, reason: "closed" });
  });
});

describe("on a real socket", () => {
  const head = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;

  test("declared and chunked bodies over the limit → 413 problem; the service never called", async () => {
    const before = seen.length;
    const declared = await raw([
      head(["POST /api/sink/up HTTP/1.1", "Host: edge", `Content-Length: ${4 * LIMITS.maxBodyBytes}`]),
      new Uint8Array(4 * LIMITS.maxBodyBytes),
    ]);
    expect(statusOf(declared)).toBe(413);
    expect(declared).toContain("application/problem+json");

    const chunk = `4000\r\n${"a".repeat(0x4000)}\r\n`;
    const chunked = await raw([
      head(["POST /api/sink/up HTTP/1.1", "Host: edge", "Transfer-Encoding: chunked"]),
      ...Array.from({ length: 16 }, () => chunk), // 256 KiB, four times the limit
      "0\r\n\r\n",
    ]);
    expect(statusOf(chunked)).toBe(413);
    expect(seen.length).toBe(before);
  });

  test("a Content-Length that understates the body: HTTP framing ends the body there, and the rest is refused", async () => {
    const before = seen.length;
    const answer = await raw([
      head(["POST /api/sink/up HTTP/1.1", "Host: edge", "Content-Length: 10"]),
      "a".repeat(4 * LIMITS.maxBodyBytes),
    ]);
    // The request is the 10 bytes its length announced; the surplus is not a body but a
    // malformed next request, which Bun refuses (431: its line never ends) and closes on,
    // sometimes before the first answer is written. No byte of the surplus reaches a service.
    expect(seen.slice(before).every((n) => n === 10)).toBe(true);
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses.some((s) => s >= 400 && s < 500)).toBe(true);
    expect(statuses.every((s) => s === 200 || (s >= 400 && s < 500))).toBe(true);
  });

  test("headers over the edge's limit → its 431 problem; far over Bun's own → Bun's 431; the service never called", async () => {
    const before = seen.length;
    const ours = await raw([
      head(["GET /api/sink/x HTTP/1.1", "Host: edge", `X-Big: ${"b".repeat(10_000)}`]),
    ]);
    expect(statusOf(ours)).toBe(431);
    expect(ours).toContain("application/problem+json");
    const buns = await raw([
      head(["GET /api/sink/x HTTP/1.1", "Host: edge", `X-Big: ${"b".repeat(100_000)}`]),
    ]);
    expect(statusOf(buns)).toBe(431);
    // By path: the previous test's 10-byte request may still be on its way to the service.
    expect(seenPaths.slice(before)).not.toContain("/api/sink/x");
  });

  test("a URL over the limit → 414 problem; the service never called", async () => {
    const before = seen.length;
    const path = `/api/sink/${"u".repeat(6000)}`;
    const answer = await raw([head([`GET ${path} HTTP/1.1`, "Host: edge"])]);
    expect(statusOf(answer)).toBe(414);
    expect(seenPaths.slice(before)).not.toContain(path);
  });
});
