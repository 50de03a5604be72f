/**
 * The NATS users the dev stack generates for the real services, against a real
 * nats-server: every service, the edge and the operator are refused everything
 * that is not theirs, and nothing leaks; the real services still work end to
 * end with their own credentials (so the permissions are not too tight), and
 * the server logs no violation while they do.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { adminRpc, createRpcClient, type RunningService, silentLogger, startService } from "@runnerly/kit";
import {
  generatePassword,
  hashPassword,
  natsUsers,
  renderAuthorization,
  type ServiceAccess,
} from "@runnerly/kit/security";
import { meshFetch, NatsServer, NatsUsers, PermissionProbe, waitFor } from "@runnerly/kit/testing";
import { tailEvents } from "../../cli/events.ts";
import { infos as srvInfo, stats as srvStats } from "../../cli/micro.ts";
import { type DescribedService, describeServices } from "../../scripts/dev/nats-access.ts";
import { provisionServices } from "../../scripts/dev/provision.ts";
import { findServices } from "../../scripts/dev/services.ts";

setDefaultTimeout(45_000);

const repo = resolve(import.meta.dir, "../..");
/** A foreign service added as `runnerly creds add audit --consumes EVENTS_RUNS:audit-log-runs` would be. */
const audit: ServiceAccess = {
  name: "audit",
  events: false,
  consumes: [{ stream: "EVENTS_RUNS", durable: "audit-log-runs" }],
  calls: [],
  selfProvision: true,
};

let nats: NatsServer;
let dataDir: string;
let access: ServiceAccess[];
let described: DescribedService[];
const clients = new NatsUsers(() => nats.url);
const { passwords } = clients;
const as = (user: string) => clients.as(user);
const running: RunningService<Record<string, unknown>>[] = [];
let observer: NatsConnection;
/** The pull user of each service that has one (`stats` → `stats.pull`). */
const pullUsers = new Map<string, string>();

beforeAll(async () => {
  described = await describeServices(findServices(join(repo, "services")));
  access = [...described.map((d) => d.access), audit];
  const users = natsUsers(access);
  const hashes = new Map<string, string>();
  for (const u of [...users.filter((x) => x.role !== "pull").map((x) => x.user), "observer"]) {
    passwords.set(u, generatePassword());
    hashes.set(u, await hashPassword(passwords.get(u)!));
  }
  // A pull user has its service's password, as writeNatsAuth makes it.
  for (const u of users) {
    if (u.role !== "pull" || !u.of) continue;
    passwords.set(u.user, passwords.get(u.of)!);
    hashes.set(u.user, hashes.get(u.of)!);
    pullUsers.set(u.of, u.user);
  }
  // A test-only user that sees everything, to prove that nothing leaks.
  const everything = { publish: { allow: [">"] }, subscribe: { allow: [">"] } };
  const observerUser = { user: "observer", role: "operator" as const, permissions: everything };
  nats = await NatsServer.start({ auth: renderAuthorization([...users, observerUser], hashes) });
  observer = await as("observer");
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-perms-"));
});

afterAll(async () => {
  for (const s of running.reverse()) await s.stop();
  await clients.close();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("generated NATS users", () => {
  test("describe the real services from their definitions", () => {
    const byName = Object.fromEntries(access.map((a) => [a.name, a]));
    expect(byName.runs).toEqual({ name: "runs", events: true, consumes: [], calls: [] });
    expect(byName.stats).toEqual({
      name: "stats",
      events: true,
      consumes: [{ stream: "EVENTS_RUNS", durable: "stats-update-totals", rebuild: true }],
      calls: [],
      works: ["report.monthly", "report.season"],
      submits: [{ service: "stats", name: "report.monthly" }],
    });
    expect(byName.plans?.calls).toEqual(["svc.stats.rpc.weeklyTotals"]);
    expect(byName.accounts).toMatchObject({ name: "accounts", events: false, consumes: [], calls: [] });
    expect(byName.accounts?.kvBuckets).toContain("accounts_login_failures");
  });

  test("anonymous and wrong-password connections are refused", async () => {
    const refused = async (opts: { user?: string; pass?: string }) => {
      try {
        const nc = await connect({ servers: nats.url, reconnect: false, ...opts });
        await nc.close();
        return "connected";
      } catch (err) {
        return String(err);
      }
    };
    expect(await refused({})).toMatch(/Authorization Violation/);
    expect(await refused({ user: "runs", pass: "not-the-password" })).toMatch(/Authorization Violation/);
    expect(await refused({ user: "nobody", pass: passwords.get("runs") })).toMatch(/Authorization Violation/);
  });

  test("the real services work end to end with their own credentials, and nothing is refused", async () => {
    const edge = await as("edge");
    const announced = new Set<string>();
    const announcements = edge.subscribe("mesh.announce.*", {
      callback: (_e, m) => {
        announced.add(`${m.subject}: ${m.json<{ name: string }>().name}`);
      },
    });
    await edge.flush();
    // Who pulls each kit durable: the reply subject of every pull request names the connection's inbox.
    const pullsBy = new Map<string, Set<string>>();
    const pulls = observer.subscribe("$JS.API.CONSUMER.MSG.NEXT.>", {
      callback: (_e, m) => {
        const durable = m.subject.split(".").slice(-2).join("/");
        const inbox = (m.reply ?? "")
          .split(".")
          .slice(0, -1)
          .join(".")
          .replace(/\.[A-Za-z0-9]{22}$/, "");
        pullsBy.set(durable, (pullsBy.get(durable) ?? new Set()).add(inbox));
      },
    });
    await observer.flush();
    const envOf = (name: string) => ({
      NATS_URL: nats.url,
      NATS_USER: name,
      NATS_PASS: passwords.get(name),
      ...(pullUsers.has(name) ? { NATS_PULL_USER: pullUsers.get(name) } : {}),
      DATA_DIR: mkdtempSync(join(dataDir, `${name}-`)),
      LOG_LEVEL: "silent",
    });
    // Before the provisioner has run, a service cannot make its own stream, and says what to do.
    const runsDef = (await import(join(repo, "services", "runs", "service.ts"))).service;
    await expect(startService(runsDef, { env: envOf("runs"), logger: silentLogger })).rejects.toThrow(
      /stream EVENTS_RUNS does not exist and this service may not create it; provision it/,
    );
    const provisioned: string[] = [];
    const failed = await provisionServices(await as("provisioner"), described, {}, (l) =>
      provisioned.push(l),
    );
    expect(failed).toEqual([]);
    // A pull user the server does not know stops the start, naming the setting.
    const statsDef = (await import(join(repo, "services", "stats", "service.ts"))).service;
    const unknownPuller = { ...envOf("stats"), NATS_PULL_USER: "stats.nobody" };
    await expect(startService(statsDef, { env: unknownPuller, logger: silentLogger })).rejects.toThrow(
      /NATS_PULL_USER stats\.nobody: the connection to pull JetStream messages failed: .*Authorization Violation/,
    );
    // From here on, nothing the services do is refused.
    const logFrom = nats.log.length;
    expect(provisioned).toEqual([
      "stream EVENTS_RUNS: created",
      "stream EVENTS_STATS: created",
      "durable EVENTS_RUNS/stats-update-totals: created",
      "stream RESULTS_PLANS: created",
      "durable RESULTS_PLANS/plans-task-results: created",
      "stream TASKS_STATS: created",
      "durable TASKS_STATS/stats-tasks: created",
      "stream RESULTS_STATS: created",
      "durable RESULTS_STATS/stats-task-results: created",
      ...described.flatMap((d) => d.definition?.kvBuckets ?? []).map((b) => `kv ${b.name}: ready`),
      "kv edge_canary: ready",
    ]);
    for (const name of ["accounts", "runs", "stats", "plans"]) {
      const { service } = await import(join(repo, "services", name, "service.ts"));
      running.push(await startService(service, { env: envOf(name), logger: silentLogger }));
    }
    await waitFor(() => announced.size === 4, { what: "four announcements on mesh.announce.*" });
    // Each on its own subject, the only announce subject its user may publish.
    expect([...announced].sort()).toEqual(
      ["accounts", "plans", "runs", "stats"].map((name) => `mesh.announce.${name}: ${name}`),
    );
    announcements.unsubscribe();

    // Discovery as the edge does it: $SRV.INFO to everyone.
    const infos: string[] = [];
    for await (const m of await edge.requestMany("$SRV.INFO", "", { strategy: "count", maxMessages: 4 }))
      infos.push(m.json<{ name: string }>().name);
    expect(infos.sort()).toEqual(["accounts", "plans", "runs", "stats"]);
    // Each instance serves on a subject of its own too, and the edge may call it there.
    const runsInfo = (await edge.request("$SRV.INFO.runs", "", { timeout: 5000 })).json<{
      id: string;
      endpoints: { name: string; subject: string }[];
    }>();
    const own = runsInfo.endpoints.find((e) => e.name === "http-instance")?.subject;
    expect(own).toBe(`svc.runs.http.${runsInfo.id}`);
    expect((await meshFetch(edge, "runs", "/api/runs/healthz", { subject: own })).status).toBe(200);
    const jwks = (await edge.request("svc.accounts.rpc.jwks", "{}", { timeout: 5000 })).json<{ keys: [] }>();
    expect(jwks.keys.length).toBeGreaterThan(0);
    // A failed log-in is counted in accounts' KV bucket (a 503 if its user could not reach it).
    const guess = { email: "nobody@example.com", password: "wrong Password 1" };
    const login = await meshFetch(edge, "accounts", "/api/accounts/login", { method: "POST", json: guess });
    expect(login.status).toBe(401);

    // runs → events → stats' durable consumer → plans' RPC to stats.
    const run = await meshFetch(edge, "runs", "/api/runs/runs", {
      method: "POST",
      user: "ann",
      json: { distanceM: 8000, durationS: 2400, startedAt: new Date().toISOString() },
    });
    expect(run.status).toBe(201);
    await waitFor(
      async () =>
        (
          (await (await meshFetch(edge, "stats", "/api/stats/summary", { user: "ann" })).json()) as {
            runs: number;
          }
        ).runs === 1,
      { what: "stats counting ann's run" },
    );
    const raceDate = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
    const plan = await meshFetch(edge, "plans", "/api/plans/plans", {
      method: "POST",
      user: "ann",
      json: { name: "10k", raceDate, raceDistanceM: 10_000, goalTimeS: 2700 },
    });
    expect(plan.status).toBe(201);
    const withProgress = (await plan.json()) as {
      degraded: boolean;
      progress: { weeks: { doneM: number }[] };
    };
    expect(withProgress.degraded).toBe(false);
    expect(withProgress.progress.weeks[0]?.doneM).toBe(8000);

    // Tasks under the generated users: stats works its own monthly report, and plans asks stats
    // for a season report (task to TASKS_STATS, result back on RESULTS_PLANS).
    const report = await meshFetch(edge, "stats", "/api/stats/reports", {
      method: "POST",
      user: "ann",
      json: { month: new Date().toISOString().slice(0, 7) },
    });
    expect(report.status).toBe(202);
    const reportAt = report.headers.get("location") ?? "";
    await waitFor(
      async () =>
        ((await (await meshFetch(edge, "stats", reportAt, { user: "ann" })).json()) as { status: string })
          .status === "ready",
      { what: "stats' monthly report ready through its task" },
    );
    const { id: planId } = withProgress as unknown as { id: string };
    const season = await meshFetch(edge, "plans", `/api/plans/plans/${planId}/report`, {
      method: "POST",
      user: "ann",
    });
    expect(season.status).toBe(202);
    await waitFor(
      async () => {
        const r = await meshFetch(edge, "plans", `/api/plans/plans/${planId}/report`, { user: "ann" });
        return ((await r.json()) as { status: string }).status === "ready";
      },
      { what: "plans' season report worked by stats and back in plans" },
    );

    // The operator: admin RPCs, including a rebuild that reads EVENTS_RUNS through message gets.
    const operator = await as("operator");
    const statsAdmin = createRpcClient(operator, adminRpc("stats"), { timeoutMs: 20_000 });
    expect((await statsAdmin.rebuild({ consumer: "stats-update-totals" })).applied).toBe(1);
    expect(await statsAdmin.deadLetters({})).toEqual([]);
    expect((await createRpcClient(operator, adminRpc("runs")).outbox({})).count).toBe(0);
    // What `runnerly ls`, `stats` and `events tail` do.
    expect((await srvInfo(operator)).map((i) => i.name).sort()).toEqual([
      "accounts",
      "plans",
      "runs",
      "stats",
    ]);
    expect((await srvStats(operator)).length).toBe(4);
    const tailed: string[] = [];
    await tailEvents(operator, "EVENTS_RUNS", { all: true, count: 1 }, (line) => tailed.push(line));
    expect(JSON.parse(tailed[0] ?? "{}").subject).toBe("events.runs.run.logged");

    // The kit's services pulled every durable on their pull users' connections, never on the
    // connection that answers requests (whose user has allow_responses).
    // (The operator's `events tail` above pulled an ordered consumer of its own.)
    pulls.unsubscribe();
    const kitPulls = [...pullsBy].filter(([, inboxes]) => !inboxes.has("_INBOX.operator"));
    expect(Object.fromEntries(kitPulls.map(([d, inboxes]) => [d, [...inboxes]]))).toEqual({
      "EVENTS_RUNS/stats-update-totals": ["_INBOX.stats.pull"],
      "TASKS_STATS/stats-tasks": ["_INBOX.stats.pull"],
      "RESULTS_STATS/stats-task-results": ["_INBOX.stats.pull"],
      "RESULTS_PLANS/plans-task-results": ["_INBOX.plans.pull"],
    });

    // A foreign consumer with its own declared durable on a stream it reads.
    const auditor = await as("audit");
    const jsm = await jetstreamManager(auditor);
    await jsm.consumers.add("EVENTS_RUNS", {
      durable_name: "audit-log-runs",
      ack_policy: AckPolicy.Explicit,
      filter_subject: "events.runs.>",
    });
    const next = await (await jetstreamManager(auditor))
      .jetstream()
      .consumers.get("EVENTS_RUNS", "audit-log-runs");
    const m = await next.next({ expires: 5000 });
    expect(m?.subject).toBe("events.runs.run.logged");
    await m?.ackAck();

    expect(nats.log.slice(logFrom).filter((l) => /Violation/.test(l))).toEqual([]);
  });

  test("every user is refused every other user's subjects, and nothing leaks", async () => {
    const services = ["accounts", "runs", "stats", "plans", "audit"];
    const streams = ["EVENTS_ACCOUNTS", "EVENTS_RUNS", "EVENTS_STATS", "EVENTS_PLANS"];
    const ownStream = (u: string) => `EVENTS_${u.toUpperCase()}`;
    const reads = (u: string) => access.find((a) => a.name === u)?.consumes.map((c) => c.stream) ?? [];

    // What a legitimate subscriber would see: the observer listens where the probes aim.
    const leaked: string[] = [];
    const targets = [
      "svc.*.http",
      "svc.*.rpc.>",
      "svc.*.admin.rpc.>",
      "events.>",
      "$SYS.>",
      "mesh.announce",
      "mesh.announce.>",
    ];
    for (const t of targets) {
      observer.subscribe(t, {
        callback: (_e, msg) => {
          if (msg.string() !== "bait") leaked.push(msg.subject);
        },
      });
    }
    await observer.flush();
    const jsm = await jetstreamManager(observer);
    const before = await streamState(jsm);

    const refusals: string[] = [];
    const expectDenied = (who: string, what: string, verdict: string) => {
      if (verdict !== "denied") refusals.push(`${who} was allowed to ${what}`);
    };
    for (const user of [...services, "edge", "operator", "provisioner"]) {
      const nc = await as(user);
      const probe = new PermissionProbe(nc);
      const inbound = () => nc.stats().inMsgs;
      for (const other of services.filter((s) => s !== user)) {
        expectDenied(user, `subscribe svc.${other}.>`, await probe.subscribe(`svc.${other}.>`));
        expectDenied(
          user,
          `queue-subscribe svc.${other}.http`,
          await probe.subscribe(`svc.${other}.http`, "q"),
        );
        expectDenied(user, `subscribe $SRV.PING.${other}`, await probe.subscribe(`$SRV.PING.${other}`));
        expectDenied(user, `subscribe _INBOX.${other}.>`, await probe.subscribe(`_INBOX.${other}.>`));
        expectDenied(user, `publish events.${other}.x`, await probe.publish(`events.${other}.x`));
        // Speaking for another service: the edge would believe a start or a stop said there.
        expectDenied(user, `announce for ${other}`, await probe.publish(`mesh.announce.${other}`));
        if (user !== "edge")
          expectDenied(user, `publish svc.${other}.http`, await probe.publish(`svc.${other}.http`));
        if (user !== "edge")
          expectDenied(user, `publish svc.${other}.http.v1`, await probe.publish(`svc.${other}.http.v1`));
        // An instance's own subject (the edge picks the instance of each try): the edge's alone too.
        if (user !== "edge")
          expectDenied(
            user,
            `publish svc.${other}.http.<instance>`,
            await probe.publish(`svc.${other}.http.NUIDOFANINSTANCE00001`),
          );
      }
      // Only the edge may publish to svc.*.http and its instances' subjects, a service not even to its own.
      if (user !== "edge") {
        expectDenied(user, `publish svc.${user}.http`, await probe.publish(`svc.${user}.http`));
        const own = `svc.${user}.http.NUIDOFANINSTANCE00001`;
        expectDenied(user, `publish ${own}`, await probe.publish(own));
      }
      // The operator reads every stream (events tail); the others only their own and those they consume.
      const foreign =
        user === "operator" || user === "provisioner"
          ? []
          : streams.filter((s) => s !== ownStream(user) && !reads(user).includes(s));
      for (const stream of foreign) {
        expectDenied(user, `STREAM.INFO ${stream}`, await probe.request(`$JS.API.STREAM.INFO.${stream}`));
        const create = `$JS.API.CONSUMER.CREATE.${stream}.rogue-${user}`;
        expectDenied(user, `create a consumer on ${stream}`, await probe.request(create));
        expectDenied(
          user,
          `pull from ${stream}`,
          await probe.request(`$JS.API.CONSUMER.MSG.NEXT.${stream}.x`),
        );
      }
      // Another service's durable on a stream it reads: out of reach even for a rebuild's wildcard.
      if (user === "stats" || user === "operator") {
        const theirs = "EVENTS_RUNS.audit-log-runs";
        for (const verb of ["CREATE", "DURABLE.CREATE", "DELETE", "INFO", "MSG.NEXT"]) {
          const subject = `$JS.API.CONSUMER.${verb}.${theirs}`;
          expectDenied(user, subject, await probe.request(subject));
        }
        const update = `$JS.API.CONSUMER.CREATE.${theirs}.events.runs.>`;
        expectDenied(user, update, await probe.request(update));
        expectDenied(
          user,
          "ack for audit",
          await probe.publish("$JS.ACK.EVENTS_RUNS.audit-log-runs.1.1.1.1.0"),
        );
      }
      if (user === "operator") {
        for (const verb of ["CREATE", "MSG.NEXT", "DELETE"]) {
          const subject = `$JS.API.CONSUMER.${verb}.EVENTS_RUNS.stats-update-totals`;
          expectDenied(user, subject, await probe.request(subject));
        }
        const update = "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.stats-update-totals.events.runs.>";
        expectDenied(user, "update stats' durable", await probe.request(update));
      }
      // No stream is ever deleted or purged; streams and durables are made by the provisioner alone
      // (a foreign service added with creds add makes its own), and no one else creates a consumer:
      // its configuration could deliver a stream to any subject.
      for (const stream of streams) {
        for (const verb of ["DELETE", "PURGE"]) {
          const subject = `$JS.API.STREAM.${verb}.${stream}`;
          expectDenied(user, subject, await probe.request(subject));
        }
        if (user === "audit" && stream === "EVENTS_AUDIT") continue;
        if (user !== "provisioner") {
          for (const verb of ["CREATE", "UPDATE"]) {
            const subject = `$JS.API.STREAM.${verb}.${stream}`;
            expectDenied(user, subject, await probe.request(subject));
          }
        }
        if (user !== "operator") {
          const rogue = `$JS.API.CONSUMER.CREATE.${stream}.rogue-${user}`;
          expectDenied(user, rogue, await probe.request(rogue));
          expectDenied(user, `${rogue} with a filter`, await probe.request(`${rogue}.events.>`));
        }
      }
      // A service's KV bucket: only its own keys, and the bucket made, changed or emptied by no service.
      const logins = "accounts_login_failures";
      if (user !== "accounts") {
        expectDenied(user, `write ${logins}`, await probe.publish(`$KV.${logins}.pair.x`));
        expectDenied(
          user,
          `read ${logins}`,
          await probe.request(`$JS.API.DIRECT.GET.KV_${logins}.$KV.${logins}.pair.x`),
        );
      }
      for (const verb of ["DELETE", "PURGE", ...(user === "provisioner" ? [] : ["CREATE", "UPDATE"])]) {
        const subject = `$JS.API.STREAM.${verb}.KV_${logins}`;
        expectDenied(user, subject, await probe.request(subject));
      }
      if (user === "stats") {
        for (const subject of [
          "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.stats-update-totals",
          "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.stats-update-totals.events.runs.>",
          "$JS.API.CONSUMER.DURABLE.CREATE.EVENTS_RUNS.stats-update-totals",
        ])
          expectDenied(user, `change its own durable: ${subject}`, await probe.request(subject));
      }
      if (user === "provisioner") {
        expectDenied(
          user,
          "pull from stats' durable",
          await probe.request("$JS.API.CONSUMER.MSG.NEXT.EVENTS_RUNS.stats-update-totals"),
        );
        expectDenied(user, "read a stream", await probe.request("$JS.API.STREAM.MSG.GET.EVENTS_RUNS"));
        expectDenied(user, "publish an event", await probe.publish("events.runs.run.logged"));
        expectDenied(user, "call an RPC", await probe.request("svc.stats.rpc.weeklyTotals"));
      }
      expectDenied(user, "list streams", await probe.request("$JS.API.STREAM.LIST"));
      expectDenied(user, "publish the bare mesh.announce", await probe.publish("mesh.announce"));
      expectDenied(user, "subscribe $SYS.>", await probe.subscribe("$SYS.>"));
      expectDenied(user, "publish $SYS.REQ.SERVER.PING", await probe.publish("$SYS.REQ.SERVER.PING"));
      expectDenied(user, "subscribe _INBOX.>", await probe.subscribe("_INBOX.>"));
      expectDenied(user, "subscribe >", await probe.subscribe(">"));
      if (user !== "plans" && user !== "operator") {
        expectDenied(user, "call stats.weeklyTotals", await probe.request("svc.stats.rpc.weeklyTotals"));
      }
      if (user === "edge" || user === "operator") {
        expectDenied(user, "subscribe svc.edge.>", await probe.subscribe("svc.edge.>"));
        // The edge opens its KV bucket through the JetStream API (account info first); the operator never.
        if (user === "operator")
          expectDenied(user, "JetStream account info", await probe.request("$JS.API.INFO"));
        if (user === "edge") {
          expectDenied(user, "call an admin RPC", await probe.request("svc.stats.admin.rpc.outbox"));
        }
      }
      // No message reached the prober through any refused subscription.
      const received = inbound();
      observer.publish(`svc.${services.find((s) => s !== user)}.http`, "bait");
      await observer.flush();
      await nc.flush();
      expect(inbound()).toBe(received);
    }
    expect(refusals).toEqual([]);

    await observer.flush();
    expect(leaked).toEqual([]);
    expect(await streamState(jsm)).toEqual(before);
  });
});

describe("the permission probe", () => {
  test("tells allowed from denied (so the refusals above are not vacuous)", async () => {
    const allowed: [string, (p: PermissionProbe) => Promise<string>][] = [
      ["runs", (p) => p.subscribe("svc.runs.>", "q")],
      ["edge", (p) => p.subscribe("mesh.announce.*")],
      ["stats", (p) => p.publish("mesh.announce.stats")],
      ["plans", (p) => p.request("svc.stats.rpc.weeklyTotals")],
      ["operator", (p) => p.request("$SRV.PING")],
      ["provisioner", (p) => p.request("$JS.API.STREAM.INFO.EVENTS_RUNS")],
      ["stats", (p) => p.request("$JS.API.STREAM.MSG.GET.EVENTS_RUNS")],
      ["accounts", (p) => p.request("$JS.API.STREAM.INFO.KV_accounts_login_failures")],
    ];
    for (const [user, attempt] of allowed) {
      expect(`${user}: ${await attempt(new PermissionProbe(await as(user)))}`).toBe(`${user}: allowed`);
    }
  });
});

/** Messages per stream and consumer names per stream: unchanged when nothing got through. */
async function streamState(jsm: Awaited<ReturnType<typeof jetstreamManager>>) {
  const state: Record<string, { messages: number; consumers: string[] }> = {};
  for await (const s of jsm.streams.list()) {
    const consumers: string[] = [];
    for await (const c of jsm.consumers.list(s.config.name)) consumers.push(c.name);
    state[s.config.name] = { messages: s.state.messages, consumers: consumers.sort() };
  }
  return state;
}
