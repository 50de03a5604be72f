import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { cors, securityHeaders } from "./index.ts";

/** An app standing in for the proxy: counts what reaches it, answers like a service. */
function app(origins: string[], hstsMaxAgeSeconds = 0) {
  const reached: string[] = [];
  const a = new Hono();
  a.use(securityHeaders({ hstsMaxAgeSeconds }));
  a.use(cors({ origins }));
  a.all("/json", (c) => {
    reached.push(c.req.method);
    return c.json({ ok: true }, 200, { "access-control-allow-origin": "https://evil.example" });
  });
  a.get("/page", (c) => c.html("<p>hi</p>", 200, { "content-security-policy": "default-src 'self'" }));
  return { a, reached };
}

const preflight = (origin: string, headers: Record<string, string> = {}) => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "POST", ...headers },
});

describe("CORS", () => {
  test("a preflight from an allowed origin is answered by the edge and never forwarded", async () => {
    const { a, reached } = app(["https://app.example"]);
    const res = await a.request(
      "/json",
      preflight("https://app.example", { "access-control-request-headers": "content-type, authorization" }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("content-type, authorization");
    expect(res.headers.get("access-control-max-age")).toBe("600");
    expect(res.headers.get("vary")).toContain("Origin");
    expect(reached).toEqual([]);
  });

  test("a preflight from another origin gets a 403 problem, not forwarded", async () => {
    const { a, reached } = app(["https://app.example"]);
    const res = await a.request("/json", preflight("https://evil.example"));
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(reached).toEqual([]);
  });

  test("a request from an allowed origin gets the edge's CORS headers, replacing the service's", async () => {
    const { a } = app(["https://app.example"]);
    const res = await a.request("/json", { headers: { origin: "https://app.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("Mesh-Request-Id");
    expect(res.headers.get("vary")).toBe("Origin");
  });

  test("another origin gets no CORS headers at all (not even the service's)", async () => {
    const { a, reached } = app(["https://app.example"]);
    const res = await a.request("/json", { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(200); // the browser, not the edge, withholds the body
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(reached).toEqual(["GET"]);
  });

  test("`*` allows any origin, without Vary", async () => {
    const { a } = app(["*"]);
    const pre = await a.request("/json", preflight("https://any.example"));
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    const res = await a.request("/json", { headers: { origin: "https://any.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("vary")).toBeNull();
  });

  test("an OPTIONS that is not a preflight (no Origin) goes to the service", async () => {
    const { a, reached } = app(["https://app.example"]);
    await a.request("/json", { method: "OPTIONS" });
    expect(reached).toEqual(["OPTIONS"]);
  });
});

describe("security headers", () => {
  test("on every response; a data CSP on JSON; HSTS only when configured", async () => {
    const { a } = app(["*"]);
    const res = await a.request("/json");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get("strict-transport-security")).toBeNull();
    const withHsts = await app(["*"], 31_536_000).a.request("/json");
    expect(withHsts.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
  });

  test("the rest of Hono's secure headers, replacing what a service sent", async () => {
    const a = new Hono();
    a.use(securityHeaders());
    a.get("/loose", (c) =>
      c.json({}, 200, {
        "x-frame-options": "ALLOWALL",
        "referrer-policy": "unsafe-url",
        "x-powered-by": "PHP",
      }),
    );
    const res = await a.request("/loose");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-powered-by")).toBeNull();
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    expect(res.headers.get("x-xss-protection")).toBe("0");
    expect(res.headers.get("strict-transport-security")).toBeNull();
    const text = await a.request("/missing");
    expect(text.headers.get("content-security-policy")).toBeNull(); // not JSON: no data CSP
    expect(text.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("an HTML page keeps its own CSP; a 403 preflight gets the headers too", async () => {
    const { a } = app(["https://app.example"]);
    const page = await a.request("/page");
    expect(page.headers.get("content-security-policy")).toBe("default-src 'self'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const refused = await a.request("/json", preflight("https://evil.example"));
    expect(refused.headers.get("x-frame-options")).toBe("DENY");
  });
});
