import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsServer } from "@runnerly/kit/testing";
import type { Edge, RouteStatus } from "./app.ts";
import { addHttpService, connect, recordingLogger, respondText, startEdge, waitFor } from "./test-utils.ts";

// Room for a loaded CI machine; every wait inside a test has its own, shorter bound.
setDefaultTimeout(15_000);

let nats: NatsServer;
let nc: NatsConnection;
let edge: Edge;

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
  edge = await startEdge({ nc, logger: recordingLogger(), limits: { maxBodyBytes: 16 * 1024 * 1024 } });
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
      instances: [{ id: expect.any(String), version: "1.0.0" }],
      publicRoutes: [],
      circuit: "closed",
    });
  });
});
