import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsConnection, headers as natsHeaders } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { MeshError } from "../errors/index.ts";
import { silentLogger } from "../log/logger.ts";
import { ANNOUNCE_SUBJECT, type Announcement, HttpHeader, httpSubject } from "../protocol/index.ts";
import { createRpcClient } from "../rpc/index.ts";
import { fixtureRpc, fixtureService } from "../testing/fixture/service.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { type RunningService, startService } from "./index.ts";

let nats: NatsServer;
let nc: NatsConnection;
let dataDir: string;
let svc: RunningService<Record<string, unknown>>;

const env = () => ({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: "silent" });

async function httpOverNats(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
) {
  const h = natsHeaders();
  h.set(HttpHeader.Method, method);
  h.set(HttpHeader.Path, path);
  for (const [k, v] of Object.entries(init.headers ?? {})) h.set(k, v);
  const reply = await nc.request(httpSubject("fixture"), init.body ?? "", { headers: h, timeout: 2000 });
  return {
    status: Number(reply.headers?.get(HttpHeader.Status)),
    contentType: reply.headers?.get("content-type") ?? "",
    json: () => reply.json<Record<string, unknown>>(),
    data: reply.data,
  };
}

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-kit-"));
  svc = (await startService(fixtureService(), { env: env(), logger: silentLogger })) as never;
});

afterAll(async () => {
  await svc?.stop();
  await nc?.close();
  await nats?.stop();
});

describe("registration", () => {
  test("answers $SRV.INFO with the http endpoint, prefix metadata and RPC endpoints", async () => {
    const infos = [];
    for await (const info of await new Svcm(nc).client().info("fixture")) infos.push(info);
    expect(infos).toHaveLength(1);
    const info = infos[0]!;
    expect(info.version).toBe("1.0.0");
    expect(info.metadata?.["http.prefix"]).toBe("/api/fixture");
    const http = info.endpoints.find((e) => e.name === "http");
    expect(http?.subject).toBe("svc.fixture.http");
    expect(info.endpoints.map((e) => e.subject)).toContain("svc.fixture.rpc.add");
  });

  test("announces start and stop on its own announce subject, mesh.announce.<name>", async () => {
    const seen: [string, Announcement][] = [];
    const sub = nc.subscribe(ANNOUNCE_SUBJECT, {
      callback: (_e, m) => {
        seen.push([m.subject, m.json<Announcement>()]);
      },
    });
    await nc.flush();
    const other = await startService(fixtureService("announcer"), { env: env(), logger: silentLogger });
    await other.stop();
    sub.unsubscribe();
    expect(seen.map(([subject, a]) => [subject, a.event, a.name, a.id])).toEqual([
      ["mesh.announce.announcer", "started", "announcer", other.instanceId],
      ["mesh.announce.announcer", "stopped", "announcer", other.instanceId],
    ]);
  });
});

describe("OpenAPI", () => {
  test("each service serves its document, and declares it public with its health route", async () => {
    const doc = (await (await httpOverNats("GET", "/api/fixture/openapi.json")).json()) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("fixture");
    expect(Object.keys(doc.paths)).toContain("/api/fixture/items");
    expect(svc.service.info().metadata?.["http.public"]).toBe(
      "GET /api/fixture/healthz,GET /api/fixture/openapi.json",
    );
  });
});

describe("HTTP over NATS", () => {
  test("health route", async () => {
    const r = await httpOverNats("GET", "/api/fixture/healthz");
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ status: "ok", service: "fixture" });
  });

  test("create and read with the caller from Mesh-User", async () => {
    const created = await httpOverNats("POST", "/api/fixture/items", {
      body: JSON.stringify({ name: "shoe", qty: 2 }),
      headers: { "content-type": "application/json", "Mesh-User": "alice" },
    });
    expect(created.status).toBe(201);
    const id = created.json().id;
    const read = await httpOverNats("GET", `/api/fixture/items/${id}`, { headers: { "Mesh-User": "alice" } });
    expect(read.json()).toMatchObject({ name: "shoe", qty: 2, owner: "alice" });
    const other = await httpOverNats("GET", `/api/fixture/items/${id}`, { headers: { "Mesh-User": "bob" } });
    expect(other.status).toBe(404);
  });

  test("raw bytes travel unchanged both ways", async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const h = natsHeaders();
    h.set(HttpHeader.Method, "POST");
    h.set(HttpHeader.Path, "/api/fixture/bytes");
    const reply = await nc.request(httpSubject("fixture"), bytes, { headers: h, timeout: 2000 });
    expect(reply.headers?.get("x-kind")).toBe("bytes");
    expect([...reply.data]).toEqual([...bytes]);
  });

  const bad: [string, string, Record<string, string>, string][] = [
    ["not JSON", "{", { "content-type": "application/json" }, "body"],
    ["missing field", JSON.stringify({ name: "x" }), { "content-type": "application/json" }, "body.qty"],
    [
      "wrong type",
      JSON.stringify({ name: "x", qty: "2" }),
      { "content-type": "application/json" },
      "body.qty",
    ],
    ["negative", JSON.stringify({ name: "x", qty: -1 }), { "content-type": "application/json" }, "body.qty"],
  ];
  for (const [label, body, headers, field] of bad) {
    test(`400 problem naming the field: ${label}`, async () => {
      const r = await httpOverNats("POST", "/api/fixture/items", {
        body,
        headers: { ...headers, "Mesh-User": "a" },
      });
      expect(r.status).toBe(400);
      expect(r.contentType).toBe("application/problem+json");
      const p = r.json();
      expect(p.status).toBe(400);
      expect(JSON.stringify(p)).toContain(field);
    });
  }

  test("401 problem without a caller; 404 problem for an unknown path", async () => {
    const noUser = await httpOverNats("POST", "/api/fixture/items", {
      body: JSON.stringify({ name: "x", qty: 1 }),
      headers: { "content-type": "application/json" },
    });
    expect(noUser.status).toBe(401);
    expect(noUser.contentType).toBe("application/problem+json");
    const missing = await httpOverNats("GET", "/api/fixture/nope");
    expect(missing.status).toBe(404);
    expect(missing.json().title).toBe("Not Found");
  });

  test("an exception is a 500 problem that leaks no internals", async () => {
    const r = await httpOverNats("GET", "/api/fixture/crash");
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.json())).not.toContain("boom");
  });

  test("a message without protocol headers gets a 400 problem", async () => {
    const reply = await nc.request(httpSubject("fixture"), "x", { timeout: 2000 });
    expect(reply.headers?.get(HttpHeader.Status)).toBe("400");
  });

  test("mesh context reaches the handler", async () => {
    const r = await httpOverNats("GET", "/api/fixture/echo?x=1", {
      headers: {
        "Mesh-Request-Id": "req-1",
        "Mesh-User": "u1",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
    });
    const body = r.json() as { mesh: Record<string, unknown>; url: string };
    expect(body.mesh).toMatchObject({ requestId: "req-1", user: "u1" });
    expect(body.url).toEndWith("/api/fixture/echo?x=1");
  });
});

describe("direct HTTP", () => {
  test("serves the same app and ignores mesh headers from outside", async () => {
    const health = await fetch(`${svc.url}/api/fixture/healthz`);
    expect(health.status).toBe(200);
    const spoofed = await fetch(`${svc.url}/api/fixture/items`, {
      method: "POST",
      headers: { "content-type": "application/json", "mesh-user": "mallory" },
      body: JSON.stringify({ name: "x", qty: 1 }),
    });
    expect(spoofed.status).toBe(401);
    expect(spoofed.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("RPC", () => {
  test("typed call round trip with mesh context", async () => {
    const client = createRpcClient(nc, fixtureRpc);
    expect(await client.add({ a: 2, b: 3 })).toEqual({ sum: 5 });
    expect(await client.whoami({}, { meta: { user: "bob", requestId: "r-9" } })).toEqual({
      user: "bob",
      requestId: "r-9",
    });
  });

  test("errors come back as the same MeshError", async () => {
    const client = createRpcClient(nc, fixtureRpc);
    const err = await client.fail({ status: 409 }).catch((e) => e);
    expect(err).toBeInstanceOf(MeshError);
    expect(err.status).toBe(409);
    expect(err.detail).toBe("failed with 409");
  });

  test("the server validates input too (a client without the contract)", async () => {
    const reply = await nc.request("svc.fixture.rpc.add", JSON.stringify({ a: "x" }), { timeout: 2000 });
    const err = MeshError.fromServiceReply(reply.headers, reply.data);
    expect(err?.status).toBe(400);
    expect(err?.errors?.map((e) => e.path)).toEqual(["input.a", "input.b"]);
  });

  test("the client validates before sending", async () => {
    const client = createRpcClient(nc, fixtureRpc);
    const err = await client.add({ a: 1 } as never).catch((e) => e);
    expect(err.status).toBe(400);
  });

  test("no responders is a 503, a spent deadline a 504", async () => {
    const client = createRpcClient(nc, { service: "ghost", methods: fixtureRpc.methods });
    const started = Date.now();
    expect((await client.add({ a: 1, b: 1 }).catch((e) => e)).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1000);
    const late = await createRpcClient(nc, fixtureRpc)
      .add({ a: 1, b: 1 }, { meta: { deadline: Date.now() - 1 } })
      .catch((e) => e);
    expect(late.status).toBe(504);
  });
});

describe("instances", () => {
  test("two instances share the load and one database file", async () => {
    const second = await startService(fixtureService(), { env: env(), logger: silentLogger });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await httpOverNats("POST", "/api/fixture/items", {
          body: JSON.stringify({ name: `n${i}`, qty: i }),
          headers: { "content-type": "application/json", "Mesh-User": "shared" },
        });
        expect(r.status).toBe(201);
        ids.push(r.json().id as number);
      }
      expect(new Set(ids).size).toBe(40);
      const stats = [];
      for await (const s of await new Svcm(nc).client().stats("fixture")) stats.push(s);
      expect(stats).toHaveLength(2);
      for (const s of stats) {
        const http = s.endpoints?.find((e) => e.name === "http");
        expect(http?.num_requests ?? 0).toBeGreaterThan(0);
      }
      // Each instance reads what the other wrote: one file.
      for (const id of ids.slice(-4)) {
        const r = await httpOverNats("GET", `/api/fixture/items/${id}`, {
          headers: { "Mesh-User": "shared" },
        });
        expect(r.status).toBe(200);
      }
    } finally {
      await second.stop();
    }
  });

  test("stop finishes in-flight requests before closing", async () => {
    const lone = await startService(fixtureService("lone"), { env: env(), logger: silentLogger });
    const h = natsHeaders();
    h.set(HttpHeader.Method, "GET");
    h.set(HttpHeader.Path, "/api/lone/slow?ms=300");
    const pending = nc.request(httpSubject("lone"), "", { headers: h, timeout: 3000 });
    await new Promise<void>((resolve) => {
      // Wait until the request is being handled (its stats counted) before stopping.
      const poll = async () =>
        (await lone.service.stats()).endpoints?.[0]?.num_requests ? resolve() : setTimeout(poll, 5);
      void poll();
    });
    await lone.stop();
    const reply = await pending;
    expect(reply.headers?.get(HttpHeader.Status)).toBe("200");
    expect(reply.json()).toEqual({ slept: 300 });
  });
});

describe("a start that fails part-way", () => {
  test("leaves nothing behind: no registered instance, no announcement, the store can be opened again", async () => {
    // Its HTTP port is taken: the failure comes after registration with $SRV.
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
    const announced: string[] = [];
    const sub = nc.subscribe(ANNOUNCE_SUBJECT, {
      callback: (_e, m) => {
        announced.push(m.json<Announcement>().name);
      },
    });
    try {
      const dir = mkdtempSync(join(tmpdir(), "runnerly-kit-failed-"));
      const failing = { ...env(), DATA_DIR: dir, PORT: String(taken.port) };
      await expect(
        startService(fixtureService("doomed"), { env: failing, logger: silentLogger }),
      ).rejects.toThrow();
      // Nobody answers for it: its $SRV subscriptions went with its connection.
      await expect(nc.request("$SRV.PING.doomed", "", { timeout: 2000 })).rejects.toThrow(/no responders/);
      await nc.flush();
      expect(announced).toEqual([]);
      // The store was closed: another start on the same file works.
      const again = await startService(fixtureService("doomed"), {
        env: { ...failing, PORT: "0" },
        logger: silentLogger,
      });
      await again.stop();
    } finally {
      sub.unsubscribe();
      await taken.stop(true);
    }
  });
});
