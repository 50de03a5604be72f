/**
 * Per-user limits through the edge with the real accounts service: a
 * verified user's quota follows the user across addresses and is apart from
 * other users and from anonymous requests at the same address; a token that
 * does not verify counts against the address, and so does any token on a
 * public route (logging in); and each request's token is
 * verified once though the limiter asks before the proxy.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, spyOn, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { fixtureService } from "@runnerly/kit/testing/fixture";
import { accountsService } from "../../../services/accounts/service.ts";
import { signUpAndLogIn } from "../../../services/accounts/test-support.ts";
import { createEdge, type Edge } from "../../app.ts";
import { JwksCache } from "../auth/jwks.ts";
import { parseRateLimits } from "./policy.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
let services: RunningService<Record<string, unknown>>[] = [];
let edge: Edge;

const env = (p: string) => ({
  NATS_URL: nats.url,
  DATA_DIR: mkdtempSync(join(tmpdir(), p)),
  LOG_LEVEL: "silent",
});

/** A request from `peer` with an optional bearer token. */
function from(peer: string, path: string, token?: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return edge.app.fetch(new Request(`http://edge${path}`, { ...init, headers }), { peer });
}

const post = (peer: string, path: string, json: unknown, token?: string) =>
  from(peer, path, token, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(json),
  });

let signups = 0;
/** A new account's access token (signed up and logged in from an address of its own). */
async function signup(): Promise<string> {
  const peer = `192.0.2.${++signups}`;
  const tokens = await signUpAndLogIn((path, json) => post(peer, `/api/accounts${path}`, json));
  return tokens.accessToken;
}

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  const accountsEnv = env("rl-accounts-");
  services = [
    (await startService(accountsService(accountsEnv), { env: accountsEnv, logger: silentLogger })) as never,
    (await startService(fixtureService(), { env: env("rl-fixture-"), logger: silentLogger })) as never,
  ];
  edge = createEdge({
    nc,
    logger: silentLogger,
    auth: {
      issuer: "runnerly-accounts",
      audience: "runnerly",
      typ: "at+jwt",
      jwks: { subject: "svc.accounts.rpc.jwks", refreshMs: 30_000 },
    },
    // The fixture and logging in are limited; signing up is not.
    rateLimits: {
      policies: parseRateLimits("/api/fixture=3/60s; /api/accounts/login=3/60s"),
      bucket: "rl_per_user",
    },
    peerAddress: (_req, e) => (e as { peer?: string }).peer,
  });
  await edge.ready;
  await waitFor(() => edge.routes.match("/api/accounts/login") && edge.routes.match("/api/fixture"), {
    what: "routes",
  });
});

afterAll(async () => {
  await edge?.close();
  for (const s of services.reverse()) await s.stop();
  await nc?.close();
  await nats?.stop();
});

describe("per-user limits", () => {
  test("a user's quota follows the user, apart from other users and anonymous callers at one address", async () => {
    const [ann, bob] = [await signup(), await signup()];
    const statuses = async (n: number, peer: string, path: string, token?: string) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push((await from(peer, path, token)).status);
      return out;
    };
    expect(await statuses(4, "198.51.100.20", "/api/fixture/echo", ann)).toEqual([200, 200, 200, 429]);
    // Ann from elsewhere is still Ann.
    expect(await statuses(1, "198.51.100.99", "/api/fixture/echo", ann)).toEqual([429]);
    // Bob behind the same address has his own quota, and so do anonymous requests from it.
    expect(await statuses(1, "198.51.100.20", "/api/fixture/echo", bob)).toEqual([200]);
    expect(await statuses(4, "198.51.100.20", "/api/fixture/healthz")).toEqual([200, 200, 200, 429]);
  });

  test("a token that does not verify counts against the address", async () => {
    const forged = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJl";
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await from("198.51.100.21", "/api/fixture/echo", forged)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  test("on a public route the caller is the address: other accounts' tokens buy no more log-in tries", async () => {
    const tokens = [await signup(), await signup(), await signup(), await signup()];
    const guess = { email: `victim-${crypto.randomUUID()}@example.com`, password: "guess Number 1" };
    const statuses = [];
    for (const token of tokens)
      statuses.push((await post("198.51.100.30", "/api/accounts/login", guess, token)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // A percent-encoded path is the same route to the service, so it is limited the same way.
    expect((await post("198.51.100.30", "/api/accounts/%6cogin", guess, tokens[0])).status).toBe(429);
    // The token's owner logging in from her own address is not charged for those tries.
    expect((await post("198.51.100.31", "/api/accounts/login", guess, tokens[0])).status).toBe(401);
  });

  test("each request's token is verified once, though the limiter asks before the proxy", async () => {
    const token = await signup();
    const getKey = spyOn(JwksCache.prototype, "getKey");
    try {
      const res = await from("198.51.100.22", "/api/fixture/echo", token);
      expect(res.status).toBe(200);
      expect(getKey).toHaveBeenCalledTimes(1);
    } finally {
      getKey.mockRestore();
    }
  });
});
