/**
 * Where a request goes and who sends it, decided once: the route owning its
 * path (longest prefix, on the path as received) and its caller (the verified
 * user, nobody, or the problem to answer with). Later steps read both from the
 * context: the rate limiter counts the request against its caller, the proxy
 * forwards it to the route's service in the caller's name. Web standards only.
 */
import type { MiddlewareHandler } from "hono";
import type { RouteView } from "../../discovery/route-table.ts";
import type { Authenticator, AuthResult } from "../auth/authenticate.ts";
import type { EdgeEnv } from "../request-context/index.ts";

const ANONYMOUS: AuthResult = { user: undefined };

/**
 * Sets `route`, `path`, `target` and `caller`. A request without a route, or
 * any request when the edge has no authenticator, has no caller (its token is
 * not looked at); the proxy answers it 404, or forwards it anonymously.
 *
 * @example
 * app.use(resolve(table, authenticator));
 * app.all("*", (c) => c.text(c.get("route")?.service ?? "none"));
 */
export const resolve = (
  routes: RouteView,
  authenticator: Authenticator | null,
): MiddlewareHandler<EdgeEnv> => {
  return async function resolveMiddleware(c, next) {
    const target = targetOf(c.req.url);
    const query = target.indexOf("?");
    const path = query < 0 ? target : target.slice(0, query);
    const route = routes.match(path);
    c.set("target", target);
    c.set("path", path);
    c.set("route", route);
    const caller = route && authenticator ? authenticator.check(c.req.raw, route, path) : ANONYMOUS;
    c.set("caller", caller instanceof Promise ? await caller : caller);
    await next();
  };
};

/**
 * The request target (path and query, no fragment) of an absolute request
 * URL. A `Request`'s URL is already parsed and normalised by every runtime
 * (dot segments resolved), so this is a slice, not a second parse.
 *
 * @example
 * targetOf("http://localhost:8787/api/runs/1?x=2#top"); // "/api/runs/1?x=2"
 */
export function targetOf(url: string): string {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  if (slash < 0) return "/";
  const hash = url.indexOf("#", slash);
  return hash < 0 ? url.slice(slash) : url.slice(slash, hash);
}
