import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { service as runsService } from "../../services/runs/service.ts";
import { service as statsService } from "../../services/stats/service.ts";
import { createEdge, type Edge } from "../app.ts";
import { assetPath, DOCS_CSP } from "./docs/index.ts";
import { mergeDocuments } from "./openapi.ts";

setDefaultTimeout(30_000);

type Doc = {
  paths: Record<string, Record<string, { tags: string[]; security?: unknown }>>;
  components: { schemas: Record<string, unknown> };
};

describe("mergeDocuments", () => {
  const route = (
    service: string,
    prefix: string,
    publicRoutes: { method: string; pattern: string[] }[] = [],
  ) => ({
    prefix,
    service,
    subject: `svc.${service}.http`,
    instances: [{ id: "i", version: "1.0.0", subject: null }],
    publicRoutes,
    levels: {},
    versions: [],
  });
  const doc = (prefix: string) => ({
    paths: {
      [`${prefix}/users/{id}`]: { get: { responses: { 200: { $ref: "#/components/schemas/User" } } } },
      "/elsewhere": { get: {} },
    },
    components: { schemas: { User: { type: "object" } } },
  });

  test("namespaces schemas, tags operations, marks non-public ones as needing a token, keeps each service to its prefix", () => {
    const merged = mergeDocuments(
      [
        {
          route: route("a", "/api/a", [{ method: "GET", pattern: ["api", "a", "users", "*"] }]),
          doc: doc("/api/a"),
        },
        { route: route("b", "/api/b"), doc: doc("/api/b") },
      ],
      { title: "t", version: "1" },
      true,
    ) as unknown as Doc;
    expect(Object.keys(merged.paths).sort()).toEqual(["/api/a/users/{id}", "/api/b/users/{id}"]);
    expect(Object.keys(merged.components.schemas).sort()).toEqual(["a_User", "b_User"]);
    expect(JSON.stringify(merged.paths["/api/b/users/{id}"])).toContain("#/components/schemas/b_User");
    expect(merged.paths["/api/a/users/{id}"]!.get!.security).toBeUndefined();
    expect(merged.paths["/api/b/users/{id}"]!.get!.security).toEqual([{ bearer: [] }]);
    expect(merged.paths["/api/b/users/{id}"]!.get!.tags).toEqual(["b"]);
  });
});

describe("/openapi.json", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let edge: Edge;
  let runs: RunningService<Record<string, unknown>>;
  let stats: RunningService<Record<string, unknown>> | null;
  const env = (p: string) => ({
    NATS_URL: nats.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), p)),
    LOG_LEVEL: "silent",
  });
  const paths = async () =>
    Object.keys(((await (await edge.app.request("/openapi.json")).json()) as Doc).paths).sort();

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
    runs = (await startService(runsService, { env: env("oa-runs-"), logger: silentLogger })) as never;
    stats = (await startService(statsService, { env: env("oa-stats-"), logger: silentLogger })) as never;
    edge = createEdge({ nc, logger: silentLogger });
    await edge.ready;
  });
  afterAll(async () => {
    await edge?.close();
    await stats?.stop();
    await runs?.stop();
    await nc?.close();
    await nats?.stop();
  });

  test("lists every route of every running service, and follows services stopping and starting", async () => {
    const runsPaths = [
      "/api/runs/runs",
      "/api/runs/runs/import",
      "/api/runs/runs/{id}",
      "/api/runs/runs/{id}/gpx",
    ];
    const statsPaths = [
      "/api/stats/bests",
      "/api/stats/monthly",
      "/api/stats/reports",
      "/api/stats/reports/{id}",
      "/api/stats/summary",
      "/api/stats/trend",
      "/api/stats/weekly",
    ];
    await waitFor(async () => (await paths()).length === runsPaths.length + statsPaths.length, {
      what: "both services' routes",
    });
    expect(await paths()).toEqual([...runsPaths, ...statsPaths].sort());

    await stats!.stop();
    stats = null;
    await waitFor(async () => (await paths()).every((p) => p.startsWith("/api/runs")), {
      what: "stats' routes to go",
    });
    expect(await paths()).toEqual(runsPaths);

    stats = (await startService(statsService, { env: env("oa-stats2-"), logger: silentLogger })) as never;
    await waitFor(async () => (await paths()).includes("/api/stats/summary"), { what: "stats' routes back" });
  });

  test("interactive docs at /docs: the edge's own Swagger UI on the merged document, its policy kept", async () => {
    const res = await edge.app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(DOCS_CSP);
    const html = await res.text();
    expect(html).toContain('href="/openapi.json"');
    const script = assetPath("swagger-ui-bundle.js");
    expect(html).toContain(script);
    const bundle = await edge.app.request(script, { headers: { "accept-encoding": "gzip" } });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(bundle.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
