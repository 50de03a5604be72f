/**
 * Rate limiting at the edge, assembled from `createEdge`'s options: policies
 * per route group, buckets per verified user or client address, shared by
 * every edge through a NATS KV bucket with a local fast path (limiter.ts),
 * `X-Forwarded-For` believed only from trusted proxies (client-address.ts).
 * Web standards only.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "@runnerly/kit/web";
import type { MiddlewareHandler } from "hono";
import { EDGE_DEFAULTS } from "../../defaults.ts";
import type { Route } from "../../discovery/route-table.ts";
import type { EdgeEnv } from "../request-context/index.ts";
import { parseTrustedProxies } from "./client-address.ts";
import { RateLimiter } from "./limiter.ts";
import { rateLimit } from "./middleware.ts";
import type { RatePolicy } from "./policy.ts";
import { KvBuckets } from "./shared-buckets.ts";

export { parseTrustedProxies } from "./client-address.ts";
export { parseRateLimits, type RatePolicy } from "./policy.ts";

/** `createEdge`'s `rateLimits` option. */
export type RateLimitOptions = {
  /** Quotas by route group (`parseRateLimits`); none: no limiting. */
  policies: RatePolicy[];
  /** Proxies (addresses, CIDR ranges) whose `X-Forwarded-For` is believed (`EDGE_TRUSTED_PROXIES`). */
  trustedProxies?: string[];
  /** The NATS KV bucket every edge shares (default `edge_rate_limits`); null: each worker limits alone. */
  bucket?: string | null;
  /** Replicas of that bucket when this edge creates it (default 1; 3 in a cluster). */
  replicas?: number;
  /** Part of a shared bucket a worker may admit from before it hears back (default 1/16). */
  localShare?: number;
};

export type RateLimitingContext = {
  nc: NatsConnection;
  logger: Logger;
  /** The peer address the runtime saw; without it anonymous requests are not limited. */
  peerAddress?: ((req: Request, env: unknown) => string | null | undefined) | undefined;
  /** The limit the service owning a route declares in its contract (`slo.rate_limit`), if any. */
  declared?: ((route: Route) => RatePolicy | null) | undefined;
};

/**
 * The rate-limiting middleware for `options` and the limits services declare,
 * or null when neither can apply (then nothing is checked and no KV bucket is
 * touched). A configured policy for a longer prefix than the service's wins;
 * otherwise the service's declared limit applies to its whole prefix.
 *
 * @example
 * const limiting = createRateLimiting({ policies: parseRateLimits("default=100/60s") }, { nc, logger });
 * if (limiting) app.use(limiting);
 */
export function createRateLimiting(
  options: RateLimitOptions | undefined,
  context: RateLimitingContext,
): MiddlewareHandler<EdgeEnv> | null {
  const policies = options?.policies ?? [];
  if (policies.length === 0 && !context.declared) return null;
  const d = EDGE_DEFAULTS.rateLimit;
  const { nc, logger, peerAddress } = context;
  const bucket = options?.bucket === undefined ? d.bucket : options.bucket;
  const shared = bucket
    ? new KvBuckets({
        nc,
        bucket,
        replicas: options?.replicas ?? d.replicas,
        // Declared limits are not known in advance: keys live at least an hour.
        longestWindowMs: Math.max(3_600_000, ...policies.map((p) => p.windowMs)),
        timeoutMs: d.kvTimeoutMs,
      })
    : null;
  const limiter = new RateLimiter({ shared, logger, localShare: options?.localShare ?? d.localShare });
  if (!peerAddress && policies.length > 0) {
    logger.warn(
      {},
      "rate limits apply per verified user only: this runtime gives the edge no client address",
    );
  }
  return rateLimit({
    policies,
    declared: context.declared,
    limiter,
    trustedProxies: parseTrustedProxies(options?.trustedProxies ?? []),
    peerAddress,
    logger,
  });
}
