/**
 * Revocation reaching the edge, against the real accounts service and several
 * edges, each with its own NATS connection (as each Bun edge worker has): a
 * logout or a reused refresh token ends the session's access tokens at every
 * edge within a second; another session of the same user keeps working; an
 * edge started after the logout refuses the token from its first request;
 * an edge started before the bucket exists serves at once and catches up;
 * the bearer scheme is matched in any case.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { NatsServer, recordingLogger, waitFor } from "@runnerly/kit/testing";
import type * as accountsSchema from "../../../services/accounts/db/schema.ts";
import { accountsService } from "../../../services/accounts/service.ts";
import { PASSWORD, signUpAndLogIn } from "../../../services/accounts/test-support.ts";
import { createEdge, type Edge } from "../../app.ts";

setDefaultTimeout(30_000);

type Tokens = { accessToken: string; refreshToken: string; user: { id: string } };

let nats: NatsServer;
let accounts: RunningService<typeof accountsSchema>;
const edges: Edge[] = [];
const connections: NatsConnection[] = [];

/** An edge with a NATS connection of its own, ready to serve. */
async function startEdge(): Promise<Edge> {
  const nc = await connect({ servers: nats.url, inboxPrefix: "_INBOX.edge" });
  connections.push(nc);
  const edge = createEdge({
    nc,
    logger: silentLogger,
    auth: {
      issuer: "runnerly-accounts",
      audience: "runnerly",
      typ: "at+jwt",
      jwks: { subject: "svc.accounts.rpc.jwks" },
    },
  });
  edges.push(edge);
  await edge.ready;
  await waitFor(() => edge.routes.match("/api/accounts/me"), { what: "the accounts route" });
  return edge;
}

const post = (edge: Edge, path: string, json: unknown) =>
  edge.app.fetch(
    new Request(`http://edge/api/accounts${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
    }),
  );

/** `GET /api/accounts/me` with an Authorization header. */
const me = (edge: Edge, authorization: string) =>
  edge.app.fetch(new Request("http://edge/api/accounts/me", { headers: { authorization } }));

const bearer = (token: string) => `Bearer ${token}`;

/** Statuses of `GET /me` with `token` at every edge. */
const statusesAt = async (at: Edge[], token: string) =>
  Promise.all(at.map(async (e) => (await me(e, bearer(token))).status));

/** A new account and one logged-in session of it. */
async function newUser(edge: Edge): Promise<{ email: string; session: Tokens }> {
  const email = `revoke-${crypto.randomUUID()}@example.com`;
  return { email, session: await signUpAndLogIn((path, json) => post(edge, path, json), email) };
}

/** Another session of an account. */
async function login(edge: Edge, email: string): Promise<Tokens> {
  const res = await post(edge, "/login", { email, password: PASSWORD });
  expect(res.status).toBe(200);
  return (await res.json()) as Tokens;
}

/** Waits (at most 1 s from now) until every edge refuses `token`; returns how long that took. */
async function refusedEverywhere(at: Edge[], token: string): Promise<number> {
  const start = performance.now();
  await waitFor(async () => (await statusesAt(at, token)).every((s) => s === 401), {
    timeoutMs: 1000,
    intervalMs: 10,
    what: "every edge to refuse the token",
  });
  return performance.now() - start;
}

beforeAll(async () => {
  nats = await NatsServer.start();
  const env = {
    NATS_URL: nats.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), "edge-revocation-")),
    LOG_LEVEL: "silent",
  };
  accounts = (await startService(accountsService(env), { env, logger: silentLogger })) as never;
  await startEdge();
  await startEdge();
});

afterAll(async () => {
  for (const edge of edges) await edge.close();
  for (const nc of connections) await nc.close();
  await accounts?.stop();
  await nats?.stop();
});

describe("revoked sessions at the edge", () => {
  test("after a logout, every edge refuses the access token within 1 s; another session of the user still works", async () => {
    const [a, b] = edges as [Edge, Edge];
    const { email, session } = await newUser(a);
    const other = await login(b, email);
    expect(await statusesAt([a, b], session.accessToken)).toEqual([200, 200]);

    expect((await post(a, "/logout", { refreshToken: session.refreshToken })).status).toBe(204);
    await refusedEverywhere([a, b], session.accessToken);

    const refused = await me(b, bearer(session.accessToken));
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await refused.json()) as { detail: string }).detail).toContain("session");
    expect(await statusesAt([a, b], other.accessToken)).toEqual([200, 200]);
    // The refresh token is ended too.
    expect((await post(b, "/refresh", { refreshToken: session.refreshToken })).status).toBe(401);
  });

  test("a reused refresh token revokes its family: the family's access tokens are refused, another session's are not", async () => {
    const [a, b] = edges as [Edge, Edge];
    const { email, session: first } = await newUser(a);
    const other = await login(a, email);
    const rotated = await post(a, "/refresh", { refreshToken: first.refreshToken });
    expect(rotated.status).toBe(200);
    const second = (await rotated.json()) as Tokens;
    expect(await statusesAt([a, b], second.accessToken)).toEqual([200, 200]);

    // The first refresh token again: someone else holds it.
    expect((await post(b, "/refresh", { refreshToken: first.refreshToken })).status).toBe(401);
    await refusedEverywhere([a, b], first.accessToken);
    await refusedEverywhere([a, b], second.accessToken);
    expect(await statusesAt([a, b], other.accessToken)).toEqual([200, 200]);
  });

  test("an edge started after the logout refuses the token from its first request", async () => {
    const [a] = edges as [Edge];
    const { session } = await newUser(a);
    expect((await post(a, "/logout", { refreshToken: session.refreshToken })).status).toBe(204);
    const late = await startEdge();
    expect((await me(late, bearer(session.accessToken))).status).toBe(401);
  });

  test("the bearer scheme is matched in any case, with the spaces RFC 9110 allows", async () => {
    const [a] = edges as [Edge];
    const { session } = await newUser(a);
    const token = session.accessToken;
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `  bEaReR   ${token}  `]) {
      expect({ header, status: (await me(a, header)).status }).toEqual({ header, status: 200 });
    }
    for (const header of [`Bearer${token}`, `Basic ${token}`, `Bearer ${token} extra`, `Bearer`]) {
      const res = await me(a, header);
      expect({ header, status: res.status }).toEqual({ header, status: 401 });
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });
});

describe("an edge that starts before the bucket exists", () => {
  test("serves at once, keeps trying, and refuses revoked tokens once the accounts service has made the bucket", async () => {
    const server = await NatsServer.start();
    const nc = await connect({ servers: server.url });
    const logs = recordingLogger();
    const early = createEdge({
      nc,
      logger: logs,
      auth: {
        issuer: "runnerly-accounts",
        audience: "runnerly",
        typ: "at+jwt",
        jwks: { subject: "svc.accounts.rpc.jwks" },
      },
    });
    let service: RunningService<typeof accountsSchema> | undefined;
    try {
      await early.ready;
      expect((await early.app.fetch(new Request("http://edge/healthz"))).status).toBe(200);
      await waitFor(
        () =>
          logs.entries.some((e) => e.level === "warn" && /cannot watch revoked sessions/.test(e.msg ?? "")),
        {
          what: "a warning that the bucket cannot be watched",
        },
      );
      const env = {
        NATS_URL: server.url,
        DATA_DIR: mkdtempSync(join(tmpdir(), "edge-revocation-late-")),
        LOG_LEVEL: "silent",
      };
      service = (await startService(accountsService(env), { env, logger: silentLogger })) as never;
      await waitFor(() => early.routes.match("/api/accounts/me"), { what: "the accounts route" });
      const { session } = await newUser(early);
      expect((await me(early, bearer(session.accessToken))).status).toBe(200);
      expect((await post(early, "/logout", { refreshToken: session.refreshToken })).status).toBe(204);
      // The watch is retried with a growing pause (at most 10 s).
      await waitFor(async () => (await me(early, bearer(session.accessToken))).status === 401, {
        timeoutMs: 15_000,
        intervalMs: 50,
        what: "the late watch to refuse the token",
      });
      expect(logs.entries.some((e) => e.msg === "watching revoked sessions")).toBe(true);
    } finally {
      await early.close();
      await service?.stop();
      await nc.close();
      await server.stop();
    }
  });
});
