/**
 * The edge: an HTTP gateway that discovers services over NATS and forwards each
 * request to the one owning its path prefix, with deadlines, safe retries,
 * circuit breakers, stale copies for down services, size limits, rate limits,
 * CORS and security headers. Web standards only (Request, Response, fetch, crypto)
 * plus hono, cockatiel and the NATS v3 core, so this file runs unchanged on
 * Bun, Deno and workerd; `main.ts` is the Bun adapter.
 */

import type { NatsConnection } from "@nats-io/nats-core";
import { type Logger, MeshError, REVOKED_SESSIONS_BUCKET } from "@runnerly/kit/web";
import { Hono } from "hono";
import { EDGE_DEFAULTS } from "./defaults.ts";
import { startDiscovery } from "./discovery/index.ts";
import type { ClaimPolicy } from "./discovery/registration.ts";
import { type Instance, RouteTable, type RouteView } from "./discovery/route-table.ts";
import { Authenticator, type AuthOptions } from "./middleware/auth/authenticate.ts";
import { JwksCache, type JwksOptions } from "./middleware/auth/jwks.ts";
import { RevokedSessions } from "./middleware/auth/revoked-sessions.ts";
import { cors, securityHeaders } from "./middleware/hygiene/index.ts";
import { type Limits, limits } from "./middleware/limits/index.ts";
import {
  createRateLimiting,
  parseTrustedProxies,
  type RateLimitOptions,
} from "./middleware/ratelimit/index.ts";
import { type EdgeEnv, requestContext } from "./middleware/request-context/index.ts";
import { resolve } from "./middleware/resolve/index.ts";
import { createDashboard, type PoolMember } from "./ops/dashboard/index.ts";
import { docsPage } from "./ops/docs/index.ts";
import { watchHealth } from "./ops/health.ts";
import { createMemoryMetrics, type EdgeMetrics } from "./ops/metrics.ts";
import { openApiSource } from "./ops/openapi.ts";
import { type SloOptions, SloTracker } from "./ops/slo/tracker.ts";
import type { HedgeSettings, InstanceBalance, OutlierSettings } from "./proxy/balance/balancer.ts";
import { proxy } from "./proxy/index.ts";
import { DEFAULT_LARGE_BODIES, LargeBodies, type LargeBodySettings } from "./proxy/large-bodies.ts";
import type { CircuitStateName } from "./proxy/resilience/breaker.ts";
import { type CacheOptions, StaleCache } from "./proxy/resilience/cache.ts";
import type { RouteTimeout } from "./proxy/resilience/deadline.ts";
import { type BreakerSettings, createPolicies, type RetrySettings } from "./proxy/resilience/policies.ts";
import type { StreamLimits } from "./proxy/stream.ts";
import { CanarySettings } from "./proxy/versions/canaries.ts";
import { webPage } from "./web/page.tsx";

export type { Instance, Route, RouteView } from "./discovery/route-table.ts";
export type { CircuitStateName, EdgeMetrics, InstanceBalance, RateLimitOptions, RouteTimeout };

export type EdgeOptions = {
  /** A connected NATS connection; the edge never closes it (its owner drains it). */
  nc: NatsConnection;
  logger: Logger;
  /** Deadline of a request (default 10000 ms) unless a route timeout matches; also sets `Mesh-Deadline`. */
  requestTimeoutMs?: number;
  /** Deadlines by path prefix, longest prefix wins (`EDGE_ROUTE_TIMEOUTS`). */
  routeTimeouts?: RouteTimeout[];
  /** Pause between two `$SRV.INFO` sweeps (default 1000). */
  sweepIntervalMs?: number;
  /** How long a discovery query waits for its first reply (default 2000). */
  discoveryWaitMs?: number;
  /** Retries and their budget (defaults: EDGE_DEFAULTS.retry). */
  retry?: Partial<RetrySettings>;
  /** Circuit breakers (defaults: EDGE_DEFAULTS.breaker). */
  breaker?: Partial<BreakerSettings>;
  /** Outlier ejection per instance (defaults: EDGE_DEFAULTS.outlier). */
  outlier?: Partial<OutlierSettings>;
  /** Hedged requests (defaults: EDGE_DEFAULTS.hedge). */
  hedge?: Partial<HedgeSettings>;
  /** Hedge delays by path prefix, longest prefix wins; 0 turns hedging off there (`EDGE_ROUTE_HEDGE`). */
  routeHedges?: RouteTimeout[];
  /** Streamed replies' `Mesh-Deadline` and longest silence (defaults: EDGE_DEFAULTS.streams). */
  streams?: Partial<StreamLimits>;
  /** Stale copies for degradation; `maxEntries: 0` turns it off. */
  cache?: Partial<Omit<CacheOptions, "now">>;
  limits?: Partial<Limits>;
  /** Large request bodies in flight per caller and per service instance (proxy/large-bodies.ts). */
  largeBodies?: Partial<LargeBodySettings>;
  /** Origins allowed by CORS (`*` for any); none: the edge does no CORS and forwards preflights. */
  corsOrigins?: string[];
  /** Sends `Strict-Transport-Security` with this max-age when > 0 (only behind TLS). */
  hstsMaxAgeSeconds?: number;
  /** Which path prefixes each service may claim (default: its own, `/api/<name>` and below). */
  claims?: ClaimPolicy;
  /** Where measurements go (default: in memory, served on /metrics). */
  metrics?: EdgeMetrics;
  /**
   * Verify access tokens and name the caller (`Mesh-User`) for the services;
   * without it the edge forwards anonymously (every service sees no caller).
   * `revokedSessionsBucket`: the KV bucket of ended sessions whose tokens are
   * refused (default `revoked_sessions`); null: no deny list.
   */
  auth?: AuthOptions & { jwks: JwksOptions; revokedSessionsBucket?: string | null };
  /** Quotas per route group and caller, shared through NATS KV (`EDGE_RATE_LIMITS`); none: no limiting. */
  rateLimits?: RateLimitOptions;
  /**
   * The client's address as the runtime saw it, for per-address limits and the
   * services' `Mesh-Client-Address` (Bun: `(req, server) => server.requestIP(req)?.address`;
   * `env` is what the runtime passed to `app.fetch`). Without it only verified
   * users are limited and services are told no address.
   */
  peerAddress?: (req: Request, env: unknown) => string | null | undefined;
  /** The operations dashboard at `/_/` (default on; `EDGE_DASHBOARD=0`). Keep `/_/` off the public internet. */
  dashboard?: boolean;
  /** This process as one worker of a pool sharing a port (Bun): the dashboard and `/_/slo` sum the figures of all. */
  pool?: PoolMember;
  /** Enforce the rate limit each service declares (default true; `EDGE_SERVICE_LIMITS=off`). */
  serviceLimits?: boolean;
  /** Rolling windows and thresholds of the measured service levels (`/_/slo`). */
  slo?: SloOptions;
  /** The KV bucket of canary settings (default `edge_canary`); null: no canaries. */
  canaryBucket?: string | null;
};

/** An instance of `GET /_/routes`: the route table's entry plus how the balancer sees it. */
export type InstanceStatus = Instance & { balance: InstanceBalance | null };

/** A route of `GET /_/routes`: the route table's entry plus its service's circuit state and its instances' states. */
export type RouteStatus = Omit<ReturnType<RouteView["list"]>[number], "instances"> & {
  circuit: CircuitStateName;
  instances: InstanceStatus[];
};

export type Edge = {
  /** The gateway; serve `app.fetch` with any runtime's HTTP server. */
  app: Hono<EdgeEnv>;
  /** The live route table (longest prefix first). */
  routes: RouteView;
  /** Routes with their circuit states, as `GET /_/routes` shows them. */
  status(): RouteStatus[];
  metrics: EdgeMetrics;
  /**
   * Settles when the first discovery sweep is done and the revoked sessions
   * are loaded (bounded); serve after it to avoid early 404s and tokens of ended sessions.
   */
  ready: Promise<void>;
  /** Stops discovery (sweeps, announce subscription); in-flight proxied requests finish on their own. */
  close(): Promise<void>;
};

/**
 * Builds the edge: discovery starts at once; `GET /healthz`, `/readyz`,
 * `/metrics`, `/_/routes` (the rest of `/_/` is the edge's too) are answered
 * here and every other request is proxied to the service whose `http.prefix`
 * is the longest match of its path.
 *
 * @example
 * const edge = createEdge({ nc, logger, routeTimeouts: [{ prefix: "/api/stats/reports", ms: 8000 }] });
 * await edge.ready;
 * Bun.serve({ port: 8787, fetch: edge.app.fetch });
 */
export function createEdge(options: EdgeOptions): Edge {
  const { nc, logger } = options;
  const d = EDGE_DEFAULTS;
  const requestTimeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs ?? d.requestTimeoutMs);
  const sweepIntervalMs = positive("sweepIntervalMs", options.sweepIntervalMs ?? d.sweepIntervalMs);
  const queryWaitMs = positive("discoveryWaitMs", options.discoveryWaitMs ?? d.discoveryWaitMs);
  const retry = { ...d.retry, ...options.retry };
  const breaker = { ...d.breaker, ...options.breaker };
  const cacheSettings = { ...d.cache, ...options.cache };
  const sizeLimits = { ...d.limits, ...options.limits };
  const slo = new SloTracker(options.slo);
  const levelsOf = (service: string) => table.service(service)?.levels ?? {};
  const metrics = options.metrics ?? createMemoryMetrics();

  const { balancer, breakers, retrier } = createPolicies({
    retry,
    breaker,
    outlier: { ...d.outlier, ...options.outlier },
    hedge: { ...d.hedge, ...options.hedge },
    metrics,
    logger,
    // Called per request, long after `discovery` below exists.
    onNoResponders: (service) => discovery.checkService(service),
    onInstanceGone: (service, id) => discovery.checkInstance(service, id),
  });
  // A new instance is a reason to call its service again before an open circuit's pause is over.
  const table = new RouteTable({ logger, onInstanceUp: (service) => breakers.reset(service) });
  const discovery = startDiscovery({
    nc,
    table,
    logger,
    sweepIntervalMs,
    queryWaitMs,
    claims: options.claims,
  });
  const health = watchHealth(nc, discovery.ready);
  const cache = cacheSettings.maxEntries > 0 ? new StaleCache(cacheSettings) : null;
  const status = (): RouteStatus[] =>
    table.list().map((r) => ({
      ...r,
      circuit: breakers.state(r.service),
      instances: r.instances.map((i) => ({ ...i, balance: balancer.describe(r.service, i.id) ?? null })),
    }));
  const jwks = options.auth ? new JwksCache(nc, options.auth.jwks, logger) : null;
  const revokedBucket = options.auth?.revokedSessionsBucket;
  const revoked =
    options.auth && revokedBucket !== null
      ? new RevokedSessions({ nc, logger, bucket: revokedBucket ?? REVOKED_SESSIONS_BUCKET })
      : null;
  const authenticator = jwks && options.auth ? new Authenticator(jwks, options.auth, revoked) : null;
  jwks?.start();
  revoked?.start();
  const rateLimiting = createRateLimiting(options.rateLimits, {
    nc,
    logger,
    peerAddress: options.peerAddress,
    // A service's own limit (`slo.rate_limit`), over its whole prefix.
    declared:
      options.serviceLimits === false
        ? undefined
        : (route) => {
            const rate = route.levels.rateLimit;
            return rate ? { name: route.prefix, prefix: route.prefix, ...rate } : null;
          },
  });
  const canaries =
    options.canaryBucket === null
      ? null
      : new CanarySettings({
          nc,
          logger,
          ...(options.canaryBucket ? { bucket: options.canaryBucket } : {}),
          intervalMs: sweepIntervalMs,
          services: () => table.list().map((r) => r.service),
        });
  canaries?.start();

  // The dashboard (`/_/`, ops/dashboard/): like /metrics never limited. Its figures serve `/_/slo` too.
  const dashboard = createDashboard({
    nc,
    logger,
    routes: status,
    queryWaitMs,
    streamMs: requestTimeoutMs,
    slo,
    levelsOf,
    ...(options.pool ? { pool: options.pool } : {}),
  });

  // A request takes these steps, in this order; the first that answers ends it.
  const app = new Hono<EdgeEnv>();
  // 1. Its id, and once answered its metrics and (for a service's request) its service levels.
  app.use(
    requestContext(metrics, (service, status, seconds) => {
      slo.record(service, status, seconds, levelsOf(service));
      dashboard.observe(service, status, seconds);
    }),
  );
  // 2. Security headers on whatever answers; CORS when origins are configured.
  app.use(securityHeaders({ hstsMaxAgeSeconds: options.hstsMaxAgeSeconds ?? 0 }));
  if (options.corsOrigins?.length) app.use(cors({ origins: options.corsOrigins }));
  // 3. Size limits at the door (414, 431, 413).
  app.use(limits(sizeLimits));
  // 4. The edge's probes, /metrics and the dashboard (`/_/`): answered here, never limited.
  app.get("/healthz", () => health.live());
  app.get("/readyz", () => health.ready());
  app.get(
    "/metrics",
    async () => new Response(await metrics.render(), { headers: { "content-type": metrics.contentType } }),
  );
  if (options.dashboard !== false) app.route("/", dashboard.app);
  // 5. Where it goes and who sends it, decided once: its route, its verified caller.
  app.use(resolve(table, authenticator));
  // 6. Rate limits, per caller.
  if (rateLimiting) app.use(rateLimiting);
  // 7. The edge's own pages and documents.
  app.get("/_/routes", (c) => c.json({ routes: status() }));
  app.get("/_/slo", async (c) =>
    c.json({ services: await dashboard.sloReport(), canaries: canaries?.all() ?? {} }, 200, {
      "cache-control": "no-store",
    }),
  );
  const openApi = openApiSource(nc, table, logger, Boolean(options.auth));
  app.get("/openapi.json", async (c) => c.json(await openApi(), 200, { "cache-control": "no-cache" }));
  // Swagger UI on that document, its files embedded (ops/docs/): no CDN, works offline.
  app.route("/", docsPage());
  // The Runnerly web page (its script and styles are bundled in, so no files are read).
  app.route("/", webPage());
  if (jwks) {
    // The keys tokens are checked against, for anyone who wants to check them too.
    app.get("/.well-known/jwks.json", (c) =>
      jwks.current
        ? c.json(jwks.current, 200, { "cache-control": "public, max-age=60" })
        : new MeshError(503, { detail: "The signing keys are not available yet." }).toResponse(c.req.path),
    );
  }
  // `/_/` is the edge's own namespace: never proxied, even to a service mounted at `/`.
  app.all("/_/*", (c) =>
    new MeshError(404, { detail: `The gateway has no ${c.req.path}.` }).toResponse(c.req.path),
  );
  // 8. Everything else: to the route's service over NATS, in the caller's name.
  app.all(
    "*",
    proxy({
      nc,
      logger,
      metrics,
      requestTimeoutMs,
      routeTimeouts: options.routeTimeouts ?? [],
      maxBodyBytes: sizeLimits.maxBodyBytes,
      bodyTimeoutMs: sizeLimits.bodyTimeoutMs,
      largeBodies: new LargeBodies({ ...DEFAULT_LARGE_BODIES, ...options.largeBodies }),
      // Whom the services are told the client is (`Mesh-Client-Address`), limited or not.
      peerAddress: options.peerAddress,
      trustedProxies: parseTrustedProxies(options.rateLimits?.trustedProxies ?? []),
      retrier,
      breakers,
      balancer,
      routes: table,
      routeHedges: options.routeHedges ?? [],
      streams: { ...d.streams, ...options.streams },
      cache,
      ...(canaries ? { canaries } : {}),
    }),
  );
  app.onError(function onError(err, c) {
    logger.error({ err: String(err), path: c.req.path }, "edge route failed");
    return new MeshError(500, { detail: "The gateway failed to handle the request." }).toResponse(c.req.path);
  });

  async function close(): Promise<void> {
    health.stop();
    jwks?.stop();
    await revoked?.close();
    await dashboard.close();
    await canaries?.close();
    await discovery.close();
  }
  // Serving starts with the routes found and the ended sessions known (a missing bucket is not waited for).
  const ready = Promise.all([discovery.ready, revoked?.loaded]).then(() => {});
  return { app, routes: table, status, metrics, ready, close };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
