/**
 * The edge's rate limiting as a Hono middleware: the request's policy by path
 * (longest prefix, else `default`), its caller (the verified user when there
 * is one, except on public routes, else the client address), one token from that caller's bucket.
 * Refused: a 429 problem with `RateLimit-Policy`, `RateLimit` and
 * `Retry-After`. Admitted: the same two fields on the response. The limiter
 * never fails a request: if it breaks, the request goes through (logged).
 * Web standards only.
 */
import { isPublicRoute, type Logger, MeshError } from "@runnerly/kit/web";
import type { Context, MiddlewareHandler } from "hono";
import type { Route } from "../../discovery/route-table.ts";
import type { EdgeEnv } from "../request-context/index.ts";
import { clientAddressOf, type TrustedProxies } from "./client-address.ts";
import type { Decision, RateLimiter } from "./limiter.ts";
import { policyField, policyFor, type RatePolicy, rateLimitField } from "./policy.ts";

export type RateLimitMiddlewareOptions = {
  policies: readonly RatePolicy[];
  /** The limit the service owning a request's route declares; a configured policy on a longer prefix wins. */
  declared?: ((route: Route) => RatePolicy | null) | undefined;
  limiter: RateLimiter;
  trustedProxies: TrustedProxies;
  /** The peer address the runtime saw (Hono's `c.env` is passed along: Bun's server); none: unknown. */
  peerAddress?: ((req: Request, env: unknown) => string | null | undefined) | undefined;
  logger: Logger;
};

const RATE_LIMITED = "https://runnerly.dev/problems/rate-limited";

/**
 * Rate limits requests whose path falls under a policy; a request whose
 * caller cannot be told apart (no user, no known address) is not limited.
 * Runs after `resolve`, whose route and caller it reads.
 *
 * @example
 * app.use(resolve(table, authenticator));
 * app.use(rateLimit({ policies, limiter, trustedProxies, peerAddress, logger }));
 */
export const rateLimit = (options: RateLimitMiddlewareOptions): MiddlewareHandler<EdgeEnv> => {
  const { policies, limiter, trustedProxies, logger } = options;

  /**
   * The verified user, else the client address, else null (cannot be told
   * apart). On a public route (log in, sign up) always the address: there a
   * token proves nothing the route needs, and keying by it would let anyone
   * holding many accounts' tokens spend each one's quota (and a victim's
   * quota be spent by whoever borrows her token).
   */
  function callerOf(c: Context<EdgeEnv>): string | null {
    const caller = c.get("caller");
    if ("user" in caller && caller.user && !onPublicRoute(c)) return `user:${caller.user}`;
    const address = clientAddressOf(c, options.peerAddress, trustedProxies);
    return address ? `addr:${address}` : null;
  }

  return async function rateLimitMiddleware(c, next) {
    const route = c.get("route");
    const declared = route && options.declared ? options.declared(route) : null;
    // Hono's path is percent-decoded as a service's router sees it: `/api/accounts/%6cogin` is the login.
    const policy = effectivePolicy(policies.length > 0 ? policyFor(c.req.path, policies) : null, declared);
    if (!policy) return next();
    let decision: Decision | null = null;
    try {
      const caller = callerOf(c);
      if (caller) decision = await limiter.check(policy, caller);
    } catch (err) {
      logger.error({ err: String(err), path: c.req.path }, "rate limiter failed; request let through");
    }
    if (!decision) return next();
    const fields = {
      "ratelimit-policy": policyField(policy),
      ratelimit: rateLimitField(policy, decision.remaining, decision.resetSeconds),
    };
    if (!decision.allowed) {
      const detail = `Too many requests: ${policy.limit} per ${policy.windowMs / 1000} s under policy "${policy.name}". Retry after ${decision.retryAfterSeconds} s.`;
      const headers = { ...fields, "retry-after": String(decision.retryAfterSeconds) };
      return new MeshError(429, { detail, type: RATE_LIMITED, headers }).toResponse(c.req.path);
    }
    await next();
    for (const [name, value] of Object.entries(fields)) c.res.headers.set(name, value);
  };
};

/** True when the service lists the route as public, as received or as its router reads it (percent-decoded). */
function onPublicRoute(c: Context<EdgeEnv>): boolean {
  const route = c.get("route");
  if (!route) return false;
  const { method } = c.req;
  return (
    isPublicRoute(route.publicRoutes, method, c.get("path")) ||
    isPublicRoute(route.publicRoutes, method, c.req.path)
  );
}

/** The configured policy, unless the service's declared one covers a longer prefix (a `default` covers none). */
function effectivePolicy(configured: RatePolicy | null, declared: RatePolicy | null): RatePolicy | null {
  if (!declared) return configured;
  if (!configured?.prefix || configured.prefix.length < (declared.prefix?.length ?? 0)) return declared;
  return configured;
}
