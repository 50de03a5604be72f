import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsServer } from "@runnerly/kit/testing";
import type { Edge, RouteStatus } from "../app.ts";
import { addHttpService, connect, recordingLogger, respondText, startEdge, waitFor } from "../test-utils.ts";

// Room for a loaded CI machine; every wait inside a test has its own, shorter bound.
setDefaultTimeout(15_000);

let nats: NatsServer;
let nc: NatsConnection;
let edge: Edge;
const logger = recordingLogger();

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false });
  nc = await connect(nats.url);
  for (const [name, prefix] of [
    ["alpha", "/api/a"],
    ["alphabeta", "/api/a/b"],
  ] as const) {
    await addHttpService(nc, {
      name,
      prefix,
      handler: (msg) => respondText(msg, 200, `${name} ${msg.headers?.get("Http-Path")}`),
    });
  }
  // A body limit above the server's max_payload (8 MB), so the mesh's own limit shows.
  edge = await startEdge({
    nc,
    logger,
    limits: { maxBodyBytes: 16 * 1024 * 1024 },
    claims: { mode: "own", grants: { alpha: ["/api/a"], alphabeta: ["/api/a/b"] } },
  });
});

afterAll(async () => {
  await edge?.close();
  await nc?.close();
  await nats?.stop();
});

describe("routing", () => {
  test.each([
    ["/api/a", "alpha"],
    ["/api/a/", "alpha"],
    ["/api/a/runs/1?x=y", "alpha"],
    ["/api/a/bx", "alpha"],
    ["/api/a/b", "alphabeta"],
    ["/api/a/b/c?d=1", "alphabeta"],
  ])("%s goes to %s (longest matching prefix)", async (path, service) => {
    await waitFor(() => edge.routes.list().length === 2, { what: "both routes" });
    const res = await edge.app.request(path);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`${service} ${path}`);
  });

  test.each(["/api/ab", "/api", "/", "/nothing/here"])("%s → 404 problem naming the path", async (path) => {
    const res = await edge.app.request(path, { method: "POST", body: "x" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("Mesh-Request-Id")).toBeTruthy();
    expect(await res.json()).toEqual({
      type: "about:blank",
      title: "Not Found",
      status: 404,
      detail: `No service serves ${path}.`,
      instance: path,
    });
  });
});

describe("limits", () => {
  test("a body larger than the server's max_payload → 413 problem, not a 5xx", async () => {
    const res = await edge.app.request("/api/a/upload", {
      method: "POST",
      body: new Uint8Array(8 * 1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ status: 413, title: "Content Too Large" });
  });
});

describe("the edge's own routes", () => {
  test("GET /healthz", async () => {
    const res = await edge.app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("/_/ belongs to the edge: unknown paths there are 404, never proxied", async () => {
    const res = await edge.app.request("/_/admin");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ status: 404, instance: "/_/admin" });
  });

  test("GET /_/routes lists routes, longest prefix first, with instances and versions", async () => {
    await waitFor(() => edge.routes.list().length === 2, { what: "both routes" });
    const res = await edge.app.request("/_/routes");
    expect(res.status).toBe(200);
    const { routes } = (await res.json()) as { routes: RouteStatus[] };
    expect(routes.map((r) => r.prefix)).toEqual(["/api/a/b", "/api/a"]);
    expect(routes[0]).toEqual({
      prefix: "/api/a/b",
      service: "alphabeta",
      subject: "svc.alphabeta.http",
      instances: [{ id: expect.any(String), version: "1.0.0", subject: null, balance: null }],
      publicRoutes: [],
      levels: {},
      versions: [
        { major: 1, subject: null, instances: [{ id: expect.any(String), version: "1.0.0", subject: null }] },
      ],
      circuit: "closed",
    });
  });

  test("a service may claim only /api/<name> (and grants) on svc.<name>.http; other claims are not routed", async () => {
    const claims: [string, string, string | undefined, RegExp][] = [
      // Someone else's prefix: would receive the log-ins.
      ["mallory", "/api/accounts", undefined, /mallory may claim only \/api\/mallory/],
      // The whole site.
      ["mallet", "/", undefined, /mallet may claim only \/api\/mallet/],
      // Its own prefix on another service's subject.
      ["eve", "/api/eve", "svc.alpha.http", /must be on svc\.eve\.http, not svc\.alpha\.http/],
      // A prefix that only shares the letters.
      ["alpha", "/api/alphabet", undefined, /alpha may claim only \/api\/alpha or \/api\/a/],
    ];
    const added = [];
    for (const [name, prefix, subject] of claims) {
      added.push(
        await addHttpService(nc, { name, prefix, subject, handler: (msg) => respondText(msg, 200, name) }),
      );
    }
    const warned = (name: string) =>
      logger.entries.find((e) => e.msg === "not routable" && e.fields.service === name)?.fields.why;
    await waitFor(() => claims.every(([name]) => warned(name) !== undefined), {
      what: "every claim refused",
    });
    for (const [name, , , why] of claims) expect(String(warned(name))).toMatch(why);
    expect(
      edge.routes
        .list()
        .map((r) => r.service)
        .sort(),
    ).toEqual(["alpha", "alphabeta"]);
    const res = await edge.app.request("/api/accounts/login", { method: "POST" });
    expect(res.status).toBe(404);
    expect((await edge.app.request("/api/eve/x")).status).toBe(404);
    for (const s of added) await s.stop();
  });
});
