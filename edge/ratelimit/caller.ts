/**
 * Who a request counts against: its verified user when it carries a valid
 * access token, else its client address. The token is checked once per
 * request: the rate limiter asks first and the proxy gets the same answer
 * (a verification costs ~100 µs of CPU). Web standards only.
 */
import type { AuthResult } from "../auth/authenticate.ts";
import { Authenticator } from "../auth/authenticate.ts";
import type { Route, RouteView } from "../route-table.ts";

/**
 * An Authenticator that remembers its answer for each Request object (weakly:
 * nothing outlives the request), so checking a request twice verifies once.
 *
 * @example
 * const auth = new CheckOnceAuthenticator(jwks, options);
 * await auth.check(req, route, path); // verifies
 * await auth.check(req, route, path); // the same answer, no second verification
 */
export class CheckOnceAuthenticator extends Authenticator {
  readonly #answers = new WeakMap<Request, Promise<AuthResult>>();

  override check(req: Request, route: Route, path: string): Promise<AuthResult> {
    let answer = this.#answers.get(req);
    if (!answer) {
      answer = super.check(req, route, path);
      this.#answers.set(req, answer);
    }
    return answer;
  }
}

/**
 * A function naming the verified user of a request, or null (no token, a
 * token that does not verify, no route, or no authenticator). It checks the
 * token exactly as the proxy will: same route, same raw path.
 *
 * @example
 * const userOf = verifiedUser(authenticator, table);
 * await userOf(c.req.raw); // "user-42" | null
 */
export function verifiedUser(
  authenticator: Authenticator | null,
  routes: RouteView,
): (req: Request) => Promise<string | null> {
  return async function userOf(req) {
    if (!authenticator || !req.headers.has("authorization")) return null;
    const path = new URL(req.url).pathname;
    const route = routes.match(path);
    if (!route) return null;
    const answer = await authenticator.check(req, route, path);
    return "user" in answer ? (answer.user ?? null) : null;
  };
}
