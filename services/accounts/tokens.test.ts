import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import type { TokenResponse } from "./contract.ts";
import { callWith, type Instance, rpcOf, signup, startAccounts, verifyLikeEdge } from "./test-support.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
let accounts: Instance;
let call: ReturnType<typeof callWith>;

const refresh = (refreshToken: string) => call("/refresh", { method: "POST", json: { refreshToken } });
const logout = (refreshToken: string) => call("/logout", { method: "POST", json: { refreshToken } });
const login = async (email: string) => {
  const res = await call("/login", { method: "POST", json: { email, password: "correct Horse 7" } });
  expect(res.status).toBe(200);
  return (await res.json()) as TokenResponse;
};

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  accounts = await startAccounts(nats.url);
  call = callWith(nc);
});

afterAll(async () => {
  await accounts?.stop();
  await nc?.close();
  await nats?.stop();
});

describe("access tokens", () => {
  test("verify with jose against the JWKS from the RPC: EdDSA, iss, aud, sub, exp ≈ now + 900", async () => {
    const before = Math.floor(Date.now() / 1000);
    const tokens = await signup(nc);
    const jwks = await rpcOf(nc).jwks({});
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");

    const { payload, protectedHeader } = await verifyLikeEdge(tokens.accessToken, jwks);
    expect(protectedHeader).toEqual({ alg: "EdDSA", typ: "at+jwt", kid: jwks.keys[0]!.kid });
    expect(payload).toMatchObject({ iss: "runnerly-accounts", aud: "runnerly", sub: tokens.user.id });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(Math.abs(payload.exp! - (Date.now() / 1000 + 900))).toBeLessThan(5);
  });

  test("the HTTP JWKS equals the RPC one", async () => {
    const res = await call("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(await rpcOf(nc).jwks({}));
  });

  test("a token with a changed payload or another audience does not verify", async () => {
    const tokens = await signup(nc);
    const jwks = await rpcOf(nc).jwks({});
    const [h, p, s] = tokens.accessToken.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url");
    await expect(verifyLikeEdge(`${h}.${forged}.${s}`, jwks)).rejects.toThrow();
    await expect(
      jwtVerify(tokens.accessToken, createLocalJWKSet(jwks), { algorithms: ["EdDSA"], audience: "other" }),
    ).rejects.toThrow();
  });
});

describe("refresh tokens rotate", () => {
  test("a refresh token works once and yields new tokens for the same user", async () => {
    const first = await signup(nc);
    const res = await refresh(first.refreshToken);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const second = (await res.json()) as TokenResponse;
    expect(second.user).toEqual(first.user);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const { payload } = await verifyLikeEdge(second.accessToken, await rpcOf(nc).jwks({}));
    expect(payload.sub).toBe(first.user.id);
  });

  test("reusing a used token is a 401 and revokes its whole family, not other sessions", async () => {
    const a = await signup(nc);
    const other = await login(a.user.email);
    const r2 = (await (await refresh(a.refreshToken)).json()) as TokenResponse;
    const r3 = (await (await refresh(r2.refreshToken)).json()) as TokenResponse;

    const reuse = await refresh(a.refreshToken);
    expect(reuse.status).toBe(401);
    expect(reuse.headers.get("content-type")).toBe("application/problem+json");
    // The newest token of that family was never used, yet it is dead now.
    expect((await refresh(r3.refreshToken)).status).toBe(401);
    // A separate login is a separate family.
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });

  test("every refusal looks the same: unknown, reused and revoked tokens", async () => {
    const a = await signup(nc);
    await refresh(a.refreshToken);
    const reused = await (await refresh(a.refreshToken)).json();
    const unknown = await (await refresh("x".repeat(43))).json();
    const b = await signup(nc);
    await logout(b.refreshToken);
    const revoked = await (await refresh(b.refreshToken)).json();
    expect(unknown).toEqual(reused);
    expect(revoked).toEqual(reused);
  });

  test("logout revokes the session; logging out again is fine", async () => {
    const a = await signup(nc);
    const next = (await (await refresh(a.refreshToken)).json()) as TokenResponse;
    // Logging out with an older token of the family ends the whole session.
    expect((await logout(a.refreshToken)).status).toBe(204);
    expect((await refresh(next.refreshToken)).status).toBe(401);
    expect((await logout(next.refreshToken)).status).toBe(204);
    expect((await logout("never-issued")).status).toBe(204);
  });
});

describe("token lifetimes from the environment", () => {
  let shortNats: NatsServer;
  let shortNc: NatsConnection;
  let short: Instance;

  beforeAll(async () => {
    // Its own nats-server: a second "accounts" on the same one would share the queue group.
    shortNats = await NatsServer.start();
    shortNc = await connect({ servers: shortNats.url });
    short = await startAccounts(shortNats.url, {
      env: { REFRESH_TOKEN_TTL_S: "1", ACCESS_TOKEN_TTL_S: "120" },
    });
  });

  afterAll(async () => {
    await short?.stop();
    await shortNc?.close();
    await shortNats?.stop();
  });

  test("an expired refresh token is a 401 (REFRESH_TOKEN_TTL_S)", async () => {
    const tokens = await signup(shortNc);
    const expiresBy = Date.now() + 1000;
    await waitFor(() => Date.now() > expiresBy, { what: "the refresh token's expiry" });
    const res = await callWith(shortNc)("/refresh", {
      method: "POST",
      json: { refreshToken: tokens.refreshToken },
    });
    expect(res.status).toBe(401);
  });

  test("a fresh one still works there, and access tokens last ACCESS_TOKEN_TTL_S", async () => {
    const tokens = await signup(shortNc);
    expect(tokens.expiresIn).toBe(120);
    const res = await callWith(shortNc)("/refresh", {
      method: "POST",
      json: { refreshToken: tokens.refreshToken },
    });
    expect(res.status).toBe(200);
    const { accessToken, expiresIn } = (await res.json()) as TokenResponse;
    expect(expiresIn).toBe(120);
    const { exp, iat } = decodeJwt(accessToken);
    expect(exp! - iat!).toBe(120);
  });
});
