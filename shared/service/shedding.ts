/**
 * Load shedding for a service instance: at most N requests (HTTP over NATS
 * and direct HTTP alike, since both go through the app) are handled at once;
 * one more gets a fast 503 problem with `Retry-After: 1` instead of waiting in
 * an unbounded queue. A fast 503 lets the edge retry a safe request on another
 * instance at once, where a queued request would only eat its deadline.
 *
 * The limiter is cockatiel's bulkhead with no queue, the same library the
 * edge uses for its breakers and backoff.
 */
import { BulkheadRejectedError, bulkhead } from "cockatiel";
import type { MiddlewareHandler } from "hono";
import { loadConfig, serviceConfigKeys } from "../config/index.ts";
import { MeshError } from "../errors/index.ts";

/** The environment key of this module, from the kit's service schema. */
export const sheddingConfigSchema = serviceConfigKeys.pick({ SERVICE_MAX_CONCURRENCY: true });

export type SheddingOptions = {
  /** Requests handled at once; 0 turns shedding off. */
  maxConcurrency: number;
  /** Paths never shed (health probes: a busy instance is still alive, and restarting it deepens an overload). */
  exempt?: readonly string[];
  /** Told of each refused request (the `runnerly_shed_total` metric). */
  onShed?: () => void;
};

/**
 * Reads `SERVICE_MAX_CONCURRENCY` (default 64) from an environment record;
 * a bad value throws the kit's `ConfigError` naming the key.
 *
 * @example
 * sheddingOptionsFromEnv({ SERVICE_MAX_CONCURRENCY: "4" }); // { maxConcurrency: 4 }
 */
export function sheddingOptionsFromEnv(env: Record<string, string | undefined>): SheddingOptions {
  return { maxConcurrency: loadConfig(sheddingConfigSchema, env).SERVICE_MAX_CONCURRENCY };
}

/**
 * Middleware that lets `maxConcurrency` requests run at once and answers the
 * rest with 503 + `Retry-After: 1` straight away. Requests to `exempt` paths
 * are neither counted nor shed.
 *
 * @example
 * app.use("*", loadShedding({ maxConcurrency: 64, exempt: ["/api/runs/healthz"] }));
 */
export const loadShedding = (options: SheddingOptions): MiddlewareHandler => {
  const exempt = new Set(options.exempt ?? []);
  if (options.maxConcurrency <= 0) {
    return async function loadSheddingOff(_c, next) {
      await next();
    };
  }
  // No queue: a request that cannot start now is refused now.
  const policy = bulkhead(options.maxConcurrency, 0);
  return async function loadSheddingMiddleware(c, next) {
    if (exempt.has(c.req.path)) return next();
    try {
      await policy.execute(() => next());
    } catch (err) {
      if (!(err instanceof BulkheadRejectedError)) throw err;
      options.onShed?.();
      const detail = `The service is handling ${options.maxConcurrency} requests already; try again shortly.`;
      return new MeshError(503, { detail, headers: { "retry-after": "1" } }).toResponse(c.req.path);
    }
  };
};
