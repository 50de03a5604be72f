/**
 * The outermost middleware: gives each request its id (the `Mesh-Request-Id`
 * every response carries, whoever answered) and records it in the metrics
 * once answered, labelled with the service the proxy picked (and tells
 * `onServiceRequest`, which feeds the service levels and the dashboard,
 * unless the request failed by its client's doing). Web standards only.
 */
import { MeshHeader } from "@runnerly/kit/web";
import type { MiddlewareHandler } from "hono";
import type { Route } from "../../discovery/route-table.ts";
import type { EdgeMetrics } from "../../ops/metrics.ts";
import type { AuthResult } from "../auth/authenticate.ts";
import type { ClientFault } from "../limits/index.ts";

/** Hono variables of the edge app. */
export type EdgeEnv = {
  Variables: {
    /** The id sent to the service as `Mesh-Request-Id` and returned to the client. */
    requestId: string;
    /** Metrics label: the routed service, `none` without a route, `edge` for the edge's own routes. */
    service: string;
    /** The request target as received (path and query, not percent-decoded); set by `resolve`. */
    target: string;
    /** The path of `target`: what routes are matched on. */
    path: string;
    /** The route owning `path`, or null when no service claims it; matched once, by `resolve`. */
    route: Route | null;
    /** Who calls: the verified user (or none), or the problem to answer with; checked once, by `resolve`. */
    caller: AuthResult;
    /**
     * Set by the proxy when the request failed by its client's doing (its body came too late or
     * not at all, or it left before the answer): measured, but not held against its service.
     */
    clientFault: ClientFault["reason"] | undefined;
    /** The client's address, resolved once by whichever needs it first (clientAddressOf); null: unknown. */
    clientAddress: string | null | undefined;
  };
};

/**
 * Sets `requestId` and `service` (default `edge`) and, once the response is
 * ready, the `Mesh-Request-Id` header and the request metrics.
 *
 * @example
 * app.use(requestContext(metrics));
 */
export const requestContext = (
  metrics: EdgeMetrics,
  /** Also told of every answered request of a service (not the edge's own routes, unrouted paths or client faults). */
  onServiceRequest?: (service: string, status: number, seconds: number) => void,
): MiddlewareHandler<EdgeEnv> => {
  return async function requestContextMiddleware(c, next) {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("service", "edge");
    await next();
    c.res.headers.set(MeshHeader.RequestId, requestId);
    const service = c.get("service");
    const seconds = (performance.now() - started) / 1000;
    metrics.request(service, c.req.method, c.res.status, seconds);
    if (onServiceRequest && service !== "edge" && service !== "none" && !c.get("clientFault"))
      onServiceRequest(service, c.res.status, seconds);
  };
};
