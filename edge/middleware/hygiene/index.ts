/**
 * What every response of the gateway carries whatever the service said:
 * security headers, and CORS answered by the edge for the configured origins
 * (preflights never reach a service). Web standards only.
 */
import { MeshError } from "@runnerly/kit/web";
import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

export type SecurityHeadersOptions = {
  /** `Strict-Transport-Security: max-age=<n>; includeSubDomains` when > 0 (only behind TLS). */
  hstsMaxAgeSeconds?: number;
};

// JSON and problem bodies are data, never a document: nothing may load or frame them.
const DATA_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Hono's `secureHeaders` on every response, replacing what a service sent:
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * `X-Frame-Options: DENY`, same-origin `Cross-Origin-Opener-Policy` and
 * `Cross-Origin-Resource-Policy`, `Origin-Agent-Cluster`, the legacy
 * `X-DNS-Prefetch-Control`/`X-Download-Options`/`X-Permitted-Cross-Domain-Policies`
 * switched off, `X-XSS-Protection: 0`; HSTS only when configured. A
 * `default-src 'none'` CSP goes on JSON and problem responses that have none
 * (an HTML page brings its own, which is kept).
 *
 * @example
 * app.use(securityHeaders({ hstsMaxAgeSeconds: 31_536_000 }));
 */
export const securityHeaders = (options: SecurityHeadersOptions = {}): MiddlewareHandler => {
  const maxAge = options.hstsMaxAgeSeconds ?? 0;
  const standard = secureHeaders({
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    strictTransportSecurity: maxAge > 0 ? `max-age=${maxAge}; includeSubDomains` : false,
  });
  return async function securityHeadersMiddleware(c, next) {
    await standard(c, async () => {
      await next();
      const h = c.res.headers;
      if (!h.has("content-security-policy") && /\bjson\b/.test(h.get("content-type") ?? "")) {
        h.set("content-security-policy", DATA_CSP);
      }
    });
  };
};

export type CorsOptions = {
  /** Allowed origins (`https://app.example`), or `*` for any. */
  origins: readonly string[];
  /** How long a browser may reuse a preflight answer (default 600 s). */
  maxAgeSeconds?: number;
};

const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
// Headers a page may read beyond the CORS-safelisted ones.
const EXPOSED =
  "Mesh-Request-Id, Mesh-Stale, Retry-After, Age, Warning, RateLimit, RateLimit-Policy, Location";

/**
 * The edge's CORS: a preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) is answered here, 204 for an allowed
 * origin and 403 otherwise; other requests from an allowed origin get
 * `Access-Control-Allow-Origin` and the exposed headers. The edge's answer
 * replaces any `Access-Control-*` header a service sent.
 *
 * @example
 * app.use(cors({ origins: ["https://runnerly.example"] }));
 */
export const cors = (options: CorsOptions): MiddlewareHandler => {
  const any = options.origins.includes("*");
  const allowed = new Set(options.origins);
  const maxAge = String(options.maxAgeSeconds ?? 600);
  const allowOrigin = (origin: string) => (any ? "*" : allowed.has(origin) ? origin : null);

  return async function corsMiddleware(c, next) {
    const origin = c.req.header("origin");
    const isPreflight =
      c.req.method === "OPTIONS" && origin !== undefined && c.req.header("access-control-request-method");
    if (isPreflight) {
      const value = allowOrigin(origin);
      if (value === null) {
        const detail = `Origin ${origin} may not call this API.`;
        return new MeshError(403, { detail, headers: { vary: "Origin" } }).toResponse(c.req.path);
      }
      const headers = new Headers({
        "access-control-allow-origin": value,
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-max-age": maxAge,
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      });
      const requested = c.req.header("access-control-request-headers");
      if (requested) headers.set("access-control-allow-headers", requested);
      return new Response(null, { status: 204, headers });
    }
    await next();
    const h = c.res.headers;
    for (const name of [...h.keys()]) if (name.startsWith("access-control-")) h.delete(name);
    // The answer depends on the Origin whenever it is not `*`: tell caches.
    if (!any) h.append("vary", "Origin");
    const value = origin === undefined ? null : allowOrigin(origin);
    if (value === null) return;
    h.set("access-control-allow-origin", value);
    h.set("access-control-expose-headers", EXPOSED);
  };
};
