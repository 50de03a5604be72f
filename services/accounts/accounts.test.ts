import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type MeshFetchInit, NatsServer } from "@runnerly/kit/testing";
import type { Profile, TokenResponse } from "./contract.ts";
import { refreshTokens, users } from "./db/schema.ts";
import { callWith, freshEmail, type Instance, PASSWORD, signup, startAccounts } from "./test-support.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
let accounts: Instance;
let call: ReturnType<typeof callWith>;

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

describe("sign up, log in, profile", () => {
  test("round trip: signup, login, GET /me, PATCH /me", async () => {
    const email = freshEmail("ann");
    const res = await call("/signup", {
      method: "POST",
      json: { email: `  ${email.toUpperCase()} `, password: PASSWORD, displayName: "Ann" },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ status: "accepted", detail: expect.stringContaining("Log in") });

    const login = await call("/login", {
      method: "POST",
      json: { email: email.toUpperCase(), password: PASSWORD },
    });
    expect(login.status).toBe(200);
    expect(login.headers.get("cache-control")).toBe("no-store");
    const session = (await login.json()) as TokenResponse;
    expect(session).toMatchObject({
      tokenType: "Bearer",
      expiresIn: 900,
      user: { email, displayName: "Ann" },
    });
    expect(session.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.accessToken.split(".")).toHaveLength(3);

    const user = session.user.id;
    const me = (await (await call("/me", { user })).json()) as Profile;
    expect(me).toMatchObject({ id: user, email, displayName: "Ann", weeklyGoalKm: null });

    const patched = await call("/me", {
      method: "PATCH",
      json: { displayName: "Ann R.", weeklyGoalKm: 42.5 },
      user,
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ displayName: "Ann R.", weeklyGoalKm: 42.5, email });
    const cleared = await call("/me", { method: "PATCH", json: { weeklyGoalKm: null }, user });
    expect(await cleared.json()).toMatchObject({ displayName: "Ann R.", weeklyGoalKm: null });
  });

  test("display name defaults to the email's local part", async () => {
    const email = freshEmail("bo");
    const tokens = await signup(nc, email);
    expect(tokens.user.displayName).toBe(email.split("@")[0]!);
  });

  test("signing up with a registered email (in any case) answers exactly like a new one and changes nothing", async () => {
    const email = freshEmail("dup");
    const owner = await signup(nc, email);
    const rowsBefore = await accounts.store.db.select().from(users).all();
    const sessionsBefore = await accounts.store.db.select().from(refreshTokens).all();
    const answer = async (json: unknown) => {
      const res = await call("/signup", { method: "POST", json });
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
    };
    const newEmail = freshEmail("new");
    const taken = await answer({
      email: email.toUpperCase(),
      password: "other Password 9",
      displayName: "Eve",
    });
    const fresh = await answer({ email: newEmail, password: "other Password 9", displayName: "Eve" });
    expect(taken).toEqual(fresh);
    expect(taken.status).toBe(202);
    expect(taken.body).not.toContain("accessToken");

    // Nothing changed for the owner: same row, same sessions; only the new email's row was added.
    const rowsAfter = await accounts.store.db.select().from(users).all();
    expect(rowsAfter.map((r) => r.email).sort()).toEqual(
      [...rowsBefore.map((r) => r.email), newEmail].sort(),
    );
    expect(rowsAfter.find((r) => r.id === owner.user.id)).toEqual(
      rowsBefore.find((r) => r.id === owner.user.id)!,
    );
    expect(await accounts.store.db.select().from(refreshTokens).all()).toEqual(sessionsBefore);
    expect((await call("/login", { method: "POST", json: { email, password: PASSWORD } })).status).toBe(200);
    const intruder = await call("/login", { method: "POST", json: { email, password: "other Password 9" } });
    expect(intruder.status).toBe(401);
  });

  test("signing up with a registered email takes as long as with a new one (both hash the password)", async () => {
    const email = freshEmail("slow");
    await signup(nc, email);
    const median = async (json: () => unknown) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        expect((await call("/signup", { method: "POST", json: json() })).status).toBe(202);
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[2]!;
    };
    const taken = await median(() => ({ email, password: PASSWORD }));
    const fresh = await median(() => ({ email: freshEmail("quick"), password: PASSWORD }));
    // Without the hash a taken email would answer ~40x faster.
    expect(Math.abs(taken - fresh)).toBeLessThan(Math.max(25, 0.5 * Math.max(taken, fresh)));
  });

  test("wrong password and unknown email get the identical 401 problem", async () => {
    const email = freshEmail("cy");
    await signup(nc, email);
    const wrong = await call("/login", { method: "POST", json: { email, password: "wrong Password 1" } });
    const unknown = await call("/login", {
      method: "POST",
      json: { email: freshEmail("nobody"), password: PASSWORD },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual(await wrong.json());
  });

  test("an unknown email costs a password check too (no timing shortcut)", async () => {
    const email = freshEmail("timing");
    await signup(nc, email);
    const median = async (json: unknown) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        expect((await call("/login", { method: "POST", json })).status).toBe(401);
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[2]!;
    };
    const known = await median({ email, password: "wrong Password 1" });
    const unknown = await median({ email: freshEmail("ghost"), password: "wrong Password 1" });
    // Without the decoy check an unknown email answers ~40x faster.
    expect(unknown).toBeGreaterThan(known * 0.5);
  });

  test("/me needs a caller, and a caller without an account is a 404", async () => {
    expect((await call("/me")).status).toBe(401);
    expect((await call("/me", { method: "PATCH", json: { displayName: "x" } })).status).toBe(401);
    expect((await call("/me", { user: crypto.randomUUID() })).status).toBe(404);
  });

  test("the token routes and the JWKS are published as public routes for the edge", () => {
    const published = (accounts.service.info().metadata?.["http.public"] ?? "").split(",");
    expect(published).toEqual(
      expect.arrayContaining([
        "POST /api/accounts/signup",
        "POST /api/accounts/login",
        "POST /api/accounts/refresh",
        "POST /api/accounts/logout",
        "GET /api/accounts/.well-known/jwks.json",
      ]),
    );
    expect(published).not.toContain("GET /api/accounts/me");
  });

  test("the OpenAPI document describes every route", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [
      ["/signup", "post"],
      ["/login", "post"],
      ["/refresh", "post"],
      ["/logout", "post"],
      ["/me", "get"],
      ["/me", "patch"],
      ["/.well-known/jwks.json", "get"],
    ] as const) {
      expect(doc.paths[`/api/accounts${path}`]?.[method]).toBeDefined();
    }
  });

  test("token routes refuse Idempotency-Key (their responses are secrets)", async () => {
    const res = await call("/login", {
      method: "POST",
      json: { email: freshEmail(), password: PASSWORD },
      headers: { "idempotency-key": "k1" },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("header.Idempotency-Key");
  });
});

describe("bad input is a 400 problem naming the field", () => {
  const ok = { email: "val@example.com", password: PASSWORD };
  const cases: [string, string, MeshFetchInit, string[]][] = [
    ["bad email", "/signup", { json: { ...ok, email: "not-an-email" } }, ["body.email"]],
    ["short password", "/signup", { json: { ...ok, password: "Ab1" } }, ["body.password", "at least 10"]],
    ["one character class", "/signup", { json: { ...ok, password: "abcdefghijkl" } }, ["body.password"]],
    ["digits only", "/signup", { json: { ...ok, password: "12345678901" } }, ["body.password"]],
    ["long password", "/signup", { json: { ...ok, password: `Aa${"x".repeat(127)}` } }, ["body.password"]],
    ["missing fields", "/signup", { json: {} }, ["body.email", "body.password"]],
    ["wrong types", "/signup", { json: { email: 5, password: true } }, ["body.email", "body.password"]],
    ["extra field", "/signup", { json: { ...ok, admin: true } }, ["admin"]],
    ["empty display name", "/signup", { json: { ...ok, displayName: "  " } }, ["body.displayName"]],
    ["not JSON", "/signup", { body: "{nope", headers: { "content-type": "application/json" } }, ["body"]],
    ["array body", "/login", { json: [ok] }, ["body"]],
    ["login without password", "/login", { json: { email: ok.email } }, ["body.password"]],
    ["refresh token wrong type", "/refresh", { json: { refreshToken: 7 } }, ["body.refreshToken"]],
    ["logout without token", "/logout", { json: {} }, ["body.refreshToken"]],
  ];
  for (const [label, path, init, fields] of cases) {
    test(label, async () => {
      const res = await call(path, { method: "POST", ...init });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const text = JSON.stringify(await res.json());
      for (const f of fields) expect(text).toContain(f);
    });
  }

  const patches: [string, unknown, string][] = [
    ["empty patch", {}, "body"],
    ["negative goal", { weeklyGoalKm: -1 }, "body.weeklyGoalKm"],
    ["email is not patchable", { email: "x@example.com" }, "email"],
    ["long display name", { displayName: "x".repeat(81) }, "body.displayName"],
  ];
  for (const [label, json, field] of patches) {
    test(`PATCH /me: ${label}`, async () => {
      const res = await call("/me", { method: "PATCH", json, user: crypto.randomUUID() });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain(field);
    });
  }

  test("nothing invalid was stored", async () => {
    const res = await call("/login", { method: "POST", json: ok });
    expect(res.status).toBe(401);
  });
});
