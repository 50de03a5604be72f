/**
 * The revoked-sessions bucket under the generated NATS users, on a real
 * nats-server: the accounts service's user writes it (a logout is answered
 * 204 only once its entry is stored), the edge's user watches it and nothing
 * the two do is refused, and the edge's user may not write, purge, delete or
 * reconfigure it, nor watch another bucket.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  openKvBucket,
  REVOKED_SESSIONS_BUCKET,
  type RunningService,
  silentLogger,
  startService,
} from "@runnerly/kit";
import {
  describeService,
  generatePassword,
  hashPassword,
  natsUsers,
  renderAuthorization,
} from "@runnerly/kit/security";
import { meshFetch, NatsServer, NatsUsers, PermissionProbe, waitFor } from "@runnerly/kit/testing";
import { decodeJwt } from "jose";
import { accountsService } from "../../../services/accounts/service.ts";
import { RevokedSessions } from "./revoked-sessions.ts";

setDefaultTimeout(30_000);

const PASSWORD = "correct Horse 7";
let nats: NatsServer;
let accounts: RunningService<Record<string, unknown>>;
const clients = new NatsUsers(() => nats.url);
const { passwords } = clients;
const as = (user: string) => clients.as(user);
let edge: NatsConnection;
let revoked: RevokedSessions;

const violations = (from: number) => nats.log.slice(from).filter((l) => /Permissions Violation/.test(l));

beforeAll(async () => {
  const definition = accountsService({});
  const users = natsUsers([describeService(definition)]);
  const hashes = new Map<string, string>();
  for (const { user } of users) {
    passwords.set(user, generatePassword());
    hashes.set(user, await hashPassword(passwords.get(user)!));
  }
  nats = await NatsServer.start({ auth: renderAuthorization(users, hashes) });
  // The provisioner makes the buckets; the service may only open them.
  const provisioner = await as("provisioner");
  for (const bucket of definition.kvBuckets ?? []) await openKvBucket(provisioner, bucket, 1);
  const env = {
    NATS_URL: nats.url,
    NATS_USER: "accounts",
    NATS_PASS: passwords.get("accounts"),
    DATA_DIR: mkdtempSync(join(tmpdir(), "revocation-access-")),
    LOG_LEVEL: "silent",
  };
  accounts = (await startService(accountsService(env), { env, logger: silentLogger })) as never;
  edge = await as("edge");
});

afterAll(async () => {
  await revoked?.close();
  await accounts?.stop();
  await clients.close();
  await nats?.stop();
});

describe("the revoked-sessions bucket under least privilege", () => {
  test("accounts writes it, the edge watches it: a logout reaches the edge's deny list and nothing is refused", async () => {
    const logFrom = nats.log.length;
    revoked = new RevokedSessions({ nc: edge, logger: silentLogger });
    revoked.start();
    await waitFor(() => revoked.watching, { what: "the edge's watch of the bucket" });

    const email = `access-${crypto.randomUUID()}@example.com`;
    const call = (path: string, json: unknown) =>
      meshFetch(edge, "accounts", `/api/accounts${path}`, { method: "POST", json });
    expect((await call("/signup", { email, password: PASSWORD })).status).toBeLessThan(300);
    const login = await call("/login", { email, password: PASSWORD });
    expect(login.status).toBe(200);
    const { accessToken, refreshToken } = (await login.json()) as {
      accessToken: string;
      refreshToken: string;
    };
    const sid = decodeJwt(accessToken).sid as string;
    expect(typeof sid).toBe("string");
    expect(revoked.has(sid)).toBe(false);

    expect((await call("/logout", { refreshToken })).status).toBe(204);
    await waitFor(() => revoked.has(sid), { timeoutMs: 1000, what: "the edge to list the session" });
    expect(violations(logFrom)).toEqual([]);
  });

  test("the edge may not write, purge, delete or reconfigure the bucket, nor watch another one", async () => {
    const probe = new PermissionProbe(edge);
    const stream = `KV_${REVOKED_SESSIONS_BUCKET}`;
    const refused = [
      `$KV.${REVOKED_SESSIONS_BUCKET}.some-session`,
      `$JS.API.STREAM.PURGE.${stream}`,
      `$JS.API.STREAM.DELETE.${stream}`,
      `$JS.API.STREAM.UPDATE.${stream}`,
      `$JS.API.STREAM.CREATE.${stream}`,
      `$JS.API.STREAM.MSG.DELETE.${stream}`,
      // A consumer on the bucket that would deliver anything but its keys, and one on another bucket.
      `$JS.API.CONSUMER.CREATE.${stream}.sneaky`,
      "$JS.API.CONSUMER.CREATE.KV_accounts_login_failures.w.$KV.accounts_login_failures.>",
    ];
    const verdicts = Object.fromEntries(
      await Promise.all(refused.map(async (s) => [s, await probe.publish(s)] as const)),
    );
    expect(verdicts).toEqual(Object.fromEntries(refused.map((s) => [s, "denied"])));
  });

  test("the accounts user may write the bucket", async () => {
    const kv = await new Kvm(await as("accounts")).open(REVOKED_SESSIONS_BUCKET);
    expect(
      await kv.put("written-by-accounts", JSON.stringify({ until: Date.now() + 60_000 })),
    ).toBeGreaterThan(0);
    await waitFor(() => revoked.has("written-by-accounts"), { timeoutMs: 1000, what: "the edge to see it" });
  });
});
