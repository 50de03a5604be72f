/**
 * Password guessing through the edge, as an attacker tries it: real
 * nats-server, accounts and edge processes at their defaults, the edge
 * believing `X-Forwarded-For` from loopback only (`EDGE_TRUSTED_PROXIES`),
 * so that one test can speak from several client addresses.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, NatsServer, waitFor } from "@runnerly/kit/testing";
import {
  type EdgeProc,
  routedInstances,
  type ServiceProc,
  startEdgeProc,
  startServiceProc,
} from "../cluster/processes.ts";

setDefaultTimeout(60_000);

const PASSWORD = "correct Horse 7";
const ATTACKER = "203.0.113.7";
const OWNER = "198.51.100.23";

let nats: NatsServer;
let dataDir: string;
let edge: EdgeProc;
let accounts: ServiceProc;

beforeAll(async () => {
  nats = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-login-guessing-"));
  accounts = await startServiceProc("accounts", "accounts", { NATS_URL: nats.url, DATA_DIR: dataDir });
  edge = await startEdgeProc("edge", await freePort(), {
    NATS_URL: nats.url,
    EDGE_WORKERS: "1",
    EDGE_TRUSTED_PROXIES: "127.0.0.1",
  });
  await waitFor(async () => (await routedInstances(edge.url)).get("accounts")?.length === 1, {
    timeoutMs: 20_000,
    what: "the edge routing to accounts",
  });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([edge?.proc.stop(), accounts?.proc.stop()]);
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

type Answer = { status: number; body: string; retryAfter: string | null; ms: number };

async function post(path: string, json: unknown, from: string, token?: string): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${edge.url}/api/accounts/${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": from,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(json),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  return {
    status: res.status,
    body,
    retryAfter: res.headers.get("retry-after"),
    ms: performance.now() - started,
  };
}

/** A registered runner's email and a valid access token of hers. */
async function account(from: string): Promise<{ email: string; token: string }> {
  const email = `guess-${crypto.randomUUID()}@example.com`;
  expect((await post("signup", { email, password: PASSWORD }, from)).status).toBe(202);
  const login = await post("login", { email, password: PASSWORD }, from);
  expect(login.status).toBe(200);
  return { email, token: (JSON.parse(login.body) as { accessToken: string }).accessToken };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

test("50 wrong passwords from one address, each with another account's token: the 6th on is refused; the owner logs in from her address", async () => {
  const victim = await account(OWNER);
  // The attacker's own accounts: their valid tokens must buy no extra tries.
  const tokens = await Promise.all(Array.from({ length: 5 }, () => account("192.0.2.50")));
  const answers: Answer[] = [];
  for (let i = 0; i < 50; i++) {
    const token = tokens[i % tokens.length]?.token;
    answers.push(await post("login", { email: victim.email, password: `wrong ${i}` }, ATTACKER, token));
  }
  const statuses = answers.map((a) => a.status);
  expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
  // From the sixth on: refused (never checked), with a Retry-After.
  for (const a of answers.slice(5)) {
    expect(a.status).toBe(429);
    expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(a.body)).toMatchObject({ status: 429, title: "Too Many Requests" });
  }
  // The right password from the attacker's address is refused too while it is locked…
  expect((await post("login", { email: victim.email, password: PASSWORD }, ATTACKER)).status).toBe(429);
  // …but the owner, from her own address, logs in.
  expect((await post("login", { email: victim.email, password: PASSWORD }, OWNER)).status).toBe(200);
});

test("a registered email and an unknown one get the same answers, in comparable time", async () => {
  const known = await account(OWNER);
  const unknown = `nobody-${crypto.randomUUID()}@example.com`;
  const sequence = async (email: string, from: string) => {
    const out: Answer[] = [];
    for (let i = 0; i < 7; i++) out.push(await post("login", { email, password: `wrong ${i}` }, from));
    return out;
  };
  const a = await sequence(known.email, "203.0.113.101");
  const b = await sequence(unknown, "203.0.113.102");
  expect(a.map((x) => x.status)).toEqual([401, 401, 401, 401, 401, 429, 429]);
  expect(b.map((x) => x.status)).toEqual(a.map((x) => x.status));
  expect(b.map((x) => x.body)).toEqual(a.map((x) => x.body));
  expect(b.map((x) => x.retryAfter)).toEqual(a.map((x) => x.retryAfter));
  // The password is hashed for an unknown email too: the 401s take about as long.
  const [ka, kb] = [median(a.slice(0, 5).map((x) => x.ms)), median(b.slice(0, 5).map((x) => x.ms))];
  expect(Math.abs(ka - kb)).toBeLessThan(Math.max(25, Math.max(ka, kb) / 2));
  // Signing up with the registered email answers exactly as with a new one.
  const again = await post("signup", { email: known.email, password: "another Pass 9" }, "203.0.113.103");
  const fresh = await post(
    "signup",
    { email: `new-${crypto.randomUUID()}@example.com`, password: "another Pass 9" },
    "203.0.113.103",
  );
  expect([again.status, again.body]).toEqual([fresh.status, fresh.body]);
});
