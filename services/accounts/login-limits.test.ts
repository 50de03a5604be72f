/**
 * Failed log-in limits against a real nats-server (its KV bucket) and real
 * accounts instances, called over NATS as the edge calls them, with the
 * caller's address in `Mesh-Client-Address`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { instanceSubject, openKvBucket } from "@runnerly/kit";
import { meshFetch, NatsServer, waitFor } from "@runnerly/kit/testing";
import { LOGIN_FAILURES_BUCKET } from "./login-attempts.ts";
import { freshEmail, type Instance, PASSWORD, signup, startAccounts } from "./test-support.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
let a: Instance;
let b: Instance;
/** Tight thresholds, to show the per-address and per-email counters without hundreds of tries. */
let tight: Instance;
const WRONG = "wrong Password 1";

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  const dataDir = mkdtempSync(join(tmpdir(), "accounts-limits-"));
  [a, b] = await Promise.all([startAccounts(nats.url, { dataDir }), startAccounts(nats.url, { dataDir })]);
  tight = await startAccounts(nats.url, {
    dataDir,
    env: {
      LOGIN_ADDRESS_FREE_FAILURES: "3",
      LOGIN_ACCOUNT_FREE_FAILURES: "3",
      LOGIN_ACCOUNT_LOCK_MAX_S: "1",
    },
  });
});

afterAll(async () => {
  for (const i of [tight, b, a]) await i?.stop();
  await nc?.close();
  await nats?.stop();
});

type Answer = { status: number; retryAfter: string | null; body: unknown; ms: number };

/** One log-in through one instance's own subject, from `address`, as `user` (the token the edge verified). */
async function login(via: Instance, address: string, email: string, password: string, user?: string) {
  const started = performance.now();
  const res = await meshFetch(nc, "accounts", "/api/accounts/login", {
    method: "POST",
    json: { email, password },
    clientAddress: address,
    user,
    subject: instanceSubject("accounts", via.instanceId),
  });
  const body = await res.json();
  const answer: Answer = {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body,
    ms: performance.now() - started,
  };
  return answer;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

describe("failed log-ins per email and address", () => {
  test("50 wrong passwords with rotating tokens from one address: the sixth on is refused; the owner logs in from elsewhere", async () => {
    const { user } = await signup(nc);
    const answers: Answer[] = [];
    for (let i = 0; i < 50; i++)
      answers.push(await login(i % 2 ? a : b, "198.51.100.10", user.email, WRONG, crypto.randomUUID()));
    const statuses = answers.map((x) => x.status);
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 429]);
    // Locks double (1 s, 2 s, 4 s…): a slow machine may see one run out, never more guesses than that.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(7);
    for (const refused of answers.filter((x) => x.status === 429)) {
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(refused.body).toMatchObject({ status: 429, type: "https://runnerly.dev/problems/login-locked" });
    }
    // While locked even the right password is refused, unchecked.
    expect((await login(a, "198.51.100.10", user.email, PASSWORD)).status).toBe(429);
    // The owner, from her own address, is not locked out.
    const owner = await login(b, "203.0.113.77", user.email, PASSWORD);
    expect(owner.status).toBe(200);
    expect((owner.body as { user: { id: string } }).user.id).toBe(user.id);
  });

  test("a refused attempt counts for nothing, and a success starts the count again", async () => {
    const { user } = await signup(nc);
    const from = "198.51.100.11";
    for (let i = 0; i < 5; i++) expect((await login(a, from, user.email, WRONG)).status).toBe(401);
    // Refused tries while the 1 s lock lasts; the first one let in is the right password, and succeeds.
    const first = await waitFor(
      async () => {
        const x = await login(a, from, user.email, PASSWORD);
        return x.status === 429 ? null : x;
      },
      { timeoutMs: 10_000, what: "the 1 s lock to end" },
    );
    expect(first.status).toBe(200);
    // Counted from zero again: five failures are answered before the next lock.
    const again: number[] = [];
    for (let i = 0; i < 6; i++) again.push((await login(b, from, user.email, WRONG)).status);
    expect(again).toEqual([401, 401, 401, 401, 401, 429]);
  });

  test("a known and an unknown email get the same answers, in the same order, in comparable time", async () => {
    const { user } = await signup(nc);
    const run = async (email: string, address: string) => {
      const out: Answer[] = [];
      for (let i = 0; i < 8; i++) out.push(await login(a, address, email, WRONG));
      return out;
    };
    const known = await run(user.email, "198.51.100.12");
    const unknown = await run(freshEmail("nobody"), "198.51.100.13");
    const shape = (xs: Answer[]) =>
      xs.map((x) => ({ status: x.status, retryAfter: x.retryAfter, body: x.body }));
    expect(shape(unknown)).toEqual(shape(known));
    expect(known.map((x) => x.status)).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // Checked answers both cost a password hash (~40 ms); the refused ones neither.
    const [k, u] = [median(known.slice(0, 5).map((x) => x.ms)), median(unknown.slice(0, 5).map((x) => x.ms))];
    expect(Math.abs(k - u)).toBeLessThan(Math.max(25, 0.5 * Math.max(k, u)));
  });

  test("two instances share the counters: failures counted by one lock the other", async () => {
    const { user } = await signup(nc);
    for (let i = 0; i < 5; i++) expect((await login(a, "198.51.100.14", user.email, WRONG)).status).toBe(401);
    const other = await login(b, "198.51.100.14", user.email, WRONG);
    expect(other.status).toBe(429);
    expect(other.retryAfter).toBe("1");
  });

  test("password spraying: one address trying many emails is locked for all of them", async () => {
    const sprayer = "198.51.100.15";
    for (let i = 0; i < 3; i++)
      expect((await login(tight, sprayer, freshEmail("spray"), WRONG)).status).toBe(401);
    const victim = (await signup(nc)).user.email;
    expect((await login(tight, sprayer, victim, PASSWORD)).status).toBe(429);
    expect((await login(tight, "203.0.113.78", victim, PASSWORD)).status).toBe(200);
  });

  test("one email from many addresses is slowed, its lock short, and its owner gets in after it", async () => {
    const { user } = await signup(nc);
    for (let i = 0; i < 3; i++)
      expect((await login(tight, `198.51.101.${i}`, user.email, WRONG)).status).toBe(401);
    const locked = await login(tight, "198.51.101.200", user.email, PASSWORD);
    expect([locked.status, locked.retryAfter]).toEqual([429, "1"]);
    const owner = await waitFor(
      async () => {
        const x = await login(tight, "203.0.113.79", user.email, PASSWORD);
        return x.status === 429 ? null : x;
      },
      { timeoutMs: 10_000, what: "the email's 1 s lock to end" },
    );
    expect(owner.status).toBe(200);
  });

  test("the counters live in a KV bucket with a TTL, under keys that name no email or address", async () => {
    const info = await (await jetstreamManager(nc)).streams.info(`KV_${LOGIN_FAILURES_BUCKET.name}`);
    expect(info.config.max_age).toBe(LOGIN_FAILURES_BUCKET.ttlMs * 1_000_000);
    const kv = await openKvBucket(nc, LOGIN_FAILURES_BUCKET, 1);
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys.length).toBeGreaterThan(10);
    for (const k of keys)
      expect(k).toMatch(/^(pair\.[0-9a-f]{32}\.[0-9a-f]{32}|addr\.[0-9a-f]{32}|acct\.[0-9a-f]{32})$/);
  });
});
