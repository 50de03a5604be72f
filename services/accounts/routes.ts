/**
 * HTTP routes of the accounts service (relative to `/api/accounts`). The
 * token routes and the JWKS are public (the edge lets them through without a
 * token); `/me` acts for the caller the edge verified.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import {
  createRouter,
  jsonBody,
  jsonResponse,
  MeshError,
  problemContent,
  problemResponses,
  requireUser,
} from "@runnerly/kit";
import type { Accounts } from "./accounts.ts";
import {
  Jwks,
  LoginInput,
  Profile,
  ProfilePatch,
  RefreshInput,
  SignupAccepted,
  SignupInput,
  TokenResponse,
} from "./contract.ts";
import type { KeyRing } from "./signing-keys.ts";

/** Routes the edge lets through without a verified caller (`publicRoutes` of the service). */
export const PUBLIC_ROUTES = [
  "POST /signup",
  "POST /login",
  "POST /refresh",
  "POST /logout",
  "GET /.well-known/jwks.json",
];

const invalid = problemResponses({ 400: "Invalid input" });
const body = <T extends z.ZodType>(schema: T) => ({ body: jsonBody(schema) });

export const signup = createRoute({
  method: "post",
  path: "/signup",
  summary: "Create an account (then log in)",
  description:
    "The same answer whether the email is new or already registered (then nothing changes and its owner is told), so sign-up does not reveal who has an account.",
  request: body(SignupInput),
  responses: {
    202: jsonResponse("Accepted; log in with these credentials", SignupAccepted),
    ...invalid,
  },
});
export const login = createRoute({
  method: "post",
  path: "/login",
  summary: "Log in with email and password",
  request: body(LoginInput),
  responses: {
    200: jsonResponse("Tokens", TokenResponse),
    401: { description: "Wrong email or password", content: problemContent },
    429: {
      description: "Too many failed log-ins for this email or from this address; see Retry-After",
      headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait" } },
      content: problemContent,
    },
    ...invalid,
  },
});
export const refresh = createRoute({
  method: "post",
  path: "/refresh",
  summary: "Exchange a refresh token (once) for new tokens",
  request: body(RefreshInput),
  responses: {
    200: jsonResponse("New tokens; the presented refresh token is used up", TokenResponse),
    401: { description: "Expired, used or revoked refresh token", content: problemContent },
    ...invalid,
  },
});
export const logout = createRoute({
  method: "post",
  path: "/logout",
  summary: "End the session of a refresh token, its access tokens included",
  request: body(RefreshInput),
  responses: {
    204: { description: "Logged out; every gateway refuses the session's access tokens within a second" },
    503: {
      description:
        "The session is ended but the gateways could not be told yet (NATS unavailable); it is retried, and a retried logout confirms it",
      content: problemContent,
    },
    ...invalid,
  },
});
export const getMe = createRoute({
  method: "get",
  path: "/me",
  summary: "The caller's profile",
  responses: {
    200: jsonResponse("Profile", Profile),
    401: { description: "No authenticated caller", content: problemContent },
    404: { description: "The caller's account no longer exists", content: problemContent },
  },
});
export const patchMe = createRoute({
  method: "patch",
  path: "/me",
  summary: "Change the caller's display name or weekly goal",
  request: body(ProfilePatch),
  responses: {
    200: jsonResponse("Updated profile", Profile),
    401: { description: "No authenticated caller", content: problemContent },
    404: { description: "The caller's account no longer exists", content: problemContent },
    ...invalid,
  },
});
export const jwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  summary: "Public keys that verify access tokens (JWKS, RFC 7517)",
  responses: { 200: jsonResponse("The key set", Jwks) },
});

// Token responses are secrets: never cached (RFC 6749 §5.1), and never stored by the
// kit's Idempotency-Key record, which would keep a refresh token in clear for a day.
const TOKEN_PATHS = ["/signup", "/login", "/refresh", "/logout"];
const NO_STORE = { "cache-control": "no-store" };

export function accountsRoutes(accounts: Accounts, keys: KeyRing) {
  const app = createRouter();

  app.use("*", async function refuseIdempotencyKey(c, next) {
    const path = c.req.path.slice(c.req.path.lastIndexOf("/"));
    if (c.req.header("idempotency-key") !== undefined && TOKEN_PATHS.includes(path)) {
      const message = "not accepted on token routes (their responses are secrets and are not recorded)";
      throw new MeshError(400, {
        detail: `header.Idempotency-Key ${message}`,
        errors: [{ path: "header.Idempotency-Key", message }],
      });
    }
    await next();
  });

  app.openapi(signup, async (c) => c.json(await accounts.signup(c.req.valid("json")), 202, NO_STORE));

  app.openapi(login, async (c) => {
    const { email, password } = c.req.valid("json");
    return c.json(await accounts.login(email, password, c.get("mesh").clientAddress), 200, NO_STORE);
  });

  app.openapi(refresh, async (c) =>
    c.json(await accounts.refresh(c.req.valid("json").refreshToken), 200, NO_STORE),
  );

  app.openapi(logout, async (c) => {
    await accounts.logout(c.req.valid("json").refreshToken);
    return c.body(null, 204, NO_STORE);
  });

  app.openapi(getMe, async (c) => c.json(await accounts.profile(requireUser(c)), 200));

  app.openapi(patchMe, async (c) => {
    const user = requireUser(c);
    return c.json(await accounts.updateProfile(user, c.req.valid("json")), 200);
  });

  // Short public caching: after a rotation, verifiers refetch on an unknown kid anyway.
  app.openapi(jwks, async (c) => c.json(await keys.jwks(), 200, { "cache-control": "public, max-age=300" }));

  return app;
}
