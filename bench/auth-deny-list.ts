/**
 * What the deny list of ended sessions costs the edge per request: the
 * authenticator's answer for a token it has verified before (as for nearly
 * every request), with no deny list, with 10,000 revoked sessions listed
 * (the token's not among them), and for a token whose session is listed.
 * Real parts: a nats-server, the accounts service issuing the token, the
 * edge's JWKS cache and its watch of the `revoked_sessions` bucket.
 *
 *   taskset -c 1 bun bench/auth-deny-list.ts [--checks 1000000] [--runs 5] [--listed 10000]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { encodeRevocation, REVOKED_SESSIONS_BUCKET, silentLogger, startService } from "@runnerly/kit";
import { meshFetch, NatsServer } from "@runnerly/kit/testing";
import type { Route } from "../edge/discovery/route-table.ts";
import { Authenticator, type AuthOptions } from "../edge/middleware/auth/authenticate.ts";
import { JwksCache } from "../edge/middleware/auth/jwks.ts";
import { RevokedSessions } from "../edge/middleware/auth/revoked-sessions.ts";
import { accountsService } from "../services/accounts/service.ts";
import { signUpAndLogIn } from "../services/accounts/test-support.ts";
import { median } from "./lib/stats.ts";

const { values } = parseArgs({
  options: {
    checks: { type: "string", default: "1000000" },
    runs: { type: "string", default: "5" },
    listed: { type: "string", default: "10000" },
  },
});
const checks = Number(values.checks);
const runs = Number(values.runs);
const listed = Number(values.listed);

const nats = await NatsServer.start();
const env = { NATS_URL: nats.url, DATA_DIR: mkdtempSync(join(tmpdir(), "bench-deny-")), LOG_LEVEL: "silent" };
const accounts = await startService(accountsService(env), { env, logger: silentLogger });
const nc = await connect({ servers: nats.url });
const post = (path: string, json: unknown) =>
  meshFetch(nc, "accounts", `/api/accounts${path}`, { method: "POST", json });
const kept = await signUpAndLogIn(post);
const ended = await signUpAndLogIn(post);
expectStatus(await post("/logout", { refreshToken: ended.refreshToken }), 204);

// Fill the bucket as many logouts would.
const kv = await new Kvm(jetstream(nc)).open(REVOKED_SESSIONS_BUCKET);
const value = encodeRevocation({ until: Date.now() + 3600_000 });
for (let i = 0; i < listed; i += 500)
  await Promise.all(
    Array.from({ length: Math.min(500, listed - i) }, () => kv.put(crypto.randomUUID(), value)),
  );

const options: AuthOptions = { issuer: "runnerly-accounts", audience: "runnerly", typ: "at+jwt" };
const jwks = new JwksCache(nc, { subject: "svc.accounts.rpc.jwks" }, silentLogger);
await jwks.refresh();
const revoked = new RevokedSessions({ nc, logger: silentLogger, loadWaitMs: 30_000 });
const watchStarted = performance.now();
revoked.start();
await revoked.loaded;
const loadMs = performance.now() - watchStarted;
const route = { publicRoutes: [] } as unknown as Route;
const request = (token: string) =>
  new Request("http://edge/api/runs/runs", { headers: { authorization: `Bearer ${token}` } });

const variants = {
  "no deny list": { auth: new Authenticator(jwks, options), req: request(kept.accessToken), expect: "user" },
  [`${revoked.size.toLocaleString("en")} sessions listed, token's not`]: {
    auth: new Authenticator(jwks, options, revoked),
    req: request(kept.accessToken),
    expect: "user",
  },
  "token's session listed (401)": {
    auth: new Authenticator(jwks, options, revoked),
    req: request(ended.accessToken),
    expect: "error",
  },
};

// The first check verifies the signature; every later one is the cached answer measured here.
for (const v of Object.values(variants)) {
  const first = await v.auth.check(v.req, route, "/api/runs/runs");
  if (!(v.expect in first)) throw new Error(`unexpected first answer: ${JSON.stringify(first)}`);
}
const nsPerCheck: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let run = 0; run < runs + 1; run++) {
  for (const [name, v] of Object.entries(variants)) {
    const start = Bun.nanoseconds();
    for (let i = 0; i < checks; i++) v.auth.check(v.req, route, "/api/runs/runs");
    const ns = (Bun.nanoseconds() - start) / checks;
    if (run > 0) nsPerCheck[name]!.push(ns); // run 0 warms the JIT
  }
}

console.log(
  `| check of a verified token | ns per request (median of ${runs} × ${checks.toLocaleString("en")}) | runs |`,
);
console.log("| --- | --- | --- |");
for (const [name, all] of Object.entries(nsPerCheck))
  console.log(`| ${name} | ${Math.round(median(all))} | ${all.map((n) => Math.round(n)).join(", ")} |`);
console.log(
  `\nThe watch listed ${revoked.size.toLocaleString("en")} sessions ${Math.round(loadMs)} ms after it started.`,
);

await revoked.close();
jwks.stop();
await nc.close();
await accounts.stop();
await nats.stop();

function expectStatus(res: Response, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}`);
}
