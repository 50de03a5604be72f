/**
 * The edge's configuration, read from the environment and validated with zod:
 * the kit's keys every program on the mesh reads (`meshConfigKeys`: NATS and
 * LOG_LEVEL) extended with the edge's own, each defaulting from defaults.ts.
 * A bad environment stops start-up with the kit's one message naming every
 * bad key (`loadOrExit`).
 */
import {
  alongsideBadKeys,
  ConfigError,
  loadConfig as loadWithSchema,
  meshConfigKeys,
  natsCredentialRules,
  natsServers,
  REVOKED_SESSIONS_BUCKET,
} from "@runnerly/kit/web";
import { z } from "zod";
import type { EdgeOptions } from "./app.ts";
import { EDGE_DEFAULTS as D } from "./defaults.ts";
import { normalizePrefix } from "./discovery/registration.ts";
import { parseTrustedProxies } from "./middleware/ratelimit/client-address.ts";
import { parseRateLimits, type RatePolicy } from "./middleware/ratelimit/policy.ts";
import type { RouteTimeout } from "./proxy/resilience/deadline.ts";

export { ConfigError };

const millis = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const count = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const MAX_TIMEOUT_MS = 300_000;

/**
 * `/api/runs=2000,/api/stats/reports=8000` → a value per route prefix (a
 * prefix is a path; ms within 1…300000); with `off`, `off` reads as 0.
 */
const prefixMillis = (example: string, off: boolean) =>
  z
    .string()
    .default("")
    .transform(function parsePrefixMillis(value, ctx): RouteTimeout[] {
      const out: RouteTimeout[] = [];
      for (const part of value
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const m = /^(\/[^\s=?#]*)=(\d+|off)$/.exec(part);
        const ms = m?.[2] === "off" && off ? 0 : Number(m?.[2]);
        if (!m?.[1] || !((ms >= 1 || (off && ms === 0)) && ms <= MAX_TIMEOUT_MS)) {
          const range = `ms 1..${MAX_TIMEOUT_MS}${off ? " or off" : ""}`;
          ctx.addIssue({
            code: "custom",
            message: `must be prefix=ms pairs like ${example} (${range}); bad: ${part}`,
          });
          return z.NEVER;
        }
        out.push({ prefix: m[1], ms });
      }
      return out;
    });

/** `https://a.example, https://b.example` or `*` → origins. */
const origins = z
  .string()
  .default("")
  .transform(function parseOrigins(value, ctx): string[] {
    const list = value
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    for (const o of list) {
      if (o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o)) {
        ctx.addIssue({ code: "custom", message: `must be * or origins like https://app.example; bad: ${o}` });
        return z.NEVER;
      }
    }
    return list;
  });

/** `default=100/60s; /api/accounts/login=5/60s` → rate-limit policies (middleware/ratelimit/policy.ts); empty or `off`: none. */
const rateLimits = z
  .string()
  .default("")
  .transform(function parseRateLimitsKey(value, ctx): RatePolicy[] {
    try {
      return parseRateLimits(value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  });

/** `web=/,legacy=/v1/legacy` → prefixes a service may claim besides `/api/<name>`. */
const prefixGrants = z
  .string()
  .default("")
  .transform(function parsePrefixGrants(value, ctx): Record<string, string[]> {
    const grants: Record<string, string[]> = {};
    for (const part of value
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)) {
      const m = /^([A-Za-z0-9_-]+)=(\/\S*)$/.exec(part);
      const prefix = m?.[2] ? normalizePrefix(m[2]) : null;
      if (!m?.[1] || !prefix) {
        ctx.addIssue({
          code: "custom",
          message: `must be name=/prefix pairs like web=/ or legacy=/v1/legacy; bad: ${part}`,
        });
        return z.NEVER;
      }
      grants[m[1]] = [...(grants[m[1]] ?? []), prefix];
    }
    return grants;
  });

/** `10.0.0.0/8, 192.168.1.7, fd00::/8` → proxies whose X-Forwarded-For is believed. */
const trustedProxies = z
  .string()
  .default("")
  .transform(function parseTrustedProxiesKey(value, ctx): string[] {
    const list = value
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    try {
      parseTrustedProxies(list);
      return list;
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        message: `must be addresses or CIDR ranges, comma-separated; ${String(err)}`,
      });
      return z.NEVER;
    }
  });

const onOff = (on: boolean) => z.enum(["on", "off"]).default(on ? "on" : "off");
const list = (value: string) => value.split(",").map((s) => s.trim());
const bucketName = (fallback: string) =>
  z
    .string()
    .regex(/^[-\w]+$/, "must be a KV bucket name (letters, digits, - and _) or off")
    .default(fallback);

/**
 * Every key the edge reads. Documented in README.md's Configuration tables,
 * which tests/readme-config.test.ts checks against this schema.
 */
export const edgeConfigKeys = meshConfigKeys.extend({
  /** The Deno and workerd edge's NATS servers (nats-server's websocket listener); the Bun edge uses NATS_URL. */
  NATS_WS_URL: natsServers("websocket").transform(list).optional(),
  /** Worker processes of the Bun edge sharing the port; unset: one per core (edge/main.ts). */
  EDGE_WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  EDGE_HOST: z.string().min(1).default(D.listen.host),
  EDGE_PORT: z.coerce.number().int().min(0).max(65535).default(D.listen.port),
  EDGE_TIMEOUT_MS: millis(D.requestTimeoutMs, MAX_TIMEOUT_MS),
  EDGE_ROUTE_TIMEOUTS: prefixMillis("/api/runs=2000", false),
  EDGE_SWEEP_INTERVAL_MS: millis(D.sweepIntervalMs, 60_000),
  EDGE_TRY_TIMEOUT_MIN_MS: millis(D.retry.perTryMinMs, MAX_TIMEOUT_MS),
  EDGE_RETRY_ATTEMPTS: count(D.retry.maxAttempts, 1, 10),
  EDGE_RETRY_BACKOFF_MS: millis(D.retry.backoffMs, 60_000),
  EDGE_RETRY_BACKOFF_MAX_MS: millis(D.retry.backoffMaxMs, 60_000),
  EDGE_RETRY_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(D.retry.budgetRatio),
  EDGE_RETRY_BUDGET_MIN: count(D.retry.budgetMinRetries, 0, 1_000_000),
  EDGE_RETRY_BUDGET_WINDOW_MS: millis(D.retry.budgetWindowMs, 600_000),
  EDGE_BREAKER_FAILURES: count(D.breaker.failures, 1, 1_000_000),
  EDGE_BREAKER_HALF_OPEN_MS: millis(D.breaker.halfOpenAfterMs, 600_000),
  EDGE_OUTLIER_FAILURES: count(D.outlier.failures, 1, 1000),
  EDGE_OUTLIER_EJECT_MS: millis(D.outlier.ejectMs, 3_600_000),
  EDGE_OUTLIER_MAX_EJECT_MS: millis(D.outlier.maxEjectMs, 3_600_000),
  EDGE_OUTLIER_MAX_EJECTED_PERCENT: count(D.outlier.maxEjectedPercent, 0, 100),
  /** `on` (default): a request that may be retried gets a second try when the first is slow; `off`: never. */
  EDGE_HEDGE: onOff(D.hedge.enabled),
  EDGE_HEDGE_MIN_MS: millis(D.hedge.minMs, MAX_TIMEOUT_MS),
  EDGE_HEDGE_MAX_MS: millis(D.hedge.maxMs, MAX_TIMEOUT_MS),
  /** `/api/stats/reports=off,/api/runs=20`: a fixed hedge delay, or none, per route prefix. */
  EDGE_ROUTE_HEDGE: prefixMillis("/api/runs=20 or /api/stats/reports=off", true),
  EDGE_CACHE_MAX_ENTRIES: count(D.cache.maxEntries, 0, 10_000_000),
  EDGE_CACHE_MAX_BYTES: count(D.cache.maxBytes, 0, 2 ** 40),
  EDGE_CACHE_MAX_STALE_MS: count(D.cache.maxStaleMs, 0, 7 * 24 * 3_600_000),
  EDGE_MAX_BODY_BYTES: count(D.limits.maxBodyBytes, 0, 2 ** 40),
  EDGE_MAX_HEADER_BYTES: count(D.limits.maxHeaderBytes, 256, 1024 * 1024),
  EDGE_MAX_URL_BYTES: count(D.limits.maxUrlBytes, 64, 1024 * 1024),
  /** How long a request body may take to arrive in full; later: 408 (the client's fault, not its service's). */
  EDGE_BODY_TIMEOUT_MS: millis(D.limits.bodyTimeoutMs, 120_000),
  /** Bodies of at least this many bytes are large uploads, admitted a few at a time (0: no such limit). */
  EDGE_LARGE_BODY_BYTES: count(D.largeBodies.bytes, 0, 2 ** 40),
  /** Large uploads one caller may have in flight to one service; more: 429. */
  EDGE_LARGE_BODIES_PER_CALLER: count(D.largeBodies.perCaller, 1, 1000),
  /** Large uploads in flight to a service, per instance of it; more: 503. */
  EDGE_LARGE_BODIES_PER_INSTANCE: count(D.largeBodies.perInstance, 1, 1000),
  /** `Mesh-Deadline` of a request whose client takes server-sent events: its stream ends by then. */
  EDGE_STREAM_MAX_MS: millis(D.streams.maxMs, 86_400_000),
  /** A stream silent this long (no event, no heartbeat: its service is gone) is ended for its client. */
  EDGE_STREAM_IDLE_MS: z.coerce.number().int().min(1000).max(600_000).default(D.streams.idleMs),
  EDGE_CORS_ORIGINS: origins,
  EDGE_HSTS_MAX_AGE_S: count(D.hstsMaxAgeS, 0, 2 * 365 * 24 * 3600),
  /** `on` (default): verify bearer tokens and name the caller; `off`: forward every request anonymously. */
  EDGE_AUTH: onOff(D.auth.enabled),
  EDGE_AUTH_ISSUER: z.string().min(1).default(D.auth.issuer),
  EDGE_AUTH_AUDIENCE: z.string().min(1).default(D.auth.audience),
  /** The RPC subject answering with the JWKS (the accounts service's `jwks` method). */
  EDGE_AUTH_JWKS_SUBJECT: z.string().min(1).default(D.auth.jwksSubject),
  EDGE_AUTH_JWKS_REFRESH_MS: millis(D.auth.jwksRefreshMs, 3_600_000),
  /** The NATS KV bucket of ended sessions whose tokens are refused (the accounts service writes it); `off`: none. */
  EDGE_AUTH_REVOKED_BUCKET: bucketName(REVOKED_SESSIONS_BUCKET),
  EDGE_RATE_LIMITS: rateLimits,
  EDGE_TRUSTED_PROXIES: trustedProxies,
  /**
   * A header naming the client's address, set by the platform in front of the edge, which
   * replaces any a client sends (Cloudflare: `cf-connecting-ip`). For runtimes that give the
   * edge no peer address (workerd); never set it where clients can reach the edge directly.
   */
  EDGE_PEER_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, "must be a header name like cf-connecting-ip")
    .transform((h) => h.toLowerCase())
    .optional(),
  /** The NATS KV bucket the edges share buckets in; `off`: each worker limits alone. */
  EDGE_RATE_LIMIT_BUCKET: bucketName(D.rateLimit.bucket),
  EDGE_RATE_LIMIT_REPLICAS: count(D.rateLimit.replicas, 1, 5),
  /** `on` (default): enforce the rate limit each service declares (`slo.rate_limit`); `off`: only EDGE_RATE_LIMITS. */
  EDGE_SERVICE_LIMITS: onOff(D.serviceLimits),
  /** `own` (default): a service may claim only `/api/<name>` (plus grants); `any`: whatever it announces. */
  EDGE_PREFIX_POLICY: z.enum(["own", "any"]).default(D.prefixPolicy),
  EDGE_PREFIX_GRANTS: prefixGrants,
  /** The operations dashboard at `/_/`: `on`/`1` (default) or `off`/`0`. */
  EDGE_DASHBOARD: z
    .enum(["on", "off", "1", "0", "true", "false"])
    .default(D.dashboard ? "on" : "off")
    .transform((v) => v === "on" || v === "1" || v === "true"),
});

function hedgeWithinBounds(
  c: { EDGE_HEDGE_MIN_MS: number; EDGE_HEDGE_MAX_MS: number },
  ctx: z.RefinementCtx,
) {
  if (c.EDGE_HEDGE_MIN_MS > c.EDGE_HEDGE_MAX_MS)
    ctx.addIssue({
      code: "custom",
      path: ["EDGE_HEDGE_MIN_MS"],
      message: "must not exceed EDGE_HEDGE_MAX_MS",
    });
}

/** The edge on Bun: NATS over TCP (`NATS_URL`). */
export const EdgeConfigSchema = edgeConfigKeys
  .superRefine(natsCredentialRules, alongsideBadKeys)
  .superRefine(hedgeWithinBounds);

export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;

const noFiles = (use: string) =>
  z.undefined({ error: `is a file path, which this runtime cannot read: ${use}` }).optional();

/**
 * The edge on Deno and workerd: NATS over WebSocket, so `NATS_WS_URL` is
 * required; these runtimes read no files, so file keys are refused rather
 * than ignored (wss:// uses the platform's TLS).
 */
export const WsEdgeConfigSchema = edgeConfigKeys
  .extend({
    NATS_WS_URL: natsServers("websocket").transform(list),
    NATS_CREDS: noFiles("use NATS_USER/NATS_PASS or NATS_TOKEN"),
    NATS_TLS_CA: noFiles("use a wss:// URL whose certificate the platform trusts"),
    NATS_TLS_CERT: noFiles("use NATS_USER/NATS_PASS or NATS_TOKEN"),
    NATS_TLS_KEY: noFiles("use NATS_USER/NATS_PASS or NATS_TOKEN"),
  })
  .superRefine(natsCredentialRules, alongsideBadKeys)
  .superRefine(hedgeWithinBounds);

export type WsEdgeConfig = z.infer<typeof WsEdgeConfigSchema>;

/**
 * Reads the Bun edge's configuration from an environment record: the kit's
 * `loadConfig` with `EdgeConfigSchema` (empty values count as unset).
 *
 * @example
 * const config = loadConfig(process.env); // throws ConfigError listing every bad key
 */
export function loadConfig(env: Record<string, string | undefined>): EdgeConfig {
  return loadWithSchema(EdgeConfigSchema, env, "edge");
}

/**
 * The `createEdge` options an environment asks for (everything but the NATS
 * connection, the logger and the metrics, which the entry provides).
 *
 * @example
 * const edge = createEdge({ nc, logger, metrics: createPromMetrics(), ...edgeOptionsFromConfig(config) });
 */
export function edgeOptionsFromConfig(c: EdgeConfig): Omit<EdgeOptions, "nc" | "logger" | "metrics"> {
  return {
    requestTimeoutMs: c.EDGE_TIMEOUT_MS,
    routeTimeouts: c.EDGE_ROUTE_TIMEOUTS,
    sweepIntervalMs: c.EDGE_SWEEP_INTERVAL_MS,
    retry: {
      maxAttempts: c.EDGE_RETRY_ATTEMPTS,
      perTryMinMs: c.EDGE_TRY_TIMEOUT_MIN_MS,
      backoffMs: c.EDGE_RETRY_BACKOFF_MS,
      backoffMaxMs: c.EDGE_RETRY_BACKOFF_MAX_MS,
      budgetRatio: c.EDGE_RETRY_BUDGET_RATIO,
      budgetMinRetries: c.EDGE_RETRY_BUDGET_MIN,
      budgetWindowMs: c.EDGE_RETRY_BUDGET_WINDOW_MS,
    },
    breaker: { failures: c.EDGE_BREAKER_FAILURES, halfOpenAfterMs: c.EDGE_BREAKER_HALF_OPEN_MS },
    outlier: {
      failures: c.EDGE_OUTLIER_FAILURES,
      ejectMs: c.EDGE_OUTLIER_EJECT_MS,
      maxEjectMs: c.EDGE_OUTLIER_MAX_EJECT_MS,
      maxEjectedPercent: c.EDGE_OUTLIER_MAX_EJECTED_PERCENT,
    },
    hedge: { enabled: c.EDGE_HEDGE === "on", minMs: c.EDGE_HEDGE_MIN_MS, maxMs: c.EDGE_HEDGE_MAX_MS },
    routeHedges: c.EDGE_ROUTE_HEDGE,
    cache: {
      maxEntries: c.EDGE_CACHE_MAX_ENTRIES,
      maxBytes: c.EDGE_CACHE_MAX_BYTES,
      maxStaleMs: c.EDGE_CACHE_MAX_STALE_MS,
    },
    limits: {
      maxBodyBytes: c.EDGE_MAX_BODY_BYTES,
      maxHeaderBytes: c.EDGE_MAX_HEADER_BYTES,
      maxUrlBytes: c.EDGE_MAX_URL_BYTES,
      bodyTimeoutMs: c.EDGE_BODY_TIMEOUT_MS,
    },
    largeBodies: {
      bytes: c.EDGE_LARGE_BODY_BYTES,
      perCaller: c.EDGE_LARGE_BODIES_PER_CALLER,
      perInstance: c.EDGE_LARGE_BODIES_PER_INSTANCE,
    },
    streams: { maxMs: c.EDGE_STREAM_MAX_MS, idleMs: c.EDGE_STREAM_IDLE_MS },
    corsOrigins: c.EDGE_CORS_ORIGINS,
    hstsMaxAgeSeconds: c.EDGE_HSTS_MAX_AGE_S,
    dashboard: c.EDGE_DASHBOARD,
    ...(c.EDGE_PEER_HEADER ? { peerAddress: peerFromHeader(c.EDGE_PEER_HEADER) } : {}),
    claims: { mode: c.EDGE_PREFIX_POLICY, grants: c.EDGE_PREFIX_GRANTS },
    serviceLimits: c.EDGE_SERVICE_LIMITS === "on",
    rateLimits: {
      policies: c.EDGE_RATE_LIMITS,
      trustedProxies: c.EDGE_TRUSTED_PROXIES,
      bucket: c.EDGE_RATE_LIMIT_BUCKET === "off" ? null : c.EDGE_RATE_LIMIT_BUCKET,
      replicas: c.EDGE_RATE_LIMIT_REPLICAS,
    },
    ...(c.EDGE_AUTH === "on"
      ? {
          auth: {
            issuer: c.EDGE_AUTH_ISSUER,
            audience: c.EDGE_AUTH_AUDIENCE,
            typ: "at+jwt",
            jwks: { subject: c.EDGE_AUTH_JWKS_SUBJECT, refreshMs: c.EDGE_AUTH_JWKS_REFRESH_MS },
            revokedSessionsBucket: c.EDGE_AUTH_REVOKED_BUCKET === "off" ? null : c.EDGE_AUTH_REVOKED_BUCKET,
          },
        }
      : {}),
  };
}

/**
 * The longest time a request may take, for server settings that must outlive
 * it (Bun.serve's `idleTimeout`, a graceful stop's grace period): its body's
 * time to arrive, then its service's time to answer.
 *
 * @example
 * Bun.serve({ idleTimeout: Math.min(255, Math.ceil(longestTimeoutMs(config) / 1000) + 5), … });
 */
export function longestTimeoutMs(c: EdgeConfig): number {
  return c.EDGE_BODY_TIMEOUT_MS + Math.max(c.EDGE_TIMEOUT_MS, ...c.EDGE_ROUTE_TIMEOUTS.map((r) => r.ms));
}

/**
 * Reads the client's address from a header the platform sets (`EDGE_PEER_HEADER`).
 *
 * @example
 * peerFromHeader("cf-connecting-ip")(req); // "203.0.113.9"
 */
export function peerFromHeader(header: string): (req: Request) => string | null {
  return (req) => req.headers.get(header)?.trim() || null;
}
