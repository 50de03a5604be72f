/**
 * The routing cases every runtime's edge must pass, over real HTTP sockets:
 * one table, run unchanged against Bun, Deno and workerd by
 * runtimes.test.ts. A case gets the edge's base URL and the mesh behind it.
 */
import { expect } from "bun:test";
import { gunzipSync } from "node:zlib";
import { waitFor } from "@runnerly/kit/testing";
import { DOCS_ASSETS } from "../ops/docs/assets.gen.ts";
import { assetPath } from "../ops/docs/page.ts";
import { ALL_BYTES, type Mesh, PEER_HEADER, type Received } from "./mesh.ts";

export type CaseContext = {
  /** `http://127.0.0.1:<port>` of the edge under test. */
  base: string;
  mesh: Mesh;
  /** Lower-case runtime name, unique per edge; cases use it to name what they create. */
  runtime: string;
};

export type RoutingCase = { name: string; run(ctx: CaseContext): Promise<void> };

/** Sends a request tagged with a fresh `x-case-id`; returns the response and what the service received. */
async function call(ctx: CaseContext, path: string, init: RequestInit = {}) {
  const caseId = crypto.randomUUID();
  const headers = new Headers(init.headers);
  headers.set("x-case-id", caseId);
  const res = await fetch(`${ctx.base}${path}`, { ...init, headers });
  const body = new Uint8Array(await res.arrayBuffer());
  return { res, body, got: (): Received | undefined => ctx.mesh.received(caseId) };
}

async function expectProblem(
  res: Response,
  body: Uint8Array,
  status: number,
): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const problem = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
  expect(problem.status).toBe(status);
  return problem;
}

export const routingCases: RoutingCase[] = [
  {
    name: "/docs: the page and Swagger UI's bundle come from the edge itself, gzip or unpacked, the same bytes",
    async run(ctx) {
      const page = await fetch(`${ctx.base}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      const html = await page.text();
      const bundle = assetPath("swagger-ui-bundle.js");
      expect(html).toContain(bundle);
      expect(html).toContain("/openapi.json");
      // fetch unpacks a gzip body itself, so what the client reads must be the bundle either way.
      const packed = await fetch(`${ctx.base}${bundle}`, { headers: { "accept-encoding": "gzip" } });
      const plain = await fetch(`${ctx.base}${bundle}`, { headers: { "accept-encoding": "identity" } });
      expect([packed.status, plain.status]).toEqual([200, 200]);
      expect(packed.headers.get("cache-control")).toContain("immutable");
      const expected = new Uint8Array(
        gunzipSync(Buffer.from(DOCS_ASSETS["swagger-ui-bundle.js"].gzip, "base64")),
      );
      expect(new Uint8Array(await packed.arrayBuffer())).toEqual(expected);
      expect(new Uint8Array(await plain.arrayBuffer())).toEqual(expected);
    },
  },
  {
    name: "discovers a foreign ADR-32 service: prefix, subject, instance id and version",
    async run(ctx) {
      const res = await fetch(`${ctx.base}/_/routes`);
      const { routes } = (await res.json()) as { routes: { prefix: string }[] };
      // toMatchObject: the route table may carry more per route (circuit state…) than routing needs.
      expect(routes.find((r) => r.prefix === "/api/foreign")).toMatchObject({
        service: "foreign",
        subject: "svc.foreign.http",
        instances: [{ id: ctx.mesh.foreignId, version: "2.3.4" }],
      });
    },
  },
  {
    name: "GET: the service gets method and path with query; the client gets its body byte for byte",
    async run(ctx) {
      const { res, body, got } = await call(ctx, "/api/foreign/bytes?x=1&q=a%20b");
      expect(res.status).toBe(200);
      expect(body).toEqual(ALL_BYTES);
      expect(got()?.headers["Http-Method"]).toEqual(["GET"]);
      expect(got()?.headers["Http-Path"]).toEqual(["/api/foreign/bytes?x=1&q=a%20b"]);
      expect(got()?.body.length).toBe(0);
    },
  },
  {
    name: "POST: the body reaches the service and comes back byte for byte",
    async run(ctx) {
      const sent = new Uint8Array(64 * 1024).map((_, i) => ALL_BYTES[i % ALL_BYTES.length]!);
      const { res, body, got } = await call(ctx, "/api/foreign/echo", { method: "POST", body: sent });
      expect(res.status).toBe(200);
      expect(got()?.headers["Http-Method"]).toEqual(["POST"]);
      expect(got()?.body).toEqual(sent);
      expect(body).toEqual(sent);
    },
  },
  {
    name: "reserved headers a client sends (Mesh-User, Http-Method, Nats-Msg-Id) never reach the service",
    async run(ctx) {
      const { res, got } = await call(ctx, "/api/foreign/echo", {
        method: "POST",
        body: "x",
        headers: {
          "Mesh-User": "mallory",
          "Http-Method": "DELETE",
          "Nats-Msg-Id": "forged",
          "x-kept": "yes",
        },
      });
      expect(res.status).toBe(200);
      const headers = got()?.headers ?? {};
      const names = Object.keys(headers).map((n) => n.toLowerCase());
      expect(names).not.toContain("mesh-user");
      expect(names).not.toContain("nats-msg-id");
      expect(headers["Http-Method"]).toEqual(["POST"]);
      expect(headers["x-kept"]).toEqual(["yes"]);
      expect(headers["Mesh-Request-Id"]).toEqual([res.headers.get("Mesh-Request-Id")!]);
    },
  },
  {
    name: "forwarding headers a client writes never reach the service; Mesh-Client-Address names the client",
    async run(ctx) {
      const { res, got } = await call(ctx, "/api/foreign/echo", {
        method: "POST",
        body: "x",
        headers: {
          [PEER_HEADER]: "198.51.100.77",
          "X-Forwarded-For": "203.0.113.66",
          Forwarded: "for=203.0.113.66",
          "X-Forwarded-Host": "evil.example",
          "X-Forwarded-Proto": "https",
          "X-Real-IP": "203.0.113.66",
          "Mesh-Client-Address": "203.0.113.66",
        },
      });
      expect(res.status).toBe(200);
      const headers = got()?.headers ?? {};
      const names = Object.keys(headers).map((n) => n.toLowerCase());
      for (const name of [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
      ])
        expect(names).not.toContain(name);
      // Bun and Deno know the TCP peer; workerd is told by the platform's header (EDGE_PEER_HEADER).
      const expected = ctx.runtime === "workerd" ? "198.51.100.77" : "127.0.0.1";
      expect(headers["Mesh-Client-Address"]).toEqual([expected]);
    },
  },
  {
    name: "a client's traceparent is continued: its trace id and tracestate reach the service under a new span id",
    async run(ctx) {
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const { res, got } = await call(ctx, "/api/foreign/echo", {
        method: "POST",
        body: "x",
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: "congo=t61rcWkgMzE" },
      });
      expect(res.status).toBe(200);
      const header = (name: string) =>
        Object.entries(got()?.headers ?? {}).find(([n]) => n.toLowerCase() === name)?.[1];
      const [, sentTrace, sentSpan] =
        /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(header("traceparent")?.[0] ?? "") ?? [];
      expect(sentTrace).toBe(traceId);
      expect(sentSpan).not.toBe("00f067aa0ba902b7");
      expect(header("tracestate")).toEqual(["congo=t61rcWkgMzE"]);
      // An invalid header (version ff) is dropped: a new trace starts, without the tracestate.
      const fresh = await call(ctx, "/api/foreign/echo", {
        method: "POST",
        body: "x",
        headers: { traceparent: `ff-${traceId}-00f067aa0ba902b7-01`, tracestate: "congo=t61rcWkgMzE" },
      });
      const freshHeaders = Object.entries(fresh.got()?.headers ?? {});
      const freshParent = freshHeaders.find(([n]) => n.toLowerCase() === "traceparent")?.[1]?.[0] ?? "";
      expect(freshParent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(freshParent).not.toContain(traceId);
      expect(freshHeaders.find(([n]) => n.toLowerCase() === "tracestate")).toBeUndefined();
    },
  },
  {
    name: "every answer carries the security headers; JSON a data CSP; no HSTS unless configured",
    async run(ctx) {
      for (const path of ["/api/foreign/bytes", "/nothing/here"]) {
        const { res } = await call(ctx, path);
        expect(res.headers.get("x-content-type-options")).toBe("nosniff");
        expect(res.headers.get("x-frame-options")).toBe("DENY");
        expect(res.headers.get("referrer-policy")).toBe("no-referrer");
        expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
        expect(res.headers.get("strict-transport-security")).toBeNull();
      }
      const { res } = await call(ctx, "/nothing/here");
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    },
  },
  {
    name: "anonymous requests are limited per client address: the third within the window is a 429 with its headers",
    async run(ctx) {
      // Each edge under test is its own client address, so runtimes do not share a count.
      const headers = { [PEER_HEADER]: `198.51.100.${["bun", "deno", "workerd"].indexOf(ctx.runtime) + 10}` };
      const path = `/api/limited/${ctx.runtime}`;
      for (const _ of [1, 2]) expect((await call(ctx, path, { headers })).res.status).toBe(200);
      const { res, body } = await call(ctx, path, { headers });
      const problem = await expectProblem(res, body, 429);
      expect(String(problem.detail)).toMatch(/limit/i);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(res.headers.get("ratelimit-policy")).toContain("q=2");
      expect(res.headers.get("ratelimit")).toContain("r=0");
    },
  },
  {
    name: "the longest matching prefix wins",
    async run(ctx) {
      for (const [path, service] of [
        ["/api/a", "alpha"],
        ["/api/a/bx", "alpha"],
        ["/api/a/runs/1?x=y", "alpha"],
        ["/api/a/b", "alphabeta"],
        ["/api/a/b/c?d=1", "alphabeta"],
      ] as const) {
        const { res, body } = await call(ctx, path);
        expect({ path, status: res.status, text: new TextDecoder().decode(body) }).toEqual({
          path,
          status: 200,
          text: `${service} ${path}`,
        });
      }
    },
  },
  {
    name: "an unknown path is a 404 problem naming it",
    async run(ctx) {
      for (const path of ["/api/ab", "/nothing/here"]) {
        const { res, body } = await call(ctx, path, { method: "POST", body: "x" });
        const problem = await expectProblem(res, body, 404);
        expect(problem).toMatchObject({ detail: `No service serves ${path}.`, instance: path });
      }
    },
  },
  {
    name: "an ADR-32 service error becomes that status as problem+json, its body's members kept",
    async run(ctx) {
      const { res, body } = await call(ctx, "/api/foreign/conflict/7", { method: "PUT", body: "{}" });
      const problem = await expectProblem(res, body, 409);
      expect(problem).toMatchObject({
        type: "https://foreign.example/problems/duplicate",
        title: "Conflict",
        runId: 7,
        instance: "/api/foreign/conflict/7",
      });
    },
  },
  {
    name: "a service found later by the sweep, once stopped, gets a 503 problem at once",
    async run(ctx) {
      const name = `gone-${ctx.runtime}`;
      const prefix = `/api/${name}`;
      const service = await ctx.mesh.addService(name, prefix);
      // Not announced: only the edge's periodic $SRV.INFO sweep can find it.
      await waitFor(async () => (await call(ctx, `${prefix}/x`)).res.status === 200, {
        timeoutMs: 8000,
        what: `${name} routed by the sweep`,
      });
      await service.stop();
      await ctx.mesh.nc.flush();
      const started = performance.now();
      const { res, body } = await call(ctx, `${prefix}/x`);
      const ms = performance.now() - started;
      await expectProblem(res, body, 503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(ms).toBeLessThan(1000);
    },
  },
];
