/**
 * HTTP → NATS per the wire protocol (docs/protocol.md): the matched route's
 * `http` endpoint gets the raw body and the protocol headers; its reply, or the
 * reason there was none, becomes the HTTP response. Every outcome is a
 * response: unknown path 404, too large for NATS 413, no instance 503, no
 * answer in time 504, anything unexpected 502 (logged). Web standards only.
 */
import { Empty, type Msg, type NatsConnection } from "@nats-io/nats-core";
import {
  type Logger,
  MeshError,
  MeshHeader,
  natsToResponseInit,
  requestToNatsHeaders,
} from "@runnerly/kit/web";
import type { Context } from "hono";
import { isConnectionGone, isNoResponders, isPayloadTooLarge, isTimeout } from "./nats-errors.ts";
import type { Route, RouteView } from "./route-table.ts";
import { continueTrace, type TraceContext } from "./trace.ts";

export type ProxyOptions = {
  nc: NatsConnection;
  routes: RouteView;
  logger: Logger;
  /** How long to wait for a service's reply; also sets `Mesh-Deadline`. */
  requestTimeoutMs: number;
  /** Told when a route's subject had no responders, so discovery can confirm the service is gone. */
  onNoResponders?: (service: string) => void;
};

type Forward = { req: Request; url: URL; route: Route; requestId: string; trace: TraceContext; log: Logger };

// Statuses whose response must not carry a body (Fetch standard: null body status).
const NULL_BODY_STATUS = new Set([204, 205, 304]);

/**
 * The catch-all handler that proxies a request to the service owning its path.
 * It always answers with a `Mesh-Request-Id` header, the id the service saw.
 *
 * @example
 * app.all("*", proxy({ nc, routes: table, logger, requestTimeoutMs: 10_000 }));
 */
export const proxy = (options: ProxyOptions) => {
  const { nc, routes, logger, requestTimeoutMs, onNoResponders } = options;

  async function forward({ req, url, route, requestId, trace }: Forward): Promise<Response> {
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : Empty;
    const headers = requestToNatsHeaders(req.method, url.pathname + url.search, req.headers, {
      requestId,
      deadline: Date.now() + requestTimeoutMs,
      traceparent: trace.traceparent,
      tracestate: trace.tracestate,
    });
    const reply = await nc.request(route.subject, body, { headers, timeout: requestTimeoutMs });
    return replyToResponse(reply, req.method, url.pathname, route);
  }

  function replyToResponse(reply: Msg, method: string, path: string, route: Route): Response {
    const failed = MeshError.fromServiceReply(reply.headers, reply.data);
    if (failed) {
      // A bare 5xx service error carries the service's own description (a Python
      // micro service puts repr(exception) there); the client gets a generic one.
      if (failed.status >= 500 && reply.data.length === 0) {
        logger.warn(
          { service: route.service, status: failed.status, detail: failed.detail },
          "service error",
        );
        return new MeshError(failed.status, { detail: `Service ${route.service} failed.` }).toResponse(path);
      }
      return failed.toResponse(path);
    }
    const { status, headers } = natsToResponseInit(reply.headers);
    const body = method === "HEAD" || NULL_BODY_STATUS.has(status) ? null : reply.data;
    return new Response(body as Uint8Array<ArrayBuffer> | null, { status, headers });
  }

  function failure(err: unknown, { route, url, log }: Forward): Response {
    const { service } = route;
    const path = url.pathname;
    if (isNoResponders(err)) {
      log.warn({ service, subject: route.subject }, "no responders");
      onNoResponders?.(service);
      const detail = `Service ${service} has no running instance.`;
      return new MeshError(503, { detail, headers: { "retry-after": "1" } }).toResponse(path);
    }
    if (isTimeout(err)) {
      log.warn({ service, timeoutMs: requestTimeoutMs }, "service timed out");
      const detail = `Service ${service} did not answer within ${requestTimeoutMs} ms.`;
      return new MeshError(504, { detail }).toResponse(path);
    }
    if (isPayloadTooLarge(err)) {
      const max = nc.info?.max_payload;
      const detail = `The request is larger than the mesh carries (${max ?? "max_payload"} bytes with headers).`;
      return new MeshError(413, { detail }).toResponse(path);
    }
    if (isConnectionGone(err)) {
      log.warn({ service }, "no NATS connection");
      return new MeshError(503, { detail: "The gateway has no connection to the mesh." }).toResponse(path);
    }
    log.error({ service, err: describe(err) }, "proxy failed");
    return new MeshError(502, {
      detail: `The gateway could not forward the request to ${service}.`,
    }).toResponse(path);
  }

  return async function proxy(c: Context): Promise<Response> {
    const started = performance.now();
    const req = c.req.raw;
    const url = new URL(req.url);
    const requestId = crypto.randomUUID();
    const trace = continueTrace(req.headers.get("traceparent"), req.headers.get("tracestate"));
    const log = logger.child({ requestId, traceId: trace.traceId });
    const route = routes.match(url.pathname);
    let res: Response;
    if (!route) {
      res = new MeshError(404, { detail: `No service serves ${url.pathname}.` }).toResponse(url.pathname);
    } else {
      const fwd: Forward = { req, url, route, requestId, trace, log };
      res = await forward(fwd).catch((err: unknown) => failure(err, fwd));
    }
    res.headers.set(MeshHeader.RequestId, requestId);
    const ms = Math.round(performance.now() - started);
    log.debug(
      { method: req.method, path: url.pathname, status: res.status, service: route?.service, ms },
      "proxied",
    );
    return res;
  };
};

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
