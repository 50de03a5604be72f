/**
 * Shared set-up of the accounts tests: an instance on a real nats-server and a
 * real SQLite file, callers of its routes and RPC, and the edge's token check.
 */
import { expect } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { createRpcClient, type RunningService, silentLogger, startService } from "@runnerly/kit";
import { type MeshFetchInit, meshFetch } from "@runnerly/kit/testing";
import { createLocalJWKSet, type JWTVerifyResult, jwtVerify } from "jose";
import {
  ACCESS_TOKEN_TYP,
  accountsRpc,
  type Jwks,
  TOKEN_ALG,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenResponse,
} from "./contract.ts";
import type * as schema from "./db/schema.ts";
import { accountsService } from "./service.ts";

export type Instance = RunningService<typeof schema>;

/** Starts one accounts instance; several may share `dataDir` (one database file). */
export async function startAccounts(
  natsUrl: string,
  options: { dataDir?: string; env?: Record<string, string> } = {},
): Promise<Instance> {
  const env = {
    NATS_URL: natsUrl,
    DATA_DIR: options.dataDir ?? mkdtempSync(join(tmpdir(), "accounts-")),
    LOG_LEVEL: "silent",
    ...options.env,
  };
  return (await startService(accountsService(env), { env, logger: silentLogger })) as never;
}

/** Calls a route under `/api/accounts` through NATS, as the edge would. */
export const callWith =
  (nc: NatsConnection) =>
  (path: string, init: MeshFetchInit = {}) =>
    meshFetch(nc, "accounts", `/api/accounts${path}`, init);

/** The accounts RPC client (what the edge and `keys.ts` use). */
export const rpcOf = (nc: NatsConnection) => createRpcClient(nc, accountsRpc);

let counter = 0;
/** A new, unique email for each call. */
export const freshEmail = (tag = "runner") => `${tag}-${Date.now()}-${++counter}@example.com`;
export const PASSWORD = "correct Horse 7";

/** POSTs `json` to a route under `/api/accounts`, however a test reaches the service. */
export type AccountsPost = (path: string, json: unknown) => Response | Promise<Response>;

/** An `AccountsPost` over HTTP to the edge (or an instance) at `base`. */
export const postTo =
  (base: string): AccountsPost =>
  (path, json) =>
    fetch(`${base}/api/accounts${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
    });

/**
 * A new account's first tokens, as a client gets them: sign up (202, the same
 * answer for a taken email, no tokens), then log in.
 *
 * @example
 * const { accessToken, user } = await signUpAndLogIn(postTo(stack.url));
 */
export async function signUpAndLogIn(
  post: AccountsPost,
  email = freshEmail(),
  password = PASSWORD,
): Promise<TokenResponse> {
  const accepted = await post("/signup", { email, password });
  expect(accepted.status).toBe(202);
  const login = await post("/login", { email, password });
  expect(login.status).toBe(200);
  return (await login.json()) as TokenResponse;
}

/** Signs up a new account over NATS and logs it in; returns its tokens. */
export function signup(nc: NatsConnection, email = freshEmail()): Promise<TokenResponse> {
  return signUpAndLogIn((path, json) => callWith(nc)(path, { method: "POST", json }), email);
}

/** Verifies an access token the way the edge does: pinned alg, issuer, audience, type, expiry. */
export function verifyLikeEdge(token: string, jwks: Jwks): Promise<JWTVerifyResult> {
  return jwtVerify(token, createLocalJWKSet(jwks), {
    algorithms: [TOKEN_ALG],
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    typ: ACCESS_TOKEN_TYP,
    clockTolerance: 5,
  });
}
