/**
 * A JSON body must be UTF-8: bytes that are not get a 400 problem naming the
 * body, over the `http` endpoint and over RPC, and nothing is stored; valid
 * multi-byte text is stored exactly. A real service (the kit's fixture) on a
 * real nats-server with its own SQLite file; the body is read once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsConnection, headers as natsHeaders } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { Hono } from "hono";
import { MeshError } from "../errors/index.ts";
import { silentLogger } from "../log/logger.ts";
import { HttpHeader, httpSubject, MeshHeader, rpcSubject } from "../protocol/index.ts";
import { fixtureService } from "../testing/fixture/service.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { type RunningService, startService } from "./index.ts";
import { isJsonContentType, strictJsonBody } from "./json-body.ts";

let nats: NatsServer;
let nc: NatsConnection;
let dataDir: string;
let svc: RunningService<Record<string, unknown>>;

// `{"name":"ab<0xff>","qty":1}`: a lone 0xff is never UTF-8; a lenient decoder makes it U+FFFD.
const INVALID = Uint8Array.from([
  ...new TextEncoder().encode('{"name":"ab'),
  0xff,
  ...new TextEncoder().encode('","qty":1}'),
]);
const MULTI_BYTE = "Zoë 跑步 🏃‍♀️ ok";

async function httpOverNats(
  method: string,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
) {
  const h = natsHeaders();
  h.set(HttpHeader.Method, method);
  h.set(HttpHeader.Path, path);
  h.set(MeshHeader.User, "alice");
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  const reply = await nc.request(httpSubject("fixture"), body, { headers: h, timeout: 5000 });
  return {
    status: Number(reply.headers?.get(HttpHeader.Status)),
    contentType: reply.headers?.get("content-type") ?? "",
    json: () => reply.json<Record<string, unknown>>(),
    data: reply.data,
  };
}

const count = async () => (await httpOverNats("GET", "/api/fixture/count", "", {})).json().count;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-json-body-"));
  svc = (await startService(fixtureService(), {
    env: { NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: "silent" },
    logger: silentLogger,
  })) as never;
});

afterAll(async () => {
  await svc?.stop();
  await nc?.close();
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a JSON body that is not UTF-8", () => {
  test.each([
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/merge-patch+json",
  ])("sent as %s: a 400 problem naming the body, and nothing stored", async (contentType) => {
    const before = await count();
    const r = await httpOverNats("POST", "/api/fixture/items", INVALID, { "content-type": contentType });
    expect(r.status).toBe(400);
    expect(r.contentType).toBe("application/problem+json");
    expect(r.json()).toMatchObject({
      status: 400,
      detail: "body: not valid UTF-8 (a JSON body must be UTF-8)",
      errors: [{ path: "body", message: "not valid UTF-8 (a JSON body must be UTF-8)" }],
    });
    expect(await count()).toBe(before);
  });

  test("over RPC: a 400 naming the input, where a lenient decoder would have let the call through", async () => {
    // Valid JSON but for one byte inside a string the method ignores: read leniently, it would add 1 and 2.
    const input = Uint8Array.from([...new TextEncoder().encode('{"a":1,"b":2,"note":"'), 0xff, 0x22, 0x7d]);
    const reply = await nc.request(rpcSubject("fixture", "add"), input, { timeout: 5000 });
    const err = MeshError.fromServiceReply(reply.headers, reply.data);
    expect(err?.status).toBe(400);
    expect(err?.detail).toBe("input: not valid UTF-8 (a JSON body must be UTF-8)");
  });
});

describe("bodies that pass", () => {
  test("valid multi-byte UTF-8 is stored exactly and read back the same", async () => {
    const body = JSON.stringify({ name: MULTI_BYTE, qty: 3 });
    const created = await httpOverNats("POST", "/api/fixture/items", body, {
      "content-type": "application/json",
    });
    expect(created.status).toBe(201);
    const id = created.json().id;
    const read = await httpOverNats("GET", `/api/fixture/items/${id}`, "", {});
    expect(read.json()).toMatchObject({ name: MULTI_BYTE, qty: 3 });
    expect(new TextDecoder().decode(read.data)).toContain(MULTI_BYTE);
  });

  test("a body that is not JSON is not judged: its bytes reach the handler as sent", async () => {
    const r = await httpOverNats("POST", "/api/fixture/bytes", INVALID, {
      "content-type": "application/octet-stream",
    });
    expect(r.status).toBe(200);
    expect(r.data).toEqual(INVALID);
  });
});

describe("strictJsonBody", () => {
  test("names JSON media types only", () => {
    for (const t of ["application/json", "application/problem+json", "application/json;charset=UTF-8"])
      expect([t, isJsonContentType(t)]).toEqual([t, true]);
    for (const t of [
      "text/json-ish",
      "application/jsonp",
      "application/x-ndjson",
      "text/plain",
      "",
      undefined,
    ])
      expect([t, isJsonContentType(t)]).toEqual([t, false]);
  });

  test("reads the body once: the handler's json(), text() and arrayBuffer() all come from that one read", async () => {
    const app = new Hono();
    app.use("*", strictJsonBody());
    app.post("/x", async (c) => {
      const json = await c.req.json();
      const text = await c.req.text();
      const bytes = await c.req.arrayBuffer();
      return c.json({ json, text, bytes: bytes.byteLength });
    });
    const sent = new TextEncoder().encode(JSON.stringify({ name: MULTI_BYTE }));
    let pulls = 0;
    let pulledBytes = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulls++;
        if (pulledBytes > 0) return c.close();
        pulledBytes += sent.byteLength;
        c.enqueue(sent);
      },
    });
    const req = new Request("http://svc/x", {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
      duplex: "half",
    } as RequestInit);
    const res = await app.request(req);
    expect(await res.json()).toEqual({
      json: { name: MULTI_BYTE },
      text: JSON.stringify({ name: MULTI_BYTE }),
      bytes: sent.byteLength,
    });
    // One pass over the stream: its bytes once, and the pull that found its end.
    expect({ pulledBytes, pulls }).toEqual({ pulledBytes: sent.byteLength, pulls: 2 });
  });
});
