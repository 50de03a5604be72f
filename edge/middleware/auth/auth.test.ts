/**
 * Token checks at the edge against the real accounts service: a good token
 * names the caller for the service; every kind of bad token is a 401 and the
 * service's handler never runs.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { createRpcClient, type RunningService, silentLogger, startService } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { fixtureService } from "@runnerly/kit/testing/fixture";
import { isNull } from "drizzle-orm";
import { generateKeyPair, importJWK, SignJWT } from "jose";
import { accountsRpc } from "../../../services/accounts/contract.ts";
import * as accountsSchema from "../../../services/accounts/db/schema.ts";
import { accountsService } from "../../../services/accounts/service.ts";
import { signUpAndLogIn } from "../../../services/accounts/test-support.ts";
import { createEdge, type Edge } from "../../app.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
let accounts: RunningService<typeof accountsSchema>;
let fixture: RunningService<Record<string, unknown>>;
let edge: Edge;

const env = (p: string) => ({
  NATS_URL: nats.url,
  DATA_DIR: mkdtempSync(join(tmpdir(), p)),
  LOG_LEVEL: "silent",
});
const request = (path: string, init: RequestInit = {}) =>
  edge.app.fetch(new Request(`http://edge${path}`, init));
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** Requests the fixture's HTTP endpoint has handled so far ($SRV.STATS). */
async function handled(): Promise<number> {
  let n = 0;
  for await (const s of await new Svcm(nc).client().stats("fixture")) {
    n += s.endpoints?.find((e) => e.name === "http")?.num_requests ?? 0;
  }
  return n;
}

/** Signs a token with the accounts service's current private key, with any claims we like. */
async function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const key = await accounts.store.db
    .select()
    .from(accountsSchema.signingKeys)
    .where(isNull(accountsSchema.signingKeys.retiredAt))
    .get();
  const privateKey = await importJWK(JSON.parse(key!.privateJwk!), "EdDSA");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iat: now,
    exp: now + 600,
    iss: "runnerly-accounts",
    aud: "runnerly",
    sub: "forged-user",
    ...claims,
  })
    .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: key!.kid, ...header })
    .sign(privateKey);
}

/** A new account's tokens, through the edge. */
const signup = () =>
  signUpAndLogIn((path, json) =>
    request(`/api/accounts${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
    }),
  );

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  const accountsEnv = env("edge-auth-accounts-");
  accounts = (await startService(accountsService(accountsEnv), {
    env: accountsEnv,
    logger: silentLogger,
  })) as never;
  fixture = (await startService(fixtureService(), {
    env: env("edge-auth-fixture-"),
    logger: silentLogger,
  })) as never;
  edge = createEdge({
    nc,
    logger: silentLogger,
    auth: {
      issuer: "runnerly-accounts",
      audience: "runnerly",
      typ: "at+jwt",
      jwks: { subject: "svc.accounts.rpc.jwks", refreshMs: 200, minRefetchMs: 100 },
    },
  });
  await edge.ready;
  await waitFor(() => edge.routes.match("/api/accounts/login") && edge.routes.match("/api/fixture"), {
    what: "routes",
  });
});

afterAll(async () => {
  await edge?.close();
  await fixture?.stop();
  await accounts?.stop();
  await nc?.close();
  await nats?.stop();
});

describe("edge authentication", () => {
  test("a valid token names the caller for the service (Mesh-User = subject)", async () => {
    const { accessToken, user } = await signup();
    const res = await request("/api/fixture/echo", bearer(accessToken));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { mesh: { user: string } };
    expect(body.mesh.user).toBe(user.id);
  });

  test("public routes pass without a token; the others are 401 with WWW-Authenticate", async () => {
    expect((await request("/api/fixture/healthz")).status).toBe(200);
    expect((await request("/api/fixture/openapi.json")).status).toBe(200);
    const res = await request("/api/fixture/echo");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  test("a client's own Mesh-User header is never trusted", async () => {
    const res = await request("/api/fixture/echo", { headers: { "mesh-user": "mallory" } });
    expect(res.status).toBe(401);
  });

  test("bad tokens are 401 and never reach the service", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey: strangerKey } = await generateKeyPair("EdDSA", { extractable: true });
    const stranger = await new SignJWT({
      iss: "runnerly-accounts",
      aud: "runnerly",
      sub: "x",
      iat: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: "stranger" })
      .sign(strangerKey);
    const good = await forge({});
    const [head, payload, signature] = good.split(".") as [string, string, string];
    // The first character carries six whole bits of the signature: changing it always changes it.
    const flipped = `${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "at+jwt" })).replace(/=+$/, "")}.${payload}.`;
    const cases: Record<string, string> = {
      expired: await forge({ iat: now - 3600, exp: now - 60 }),
      "wrong audience": await forge({ aud: "someone-else" }),
      "wrong issuer": await forge({ iss: "evil-issuer" }),
      "alg none": none,
      "tampered signature": `${head}.${payload}.${flipped}`,
      "tampered payload": `${head}.${btoa(JSON.stringify({ sub: "admin", iss: "runnerly-accounts", aud: "runnerly", exp: now + 600 })).replace(/=+$/, "")}.${signature}`,
      "unknown key": stranger,
      "no subject": await forge({ sub: undefined }),
      "wrong type": await forge({}, { typ: "JWT" }),
      garbage: "not.a.token",
    };
    const before = await handled();
    const statuses: Record<string, number> = {};
    for (const [name, token] of Object.entries(cases)) {
      const res = await request("/api/fixture/echo", bearer(token));
      statuses[name] = res.status;
      if (res.status === 401) expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    expect(statuses).toEqual(Object.fromEntries(Object.keys(cases).map((k) => [k, 401])));
    expect(await handled()).toBe(before);
    // And the forged-but-valid control token does get through.
    expect((await request("/api/fixture/echo", bearer(good))).status).toBe(200);
  });

  test("rotation: the new key is trusted at once; a removed key's tokens are refused", async () => {
    const rpc = createRpcClient(nc, accountsRpc);
    const old = await signup();
    const oldKid = JSON.parse(atob(old.accessToken.split(".")[0]!)).kid as string;
    await rpc.rotateKey({});
    const fresh = await signup();
    // Signed by a key the edge has not fetched yet: it refetches on the unknown kid.
    expect((await request("/api/fixture/echo", bearer(fresh.accessToken))).status).toBe(200);
    expect((await request("/api/fixture/echo", bearer(old.accessToken))).status).toBe(200);
    await rpc.removeKey({ kid: oldKid });
    await waitFor(async () => (await request("/api/fixture/echo", bearer(old.accessToken))).status === 401, {
      what: "the removed key to be dropped",
    });
    const jwks = (await (await request("/.well-known/jwks.json")).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).not.toContain(oldKid);
    expect((await request("/api/fixture/echo", bearer(fresh.accessToken))).status).toBe(200);
  });
});
