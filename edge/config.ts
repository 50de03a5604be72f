/**
 * The edge's configuration, read from the environment and validated with zod.
 * A bad environment stops start-up with one message naming every bad key.
 * (Moves to the kit's config module once it exists.)
 */
import { REVOKED_SESSIONS_BUCKET } from "@runnerly/kit/web";
import { z } from "zod";
import type { EdgeOptions } from "./app.ts";
import { EDGE_DEFAULTS as D } from "./defaults.ts";
import { normalizePrefix } from "./discovery/registration.ts";
import { parseTrustedProxies } from "./middleware/ratelimit/client-address.ts";
import { parseRateLimits, type RatePolicy } from "./middleware/ratelimit/policy.ts";
import { DEFAULT_LARGE_BODIES } from "./proxy/large-bodies.ts";
import type { RouteTimeout } from "./proxy/resilience/deadline.ts";

const optionalString = z.string().min(1).optional();
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

/** The environment the edge reads; every key is documented in the README of `edge/`. */
export const EdgeConfigSchema = z
  .object({
    NATS_URL: z
      .string()
      .default("nats://127.0.0.1:4222")
      .refine(isServerList, "must be a comma-separated list of nats:// or tls:// URLs (or host:port)"),
    NATS_USER: optionalString,
    NATS_PASS: optionalString,
    NATS_TOKEN: optionalString,
    /** Path to a `.creds` file (JWT + nkey seed). */
    NATS_CREDS: optionalString,
    /** TLS to NATS: the CA's PEM file and, for servers that verify clients, a client certificate and key. */
    NATS_TLS_CA: optionalString,
    NATS_TLS_CERT: optionalString,
    NATS_TLS_KEY: optionalString,
    EDGE_HOST: z.string().min(1).default("127.0.0.1"),
    EDGE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
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
    EDGE_HEDGE: z.enum(["on", "off"]).default(D.hedge.enabled ? "on" : "off"),
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
    EDGE_LARGE_BODY_BYTES: count(DEFAULT_LARGE_BODIES.bytes, 0, 2 ** 40),
    /** Large uploads one caller may have in flight to one service; more: 429. */
    EDGE_LARGE_BODIES_PER_CALLER: count(DEFAULT_LARGE_BODIES.perCaller, 1, 1000),
    /** Large uploads in flight to a service, per instance of it; more: 503. */
    EDGE_LARGE_BODIES_PER_INSTANCE: count(DEFAULT_LARGE_BODIES.perInstance, 1, 1000),
    EDGE_CORS_ORIGINS: origins,
    EDGE_HSTS_MAX_AGE_S: count(0, 0, 2 * 365 * 24 * 3600),
    /** `on` (default): verify bearer tokens and name the caller; `off`: forward every request anonymously. */
    EDGE_AUTH: z.enum(["on", "off"]).default("on"),
    EDGE_AUTH_ISSUER: z.string().min(1).default("runnerly-accounts"),
    EDGE_AUTH_AUDIENCE: z.string().min(1).default("runnerly"),
    /** The RPC subject answering with the JWKS (the accounts service's `jwks` method). */
    EDGE_AUTH_JWKS_SUBJECT: z.string().min(1).default("svc.accounts.rpc.jwks"),
    EDGE_AUTH_JWKS_REFRESH_MS: millis(30_000, 3_600_000),
    /** The NATS KV bucket of ended sessions whose tokens are refused (the accounts service writes it); `off`: none. */
    EDGE_AUTH_REVOKED_BUCKET: z
      .string()
      .regex(/^[-\w]+$/, "must be a KV bucket name (letters, digits, - and _) or off")
      .default(REVOKED_SESSIONS_BUCKET),
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
    EDGE_RATE_LIMIT_BUCKET: z
      .string()
      .regex(/^[-\w]+$/, "must be a KV bucket name (letters, digits, - and _) or off")
      .default(D.rateLimit.bucket),
    EDGE_RATE_LIMIT_REPLICAS: count(D.rateLimit.replicas, 1, 5),
    /** `on` (default): enforce the rate limit each service declares (`slo.rate_limit`); `off`: only EDGE_RATE_LIMITS. */
    EDGE_SERVICE_LIMITS: z.enum(["on", "off"]).default("on"),
    /** `own` (default): a service may claim only `/api/<name>` (plus grants); `any`: whatever it announces. */
    EDGE_PREFIX_POLICY: z.enum(["own", "any"]).default("own"),
    EDGE_PREFIX_GRANTS: prefixGrants,
    /** The operations dashboard at `/_/`: `on`/`1` (default) or `off`/`0`. */
    EDGE_DASHBOARD: z
      .enum(["on", "off", "1", "0", "true", "false"])
      .default("on")
      .transform((v) => v === "on" || v === "1" || v === "true"),
  })
  .superRefine(function credentialsComeInPairs(c, ctx) {
    if (c.EDGE_HEDGE_MIN_MS > c.EDGE_HEDGE_MAX_MS)
      ctx.addIssue({
        code: "custom",
        path: ["EDGE_HEDGE_MIN_MS"],
        message: "must not exceed EDGE_HEDGE_MAX_MS",
      });
    if (c.NATS_PASS && !c.NATS_USER)
      ctx.addIssue({ code: "custom", path: ["NATS_USER"], message: "is required with NATS_PASS" });
    if (c.NATS_USER && !c.NATS_PASS)
      ctx.addIssue({ code: "custom", path: ["NATS_PASS"], message: "is required with NATS_USER" });
  });

export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;

/** Thrown by `loadConfig`; `problems` has one entry per bad key. */
export class ConfigError extends Error {
  constructor(readonly problems: { key: string; message: string }[]) {
    super(`Invalid edge configuration: ${problems.map((p) => `${p.key} ${p.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads the edge's configuration from an environment record. Empty values
 * count as unset (compose files often pass `KEY=`), so defaults apply.
 *
 * @example
 * const config = loadConfig(process.env); // throws ConfigError listing every bad key
 */
export function loadConfig(env: Record<string, string | undefined>): EdgeConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""),
  );
  const result = EdgeConfigSchema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      key: issue.path.map(String).join(".") || "(environment)",
      message: `${issue.message} (got ${JSON.stringify(present[String(issue.path[0])] ?? null)})`,
    })),
  );
}

function isServerList(value: string): boolean {
  return value.split(",").every((part) => {
    const s = part.trim();
    if (/^[A-Za-z0-9.-]+:\d{1,5}$/.test(s)) return true;
    try {
      const url = new URL(s);
      return (url.protocol === "nats:" || url.protocol === "tls:") && url.hostname !== "";
    } catch {
      return false;
    }
  });
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
