/**
 * HTTP → NATS per the wire protocol (docs/protocol.md), made for production
 * traffic: the body is read once within the size and time limits, the
 * client's address is resolved once (`Mesh-Client-Address`), the request gets a
 * deadline (per-route timeouts), tries are retried when safe and allowed
 * (resilience/retry.ts), each through its service's circuit breaker, and when the
 * service cannot answer a GET the last good copy stands in, marked stale.
 * A client that takes server-sent events gets them as the service writes them
 * (stream.ts): such a request is tried like any other until its first reply,
 * never hedged, never cached. Every outcome is a response. Web standards only.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Context as OtelContext } from "@opentelemetry/api";
import {
  API_VERSION_HEADER,
  Attr,
  failSpan,
  failStatus,
  type Logger,
  lazyChild,
  MeshError,
  Requester,
  type Span,
  traceFields,
} from "@runnerly/kit/web";
import type { Context } from "hono";
import { EDGE_DEFAULTS } from "../defaults.ts";
import type { Route, RouteView } from "../discovery/route-table.ts";
import { ClientFault, readBody } from "../middleware/limits/index.ts";
import {
  clientAddressOf,
  parseTrustedProxies,
  type TrustedProxies,
} from "../middleware/ratelimit/client-address.ts";
import type { EdgeEnv } from "../middleware/request-context/index.ts";
import type { EdgeMetrics } from "../ops/metrics.ts";
import { attempt, type Outcome, type Outgoing, replyToResponse } from "./attempt.ts";
import type { Balancer } from "./balance/balancer.ts";
import type { LargeBodies } from "./large-bodies.ts";
import type { Breakers } from "./resilience/breaker.ts";
import type { StaleCache } from "./resilience/cache.ts";
import { cacheKey, principalOf } from "./resilience/cacheable.ts";
import { Deadline, type RouteTimeout, timeoutFor } from "./resilience/deadline.ts";
import { isIdempotent, type Retrier } from "./resilience/retry.ts";
import { acceptsStream, type StreamEnd, type StreamLimits } from "./stream.ts";
import { startRequestSpan } from "./trace.ts";
import { type Canary, chooseDestination, type Destination } from "./versions/select.ts";

export type ProxyOptions = {
  nc: NatsConnection;
  logger: Logger;
  metrics: EdgeMetrics;
  /** Deadline of a request whose path has no route timeout; also sets `Mesh-Deadline`. */
  requestTimeoutMs: number;
  routeTimeouts: readonly RouteTimeout[];
  maxBodyBytes: number;
  /** Longest time a request body may take to arrive (default EDGE_DEFAULTS.limits.bodyTimeoutMs). */
  bodyTimeoutMs?: number;
  /** The peer address the runtime saw (`c.env` is the runtime's second argument); none: unknown. */
  peerAddress?: ((req: Request, env: unknown) => string | null | undefined) | undefined;
  /** Proxies whose `X-Forwarded-For` entries are believed when resolving the client's address. */
  trustedProxies?: TrustedProxies;
  retrier: Retrier;
  breakers: Breakers<Outcome>;
  /** Picks the instance of every try (proxy/balance/). */
  balancer: Balancer;
  /** The live route table: a retry looks again at which instances there are. */
  routes: RouteView;
  /** Hedge delays by path prefix; 0: no hedging there. Elsewhere the service's p95, within bounds. */
  routeHedges: readonly RouteTimeout[];
  /** Large bodies in flight per caller and per service instance (none: not limited). */
  largeBodies?: LargeBodies;
  /** Last good copies of GET responses; null turns degradation off. */
  cache: StaleCache | null;
  /** Each service's canary setting (which share of unversioned requests goes to which major). */
  canaries?: { get(service: string): Canary | undefined };
  /** Streamed replies: their `Mesh-Deadline` and longest silence (none: EDGE_DEFAULTS.streams). */
  streams?: StreamLimits;
};

/** One request as the proxy forwards it: what `resolve` decided, and the edge's span of it. */
type Forwarding = {
  req: Request;
  requestId: string;
  route: Route;
  /** Path and query as received; the path alone. */
  target: string;
  path: string;
  /** The verified user the request is sent in the name of (none: anonymous). */
  user: string | undefined;
  /** The client's address (`Mesh-Client-Address`); null when the runtime gave none. */
  clientAddress: string | null;
  /** The context of the edge's SERVER span: each try is its child. */
  trace: OtelContext;
  log: Logger;
};

// Methods that never change what a GET would return (RFC 9110 §9.2.1); the others invalidate copies.
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The catch-all handler that proxies a request to the service owning its
 * path. Runs after `resolve`: the route and the caller are on the context.
 *
 * @example
 * app.use(resolve(table, authenticator));
 * app.all("*", proxy({ nc, logger, metrics, requestTimeoutMs: 10_000, routeTimeouts: [], … }));
 */
export const proxy = (options: ProxyOptions) => {
  const { nc, logger, metrics, retrier, breakers, cache } = options;
  const trustedProxies = options.trustedProxies ?? parseTrustedProxies([]);
  const streams = options.streams ?? EDGE_DEFAULTS.streams;
  const requester = new Requester(nc);

  /** Keeps or forgets copies after a good reply (an unsafe request changes what a GET would say). */
  function remember(key: string | null, req: Request, target: string, res: Response, body: Uint8Array): void {
    if (!cache) return;
    const entries = cache.size;
    const bytes = cache.bytes;
    if (key) cache.store(key, req.headers, res.status, res.headers, body);
    else if (!SAFE.has(req.method) && res.status < 400) cache.invalidate(target);
    // The gauges move only when the cache did (most answers are not kept).
    if (cache.size !== entries || cache.bytes !== bytes) metrics.cacheSize(cache.size, cache.bytes);
  }

  function failure(outcome: Outcome, { req, route, path, log }: Forwarding, timeoutMs: number): Response {
    const { service } = route;
    const method = req.method;
    switch (outcome.kind) {
      case "reply":
        return replyToResponse(outcome, method, path, service, (status, detail) =>
          log.warn({ service, status, detail }, "service error"),
        );
      case "open": {
        const headers = { "retry-after": String(breakers.retryAfterSeconds(service)) };
        const detail = `Service ${service} is failing; the gateway stopped calling it for a moment.`;
        return new MeshError(503, { detail, headers }).toResponse(path);
      }
      case "no-responders": {
        log.warn({ service, subject: route.subject }, "no responders");
        const detail = `Service ${service} has no running instance.`;
        return new MeshError(503, { detail, headers: { "retry-after": "1" } }).toResponse(path);
      }
      case "timeout":
      case "deadline":
        log.warn({ service, timeoutMs }, "service timed out");
        return new MeshError(504, {
          detail: `Service ${service} did not answer within ${timeoutMs} ms.${unansweredWrite(method, req.headers)}`,
        }).toResponse(path);
      case "too-large": {
        const max = nc.info?.max_payload ?? "max_payload";
        const detail = `The request is larger than the mesh carries (${max} bytes with headers).`;
        return new MeshError(413, { detail }).toResponse(path);
      }
      case "gone":
        log.warn({ service }, "no NATS connection");
        return new MeshError(503, { detail: "The gateway has no connection to the mesh." }).toResponse(path);
      case "error":
        log.error({ service, err: describe(outcome.err) }, "proxy failed");
        return new MeshError(502, {
          detail: `The gateway could not forward the request to ${service}.`,
        }).toResponse(path);
    }
  }

  async function forward(f: Forwarding): Promise<Response> {
    const { req, route, path } = f;
    // Which instances: a requested major version, else the service's canary split, else all of them.
    const requested = req.headers.get(API_VERSION_HEADER);
    const destination = chooseDestination(route, requested, options.canaries?.get(route.service));
    if (destination instanceof MeshError) return destination.toResponse(path);
    const body = await readBody(req, options.maxBodyBytes, options.bodyTimeoutMs);
    // A large upload is admitted only while its caller and the service have room for it.
    const admitted = options.largeBodies?.admit(
      route.service,
      f.user ?? f.clientAddress ?? "anonymous",
      body.byteLength,
      route.instances.length,
    );
    if (admitted instanceof MeshError) return admitted.toResponse(path);
    try {
      return await send(f, destination, body);
    } finally {
      admitted?.release();
    }
  }

  async function send(f: Forwarding, destination: Destination, body: Uint8Array): Promise<Response> {
    const { req, route, path, target } = f;
    const requested = req.headers.get(API_VERSION_HEADER);
    const timeoutMs = timeoutFor(path, options.routeTimeouts, options.requestTimeoutMs);
    const outgoing: Outgoing = {
      method: req.method,
      target,
      headers: req.headers,
      body,
      requestId: f.requestId,
      trace: f.trace,
      user: f.user,
      clientAddress: f.clientAddress,
      stream: acceptsStream(req.headers) ? streamOf(f) : undefined,
    };
    // A copy of one major version stands in only for requests asking for that version.
    const cached = requested ? `${target}#v${destination.major}` : target;
    const key =
      cache && req.method === "GET" && !outgoing.stream
        ? cacheKey("GET", cached, await principalOf(req.headers, f.user))
        : null;
    const idempotent = isIdempotent(req.method, req.headers);
    const { major } = destination;
    const picker = options.balancer.picker(route, {
      // Its instances: every one, or those of the major version it goes to.
      select: (r) =>
        major === null ? r.instances : (r.versions.find((v) => v.major === major)?.instances ?? []),
      shared: destination.subject,
      idempotent,
      current: () => options.routes.match(path),
    });
    const deadline = new Deadline(timeoutMs, req.signal);
    try {
      const outcome = await retrier.call({
        service: route.service,
        idempotent,
        deadline,
        send: (ms) => picker.send(ms, (subject, t) => attempt(requester, subject, outgoing, t)),
        hedge:
          idempotent && !outgoing.stream && picker.candidates > 1 && picker.balanced
            ? hedgeOf(route.service, path, picker)
            : null,
      });
      // The client left while a retry waited or a half-open circuit held the try back: no answer is owed.
      if (outcome.kind === "deadline" && req.signal.aborted)
        throw new ClientFault("closed", "The client closed the connection before the answer.");
      if (outcome.kind === "reply" && outcome.status < 500) {
        const res = replyToResponse(outcome, req.method, path, route.service, () => {});
        remember(key, req, target, res, outcome.msg.data);
        return res;
      }
      const stale = key ? cache?.stale(key, req.headers) : null;
      if (stale) {
        metrics.staleServed(route.service);
        f.log.warn({ service: route.service, outcome: outcome.kind }, "served a stale copy");
        return stale;
      }
      return failure(outcome, f, timeoutMs);
    } finally {
      deadline.dispose();
    }
  }

  /** The limits of a streamed reply to this request; it ends when its client leaves. */
  function streamOf({ req, route, log }: Forwarding): Outgoing["stream"] {
    return {
      ...streams,
      signal: req.signal,
      onEnd(why: StreamEnd) {
        if (why === "gap" || why === "idle" || why === "slow-client" || why === "error")
          log.warn({ service: route.service, why }, "stream cut short");
      },
    };
  }

  /** When a try of this request gets a hedge beside it (null: never, hedging is off for it). */
  function hedgeOf(service: string, path: string, picker: { canHedge(): boolean }) {
    const { balancer } = options;
    if (!balancer.settings.hedge.enabled) return null;
    // -1: no route setting, so the service's observed p95.
    const configured = timeoutFor(path, options.routeHedges, -1);
    if (configured === 0) return null;
    return {
      delayMs: configured > 0 ? configured : balancer.hedgeDelayMs(service),
      possible: () => picker.canHedge(),
    };
  }

  /** The response to a resolved request: 404 without a route, the caller's problem, else the service's. */
  function answer(c: Context<EdgeEnv>, trace: OtelContext, log: Logger): Promise<Response> | Response {
    const route = c.get("route");
    const path = c.get("path");
    if (!route) return new MeshError(404, { detail: `No service serves ${path}.` }).toResponse(path);
    const caller = c.get("caller");
    if ("error" in caller) return caller.error.toResponse(path);
    const f: Forwarding = {
      req: c.req.raw,
      requestId: c.get("requestId"),
      route,
      target: c.get("target"),
      path,
      user: caller.user,
      clientAddress: clientAddressOf(c, options.peerAddress, trustedProxies),
      trace,
      log,
    };
    return forward(f).catch((err: unknown) => {
      if (err instanceof ClientFault) {
        // Measured under its status, but not the service's failure (nor the edge's).
        c.set("clientFault", err.reason);
        log.info({ service: route.service, reason: err.reason }, "request cut short by its client");
        return err.toResponse(path);
      }
      // readBody's 413; anything else is the app's onError's.
      if (err instanceof MeshError) return err.toResponse(path);
      throw err;
    });
  }

  return async function proxy(c: Context<EdgeEnv>): Promise<Response> {
    const started = performance.now();
    const route = c.get("route");
    const path = c.get("path");
    const method = c.req.method;
    const requestId = c.get("requestId");
    c.set("service", route ? route.service : "none");
    // The edge's SERVER span: a child of the client's traceparent, or a new trace.
    const { span, context: trace } = startRequestSpan(
      c.req.raw.headers,
      route ? `${method} ${route.prefix}` : method,
      {
        [Attr.HttpMethod]: method,
        [Attr.UrlPath]: path,
        [Attr.RequestId]: requestId,
        ...(route ? { [Attr.Service]: route.service } : {}),
      },
    );
    // Bound only when the request logs (a warning, or a debug line when enabled).
    const log = lazyChild(logger, () => ({ requestId, ...traceFields(span) }));
    let res: Response;
    try {
      res = await answer(c, trace, log);
    } catch (err) {
      failSpan(span, err);
      span.end();
      throw err;
    }
    endRequestSpan(span, res.status);
    // Straight to the edge's logger: a disabled debug level then binds nothing.
    logger.debug(
      {
        requestId,
        ...traceFields(span),
        method,
        path,
        status: res.status,
        service: route?.service,
        ms: Math.round(performance.now() - started),
      },
      "proxied",
    );
    return res;
  };
};

function endRequestSpan(span: Span, status: number): void {
  span.setAttribute(Attr.HttpStatus, status);
  if (status >= 500) failStatus(span, status);
  span.end();
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** What a client should know when a POST went unanswered: it may have been applied, and how to find out. */
export function unansweredWrite(method: string, headers: Headers): string {
  if (method !== "POST") return "";
  return headers.has("idempotency-key")
    ? " It may have been applied: repeat it with the same Idempotency-Key, which is safe and answers its outcome."
    : " It may have been applied: send writes with an Idempotency-Key, so that repeating one is safe and answers its outcome.";
}
