/**
 * The dev stack's NATS security, through the real launcher (`bun scripts/dev.ts`):
 * every child runs as its own user and anonymous clients are refused; a user
 * added with `runnerly creds add` is live without a restart; with
 * `RUNNERLY_NATS_TLS=1` plaintext is refused and everything works over TLS.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect } from "@nats-io/transport-node";
import { readCredentials } from "@runnerly/kit/security";
import { freePort, plaintextConnect, runScript, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import { natsClientOptions } from "./nats-security.ts";
import { forEachLine } from "./output.ts";
import { findServices } from "./services.ts";

setDefaultTimeout(30_000);

const repo = resolve(import.meta.dir, "../..");

/** A running launcher: its output lines, its ports and data dir. */
type Launch = { proc: Subprocess; lines: string[]; dataDir: string; edge: string; natsPort: number };

/** The caller's environment without NATS settings, as a developer's shell would have it. */
const bareEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("NATS_")));

async function launch(extra: Record<string, string>): Promise<Launch> {
  const [edgePort, natsPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), "runnerly-dev-secure-"));
  const env = {
    ...bareEnv(),
    ...extra,
    EDGE_PORT: String(edgePort),
    NATS_PORT: String(natsPort),
    EDGE_WORKERS: "1",
  };
  const proc = Bun.spawn([process.execPath, "scripts/dev.ts"], {
    cwd: repo,
    env: { ...env, RUNNERLY_DATA_DIR: dataDir, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  for (const stream of [proc.stdout, proc.stderr]) void forEachLine(stream, (l) => lines.push(l));
  const it: Launch = { proc, lines, dataDir, edge: `http://127.0.0.1:${edgePort}`, natsPort };
  try {
    await waitForLine(it, /Runnerly ready|✘/, 25_000);
    if (!lines.some((l) => l.includes("Runnerly ready")))
      throw new Error(`launcher failed:\n${lines.join("\n")}`);
    return it;
  } catch (err) {
    // SIGTERM makes the launcher stop its children too.
    await stop(it);
    throw err;
  }
}

function waitForLine(it: Launch, pattern: RegExp, ms: number, from = 0): Promise<string> {
  return waitFor(() => it.lines.slice(from).find((l) => pattern.test(l)), {
    timeoutMs: ms,
    what: `a launcher line matching ${pattern}:\n${it.lines.slice(-30).join("\n")}`,
  });
}

async function stop(it: Launch | undefined): Promise<void> {
  if (!it) return;
  it.proc.kill("SIGTERM");
  await Promise.race([it.proc.exited, Bun.sleep(20_000)]);
  rmSync(it.dataDir, { recursive: true, force: true });
}

function runnerly(it: Launch, ...args: string[]) {
  return runScript(join(repo, "cli", "main.ts"), args, { ...bareEnv(), RUNNERLY_DATA_DIR: it.dataDir });
}

const credsOf = (it: Launch, user: string) =>
  readCredentials(join(it.dataDir, "nats", "creds", `${user}.env`));

describe("dev stack: a NATS user per child", () => {
  let it: Launch;
  beforeAll(async () => {
    it = await launch({});
  });
  afterAll(() => stop(it));

  test("private creds files, anonymous clients refused, the stack works and nothing is refused", async () => {
    const creds = join(it.dataDir, "nats", "creds");
    // One per service found (a scaffolded one too), the edge's, the operator's and the provisioner's.
    const users = [
      ...findServices(join(repo, "services")).map((s) => s.name),
      "edge",
      "operator",
      "provisioner",
    ];
    expect(readdirSync(creds).sort()).toEqual(users.map((u) => `${u}.env`).sort());
    expect(users).toEqual(expect.arrayContaining(["accounts", "plans", "runs", "stats"]));
    for (const f of readdirSync(creds)) expect(statSync(join(creds, f)).mode & 0o777).toBe(0o600);
    const anonymous = await connect({ servers: `nats://127.0.0.1:${it.natsPort}`, reconnect: false }).then(
      (c) => c.close().then(() => "connected"),
      (err: unknown) => String(err),
    );
    expect(anonymous).toMatch(/Authorization Violation/);
    expect((await fetch(`${it.edge}/api/runs/healthz`)).status).toBe(200);
    expect((await fetch(`${it.edge}/api/accounts/.well-known/jwks.json`)).status).toBe(200);
    const ls = await runnerly(it, "ls");
    for (const name of ["accounts", "plans", "runs", "stats"]) expect(ls.out).toContain(name);
    // The launcher provisioned the streams and the durable before the services started;
    // `runnerly provision` (as the provisioner) finds them current.
    expect(
      it.lines.filter((l) => /: created$/.test(l.trim())).map((l) => l.trim().split(" ").slice(-3).join(" ")),
    ).toEqual([
      "stream EVENTS_RUNS: created",
      "stream EVENTS_STATS: created",
      "durable EVENTS_RUNS/stats-update-totals: created",
      "stream RESULTS_PLANS: created",
      "durable RESULTS_PLANS/plans-task-results: created",
      "stream TASKS_STATS: created",
      "durable TASKS_STATS/stats-tasks: created",
      "stream RESULTS_STATS: created",
      "durable RESULTS_STATS/stats-task-results: created",
    ]);
    // A streamed reply (server-sent events) through the edge under the services' own users:
    // its later messages go to the edge's stream inbox for stats, which stats' user may publish to.
    const account = { email: "sse@example.com", password: "correct Horse 7 sse" };
    const json = { "content-type": "application/json" };
    await fetch(`${it.edge}/api/accounts/signup`, {
      method: "POST",
      headers: json,
      body: JSON.stringify(account),
    });
    const login = await fetch(`${it.edge}/api/accounts/login`, {
      method: "POST",
      headers: json,
      body: JSON.stringify(account),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${accessToken}` };
    const asked = await fetch(`${it.edge}/api/stats/reports`, {
      method: "POST",
      headers: { ...json, ...auth },
      body: JSON.stringify({ month: new Date().toISOString().slice(0, 7) }),
    });
    expect(asked.status).toBe(202);
    const followed = await fetch(`${it.edge}${asked.headers.get("location")}`, {
      headers: { ...auth, accept: "text/event-stream" },
      signal: AbortSignal.timeout(20_000),
    });
    expect(followed.headers.get("content-type")).toContain("text/event-stream");
    // The stream ends once the report is ready; a refused message would leave it hanging until the timeout.
    expect(await followed.text()).toMatch(/event: status\ndata: .*"status":"ready"/);
    const provision = await runnerly(it, "provision");
    expect(provision.code).toBe(0);
    expect(provision.out).toContain("durable EVENTS_RUNS/stats-update-totals: current");
    expect(provision.out).toContain("stream EVENTS_RUNS: current");
    expect(it.lines.filter((l) => /Violation/.test(l))).toEqual([]);
  });

  test("runnerly creds add: the launcher makes nats-server reload, and the new user is live", async () => {
    const from = it.lines.length;
    const added = await runnerly(it, "creds", "add", "greeter", "--calls", "svc.stats.rpc.weeklyTotals");
    expect(added.code).toBe(0);
    await waitForLine(it, /nats-server reloads them/, 5_000, from);
    const nc = await waitFor(
      () => connect({ ...natsClientOptions(credsOf(it, "greeter")), reconnect: false }).catch(() => null),
      { timeoutMs: 5_000, what: "greeter connected after the reload" },
    );
    const reply = await nc.request("svc.stats.rpc.weeklyTotals", "{}", { timeout: 5_000 });
    expect(reply.headers?.get("Nats-Service-Error-Code")).toBe("400");
    await nc.close();
  });
});

describe("dev stack with RUNNERLY_NATS_TLS=1", () => {
  let it: Launch;
  beforeAll(async () => {
    it = await launch({ RUNNERLY_NATS_TLS: "1" });
  });
  afterAll(() => stop(it));

  test("plaintext is refused; services, edge and CLI work over TLS", async () => {
    const runs = credsOf(it, "runs");
    expect(runs.NATS_URL).toBe(`tls://127.0.0.1:${it.natsPort}`);
    expect(runs.NATS_TLS_CA).toBe(join(it.dataDir, "nats", "tls", "ca.pem"));
    const plaintext = await plaintextConnect(it.natsPort);
    expect(plaintext).toContain('"tls_required":true');
    expect(plaintext).not.toContain("PONG");
    expect((await fetch(`${it.edge}/api/runs/healthz`)).status).toBe(200);
    const signup = await fetch(`${it.edge}/api/accounts/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "tls@example.com", password: "correct Horse 7" }),
    });
    expect(signup.status).toBe(202);
    const ls = await runnerly(it, "ls");
    expect(ls.err).toBe("");
    for (const name of ["accounts", "plans", "runs", "stats"]) expect(ls.out).toContain(name);
  });
});
