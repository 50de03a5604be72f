/**
 * The edge's defaults in one place: `config.ts` gives them to environment keys
 * left unset (README.md's tables are checked against its schema), and
 * `createEdge` to options a caller leaves out, so both agree.
 */
export const EDGE_DEFAULTS = {
  /** Where the edge listens (`EDGE_HOST`, `EDGE_PORT`). */
  listen: { host: "127.0.0.1", port: 8787 },
  /** Deadline of a request whose path has no route timeout. */
  requestTimeoutMs: 10_000,
  sweepIntervalMs: 1000,
  discoveryWaitMs: 2000,
  retry: {
    /** Tries in all, the first included. */
    maxAttempts: 3,
    perTryMinMs: 250,
    backoffMs: 25,
    backoffMaxMs: 1000,
    budgetRatio: 0.2,
    budgetMinRetries: 10,
    budgetWindowMs: 10_000,
  },
  breaker: { failures: 5, halfOpenAfterMs: 5000 },
  /** Outlier ejection per instance (proxy/balance/balancer.ts). */
  outlier: { failures: 3, ejectMs: 10_000, maxEjectMs: 300_000, maxEjectedPercent: 50 },
  /** Hedged requests: a second try after the service's p95, within these bounds. */
  hedge: { enabled: true, minMs: 10, maxMs: 250 },
  cache: { maxEntries: 1000, maxBytes: 32 * 1024 * 1024, maxStaleMs: 3_600_000 },
  // Bodies up to 6 MiB: a 5 MiB GPX upload in a multipart form (the dev stack's NATS carries 8 MB),
  // which must arrive within 10 s (a client that sends less than it declared gets a 408, not a hang).
  limits: {
    maxBodyBytes: 6 * 1024 * 1024,
    maxHeaderBytes: 16 * 1024,
    maxUrlBytes: 8 * 1024,
    bodyTimeoutMs: 10_000,
  },
  /** Large uploads in flight: one per caller and service, two per instance (proxy/large-bodies.ts). */
  largeBodies: { bytes: 1024 * 1024, perCaller: 1, perInstance: 2 },
  /**
   * Streamed replies (server-sent events through the edge, proxy/stream.ts): their
   * `Mesh-Deadline` (the service ends them by then), and the longest silence,
   * heartbeats included, before the edge ends one (services beat every 10 s).
   */
  streams: { maxMs: 300_000, idleMs: 30_000 },
  /** The operations dashboard at `/_/`. */
  dashboard: true,
  /** Enforce the rate limit each service declares (`slo.rate_limit`). */
  serviceLimits: true,
  /** Which prefixes a service may claim: `own` (`/api/<name>` plus grants) or `any`. */
  prefixPolicy: "own",
  /** `Strict-Transport-Security` max-age; 0: not sent (only behind TLS). */
  hstsMaxAgeS: 0,
  /** Access tokens: who must have issued them, for whom, and where their keys come from. */
  auth: {
    enabled: true,
    issuer: "runnerly-accounts",
    audience: "runnerly",
    jwksSubject: "svc.accounts.rpc.jwks",
    jwksRefreshMs: 30_000,
  },
  rateLimit: {
    /** The NATS KV bucket every edge shares its token buckets in. */
    bucket: "edge_rate_limits",
    replicas: 1,
    /** A worker admits on its own at most this part of a shared bucket before hearing back (see middleware/ratelimit/limiter.ts). */
    localShare: 1 / 16,
    /** One KV operation longer than this and the limiter goes local for a while. */
    kvTimeoutMs: 500,
  },
} as const;
