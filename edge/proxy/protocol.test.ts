/**
 * THE PROTOCOL TEST. A "foreign" service joins the mesh the way a Go or Python
 * team would, from docs/protocol.md alone: plain @nats-io/services (ADR-32), no
 * kit code, header names spelled out by hand. If this test needs a change, the
 * protocol changed, and docs/protocol.md must change with it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type NatsConnection, headers as natsHeaders } from "@nats-io/nats-core";
import { type Service, type ServiceMsg, Svcm } from "@nats-io/services";
import { NatsServer } from "@runnerly/kit/testing";
import type { Edge } from "../app.ts";
import { connect, recordingLogger, startEdge, waitFor } from "../test-utils.ts";
import { replyMargin } from "./resilience/deadline.ts";

// Room for a loaded CI machine; every wait inside a test has its own, shorter bound.
setDefaultTimeout(15_000);

type Received = { subject: string; headers: Record<string, string[]>; body: Uint8Array };

const TIMEOUT_MS = 5000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const received: Received[] = [];
let nats: NatsServer;
let foreignNc: NatsConnection;
let edgeNc: NatsConnection;
let foreign: Service;
let edge: Edge;

/** The foreign service's `http` endpoint: records what it got, then answers by path. */
function handleHttp(err: Error | null, msg: ServiceMsg): void {
  if (err) return;
  const headers: Record<string, string[]> = {};
  for (const [name, values] of msg.headers ?? []) headers[name] = values;
  received.push({ subject: msg.subject, headers, body: msg.data.slice() });
  const path = msg.headers?.get("Http-Path") ?? "";
  const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

  if (path.startsWith("/api/foreign/conflict")) {
    const problem = {
      type: "https://foreign.example/problems/duplicate-run",
      title: "Conflict",
      status: 409,
      detail: "run 7 already exists",
      runId: 7,
    };
    msg.respondError(409, "conflict", encode(problem));
  } else if (path.startsWith("/api/foreign/bare-error")) {
    msg.respondError(422, "distance must be positive");
  } else if (path.startsWith("/api/foreign/crash")) {
    msg.respondError(500, "Traceback (most recent call last): secret internals");
  } else if (path.startsWith("/api/foreign/nothing")) {
    const h = natsHeaders();
    h.set("Http-Status", "204");
    msg.respond(new Uint8Array(0), { headers: h });
  } else {
    const h = natsHeaders();
    h.set("Http-Status", "201");
    h.set("Content-Type", "application/octet-stream");
    h.set("X-Foreign", "yes");
    h.append("Set-Cookie", "a=1; Path=/");
    h.append("Set-Cookie", "b=2; Path=/");
    // Reserved families are the mesh's, in replies too: this must not reach the client.
    h.set("Mesh-Request-Id", "set-by-the-service");
    msg.respond(msg.data, { headers: h });
  }
}

beforeAll(async () => {
  nats = await NatsServer.start();
  foreignNc = await connect(nats.url, "foreign");
  foreign = await new Svcm(foreignNc).add({
    name: "foreign",
    version: "2.3.4",
    description: "a service that knows nothing of the kit",
    metadata: { "http.prefix": "/api/foreign" },
  });
  foreign.addEndpoint("http", { subject: "svc.foreign.http", handler: handleHttp });
  await foreignNc.flush();
  edgeNc = await connect(nats.url, "edge");
  edge = await startEdge({ nc: edgeNc, logger: recordingLogger(), requestTimeoutMs: TIMEOUT_MS });
});

afterAll(async () => {
  await edge?.close();
  await foreign?.stop();
  await foreignNc?.close();
  await edgeNc?.close();
  await nats?.stop();
});

/** Sends a request through the edge and returns the response with what the service received. */
async function call(path: string, init: RequestInit = {}) {
  const before = received.length;
  const res = await edge.app.request(path, init);
  const got = received[before];
  return { res, got, only: received.length === before + 1 };
}

describe("a foreign ADR-32 service behind the edge", () => {
  test("is discovered from its $SRV.INFO: http endpoint, http.prefix, name, id, version", async () => {
    const route = await waitFor(() => edge.routes.match("/api/foreign"), { what: "route /api/foreign" });
    expect(route).toEqual({
      prefix: "/api/foreign",
      service: "foreign",
      subject: "svc.foreign.http",
      // A foreign service: no instance subject (NATS picks among its instances), and
      // without an http-v2 endpoint its major is known, not addressable on its own.
      instances: [{ id: foreign.info().id, version: "2.3.4", subject: null }],
      publicRoutes: [],
      levels: {},
      versions: [
        { major: 2, subject: null, instances: [{ id: foreign.info().id, version: "2.3.4", subject: null }] },
      ],
    });
    const listed = (await (await edge.app.request("/_/routes")).json()) as { routes: unknown[] };
    const instances = route.instances.map((i) => ({ ...i, balance: null }));
    expect(listed.routes).toContainEqual({ ...route, instances, circuit: "closed" });
  });

  test("GET: method, path with query, client headers, request id, deadline and trace context", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const sent = Date.now();
    const { res, got, only } = await call("/api/foreign/runs?limit=5&q=a%20b", {
      headers: {
        accept: "application/json",
        "x-custom": "kept",
        "x-forwarded-for": "203.0.113.9",
        forwarded: "for=203.0.113.9",
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        tracestate: "congo=t61rcWkgMzE",
      },
    });
    expect(res.status).toBe(201);
    expect(only).toBe(true);
    if (!got) throw new Error("the service received nothing");
    expect(got.subject).toBe("svc.foreign.http");
    expect(got.headers["Http-Method"]).toEqual(["GET"]);
    expect(got.headers["Http-Path"]).toEqual(["/api/foreign/runs?limit=5&q=a%20b"]);
    expect(got.headers["x-custom"]).toEqual(["kept"]);
    expect(got.headers.accept).toEqual(["application/json"]);
    // A client's forwarding headers never arrive; with no peer address known, neither does Mesh-Client-Address.
    expect(Object.keys(got.headers)).not.toContain("x-forwarded-for");
    expect(Object.keys(got.headers)).not.toContain("forwarded");
    expect(Object.keys(got.headers)).not.toContain("Mesh-Client-Address");
    const [requestId] = got.headers["Mesh-Request-Id"] ?? [];
    expect(requestId).toMatch(UUID);
    expect(res.headers.get("Mesh-Request-Id")).toBe(requestId!);
    // A GET may be retried, so its first try carries a deadline of its own, a third of the time left
    // (less the margin its answer needs to come back).
    const deadline = Number(got.headers["Mesh-Deadline"]?.[0]);
    expect(deadline).toBeGreaterThanOrEqual(sent + TIMEOUT_MS / 3 - replyMargin(TIMEOUT_MS / 3) - 1);
    expect(deadline).toBeLessThanOrEqual(Date.now() + TIMEOUT_MS);
    const [traceparent] = got.headers.traceparent ?? [];
    expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(traceparent).not.toContain("00f067aa0ba902b7");
    expect(got.headers.tracestate).toEqual(["congo=t61rcWkgMzE"]);
    expect(got.body.length).toBe(0);
  });

  test("a header the client repeated arrives once, its values joined with a comma", async () => {
    const headers = new Headers();
    headers.append("x-multi", "a");
    headers.append("x-multi", "b");
    const { got } = await call("/api/foreign/multi", { headers });
    expect(got?.headers["x-multi"]).toEqual(["a, b"]);
  });

  test("a request without traceparent starts a new trace; every request gets its own id", async () => {
    const first = await call("/api/foreign/a");
    const second = await call("/api/foreign/b", { headers: { traceparent: "not-a-traceparent" } });
    for (const { got } of [first, second]) {
      expect(got?.headers.traceparent?.[0]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    expect(first.got?.headers["Mesh-Request-Id"]).not.toEqual(second.got?.headers["Mesh-Request-Id"]);
  });

  test("POST: the body travels as raw bytes, byte-exact both ways; the reply's status and headers come back", async () => {
    const body = new Uint8Array(70_000).map((_, i) => (i * 7 + (i >> 8)) & 0xff); // every byte value, not UTF-8
    const sent = Date.now();
    const { res, got } = await call("/api/foreign/uploads", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
    expect(got?.headers["Http-Method"]).toEqual(["POST"]);
    expect(got?.headers["content-type"]).toEqual(["application/octet-stream"]);
    expect(got?.body).toEqual(body);
    // A POST without Idempotency-Key is never retried once sent: its one try has the whole deadline
    // (less the margin its answer needs to come back).
    expect(Number(got?.headers["Mesh-Deadline"]?.[0])).toBeGreaterThanOrEqual(
      sent + TIMEOUT_MS - replyMargin(TIMEOUT_MS),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("x-foreign")).toBe("yes");
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(res.headers.get("Mesh-Request-Id")).toBe(got?.headers["Mesh-Request-Id"]?.[0] ?? "missing");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(body);
  });

  test("client headers in the Http-*, Mesh-*, Nats-* families and hop-by-hop headers never reach the service", async () => {
    const { got } = await call("/api/foreign/runs", {
      headers: {
        "Mesh-User": "evil",
        "Mesh-Request-Id": "forged",
        "Mesh-Deadline": "1",
        "Mesh-Anything": "x",
        "Http-Method": "DELETE",
        "Http-Path": "/admin",
        "Http-Status": "200",
        "Nats-Msg-Id": "abc",
        "Nats-Service-Error-Code": "500",
        Connection: "keep-alive, x-hop",
        "Keep-Alive": "timeout=5",
        TE: "trailers",
        Upgrade: "websocket",
        "x-custom": "kept",
      },
    });
    if (!got) throw new Error("the service received nothing");
    const names = Object.keys(got.headers).map((n) => n.toLowerCase());
    const reserved = names.filter((n) => /^(http|mesh|nats)-/.test(n)).sort();
    expect(reserved).toEqual(["http-method", "http-path", "mesh-deadline", "mesh-request-id"]);
    expect(got.headers["Http-Method"]).toEqual(["GET"]);
    expect(got.headers["Http-Path"]).toEqual(["/api/foreign/runs"]);
    expect(got.headers["Mesh-Request-Id"]?.[0]).toMatch(UUID);
    expect(Number(got.headers["Mesh-Deadline"]?.[0])).toBeGreaterThan(Date.now());
    for (const hop of ["connection", "keep-alive", "te", "upgrade", "host", "content-length"]) {
      expect(names).not.toContain(hop);
    }
    expect(got.headers["x-custom"]).toEqual(["kept"]);
  });

  test("an ADR-32 service error with a problem body becomes that status, as problem+json", async () => {
    const { res } = await call("/api/foreign/conflict", { method: "POST", body: "{}" });
    expect(res.status).toBe(409);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("Mesh-Request-Id")).toMatch(UUID);
    expect(await res.json()).toEqual({
      type: "https://foreign.example/problems/duplicate-run",
      title: "Conflict",
      status: 409,
      detail: "run 7 already exists",
      runId: 7,
      instance: "/api/foreign/conflict",
    });
  });

  test("an ADR-32 service error without a body becomes a problem with its description", async () => {
    const { res } = await call("/api/foreign/bare-error");
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ status: 422, detail: "distance must be positive" });
  });

  test("a bare 5xx service error keeps its status but not the service's internals", async () => {
    const { res } = await call("/api/foreign/crash");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: 500, detail: "Service foreign failed." });
    expect(text).not.toContain("Traceback");
  });

  test("Http-Status 204 gives a response without a body", async () => {
    const { res } = await call("/api/foreign/nothing", { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
  });
});
