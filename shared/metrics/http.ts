/**
 * Request metrics for a service's Hono app. The app serves both the NATS
 * `http` endpoint and the direct port, so one middleware sees every request.
 * Routes are labelled with their pattern (`/api/runs/runs/:id`), never the
 * raw path, so the number of series stays bounded whatever clients send.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";

/** Where a service serves its metrics: outside its prefix, so the edge never routes there. */
export const METRICS_PATH = "/metrics";

/** The `route` label of a request no route matched. */
export const UNMATCHED_ROUTE = "unmatched";

export type RequestRecorder = (method: string, route: string, status: number, seconds: number) => void;

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** A method label with bounded values: unknown methods are `OTHER`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

/**
 * The route pattern that answered (or would have answered) a request. A
 * middleware (`use`, method `ALL`) that answered early, like load shedding or
 * an idempotent replay, stands for the first route after it; a request that
 * reached no route at all is `unmatched`.
 *
 * @example
 * routeLabel(c); // "/api/runs/runs/:id"
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = c.req.routeIndex; i < routes.length; i++) {
    const route = routes[i];
    if (route && route.method !== "ALL") return route.path;
  }
  return UNMATCHED_ROUTE;
}

/**
 * Middleware that records each request's method, route pattern, status and
 * duration; register it first so shed and failed requests count too.
 *
 * @example
 * app.use("*", httpMetrics((method, route, status, s) => histogram.observe({ method, route, status }, s)));
 */
export const httpMetrics = (
  record: RequestRecorder,
  options: { exclude?: readonly string[] } = {},
): MiddlewareHandler => {
  const exclude = new Set(options.exclude ?? [METRICS_PATH]);
  return async function httpMetricsMiddleware(c, next) {
    if (exclude.has(c.req.path)) return next();
    const started = performance.now();
    let status = 500;
    try {
      await next();
      status = c.res.status;
    } finally {
      record(methodLabel(c.req.method), routeLabel(c), status, (performance.now() - started) / 1000);
    }
  };
};
