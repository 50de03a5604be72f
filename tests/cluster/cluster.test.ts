/**
 * The stack on a three-node JetStream cluster (issue 9, item 2), all real
 * processes on loopback: nats-server n1…n3, accounts, two runs and two stats
 * instances with R3 event streams, and the edge. Runs are written (POST with
 * an Idempotency-Key) and read (GET) through the edge at a steady rate while a
 * node is killed with SIGKILL every 15 s and restarted. Nothing may fail from
 * the client's view (the edge retries idempotent requests itself), every
 * acknowledged run exists exactly once, stats' totals are exactly the sum of
 * the acknowledged runs with each event applied once, and every service
 * process reconnects by itself (same PIDs throughout).
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { adminRpc, createRpcClient } from "@runnerly/kit";
import { freePort, NatsCluster, waitFor } from "@runnerly/kit/testing";
import { postTo, signUpAndLogIn } from "../../services/accounts/test-support.ts";
import { listRunIds } from "./api.ts";
import { type EventCounts, eventCounts, eventDelays, loggedInStream } from "./events.ts";
import { Load, type Verdict } from "./load.ts";
import {
  type EdgeProc,
  edgeRetryFigures,
  metricValue,
  routedInstances,
  type ServiceProc,
  startEdgeProc,
  startServiceProc,
} from "./processes.ts";

/** The kill schedule: the first kill, then one every 15 s, each node down for a while. */
const FIRST_KILL_MS = 4_000;
const KILL_EVERY_MS = 15_000;
const DOWN_MS = 6_000;
const CYCLES = 3;
/** 20 POST/s and 20 GET/s through the edge. */
const RATE = 40;
/** A client gives up on a request after this (the edge's own deadline is 10 s). */
const CLIENT_TIMEOUT_MS = 20_000;
const USERS = 4;

type Acked = { id: string; user: string; distanceM: number; durationS: number; replayed: boolean };
type User = { id: string; token: string };

let cluster: NatsCluster;
let nc: NatsConnection;
let dataDir: string;
let edge: EdgeProc;
const services: ServiceProc[] = [];
let counts: EventCounts | undefined;

beforeAll(async () => {
  const started = performance.now();
  cluster = await NatsCluster.start({ nodes: 3 });
  nc = await connect({ servers: cluster.urls, name: "cluster-test", maxReconnectAttempts: -1 });
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-cluster-"));
  const env = (name: string, instance: string) => ({
    NATS_URL: cluster.url,
    DATA_DIR: join(dataDir, name),
    SERVICE_INSTANCE: instance,
    EVENTS_REPLICAS: "3",
    // A delivery whose ack went to a dead consumer leader comes back within 5 s, not 30.
    EVENTS_ACK_WAIT_MS: "5000",
  });
  // Kept as each is up, so that afterAll stops what started even when another failed to.
  const start = async (name: string, i: number) => {
    services.push(await startServiceProc(name, `${name}-${i}`, env(name, String(i))));
  };
  // Accounts first (its signing key), runs before stats (stats' durable is on the runs stream).
  await Promise.all([start("accounts", 1), start("runs", 1)]);
  await Promise.all([start("runs", 2), start("stats", 1), start("stats", 2)]);
  edge = await startEdgeProc("edge", await freePort(), { NATS_URL: cluster.url, EDGE_WORKERS: "1" });
  const want = { accounts: 1, runs: 2, stats: 2 };
  await waitFor(
    async () => {
      const routed = await routedInstances(edge.url);
      return Object.entries(want).every(([s, n]) => routed.get(s)?.length === n);
    },
    { timeoutMs: 20_000, what: "the edge routing to every instance" },
  );
  console.log(`stack up on ${cluster.url} in ${Math.round(performance.now() - started)} ms`);
}, 120_000);

afterAll(async () => {
  counts?.close();
  await Promise.allSettled([edge?.proc.stop(), ...services.map((s) => s.proc.stop())]);
  await nc?.close();
  await cluster?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function signup(n: number): Promise<User> {
  const body = await signUpAndLogIn(postTo(edge.url), `runner${n}-${crypto.randomUUID()}@example.com`);
  return { id: body.user.id, token: body.accessToken };
}

/** The leaders on the cluster now (for the log: what a kill takes away). */
async function leaders(): Promise<string> {
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    const stream = await jsm.streams.info("EVENTS_RUNS");
    const consumer = await jsm.consumers.info("EVENTS_RUNS", "stats-update-totals");
    return `meta ${await cluster.metaLeader()}, EVENTS_RUNS ${stream.cluster?.leader}, stats-update-totals ${consumer.cluster?.leader}`;
  } catch (err) {
    return `leaders unknown (${String(err)})`;
  }
}

test("a node killed every 15 s under load: nothing fails, nothing is lost or applied twice", async () => {
  const testStarted = performance.now();
  const jsm = await jetstreamManager(nc);
  // The event streams and the durable are replicated on all three nodes.
  for (const name of ["EVENTS_RUNS", "EVENTS_STATS"]) {
    const info = await jsm.streams.info(name);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);
  }
  // Stats makes its durable as its consumer starts, just after it reports ready.
  const durable = await waitFor(() => jsm.consumers.info("EVENTS_RUNS", "stats-update-totals"), {
    timeoutMs: 15_000,
    what: "stats' durable",
  });
  expect(durable.cluster?.replicas?.length).toBe(2);

  const users = await Promise.all(Array.from({ length: USERS }, (_, n) => signup(n)));
  const pids = new Map([
    ...services.map((s) => [s.proc.label, s.proc.pid] as const),
    ["edge", edge.proc.pid],
  ]);
  const acked: Acked[] = [];
  const owner = new Map(users.map((u) => [u.id, u]));

  async function postRun(n: number): Promise<Verdict> {
    const user = users[n % USERS] as User;
    const run = {
      distanceM: 1000 + (n % 97) * 10,
      durationS: 300 + (n % 13) * 7,
      startedAt: new Date(Date.UTC(2026, 0, 1) + n * 3_600_000).toISOString(),
    };
    const res = await fetch(`${edge.url}/api/runs/runs`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${user.token}`,
        "content-type": "application/json",
        "idempotency-key": `cluster-run-${n}`,
      },
      body: JSON.stringify(run),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    if (res.status !== 201)
      return { what: "POST run", ok: false, status: res.status, detail: await res.text() };
    const { id } = (await res.json()) as { id: string };
    acked.push({ id, user: user.id, ...run, replayed: res.headers.get("idempotent-replayed") === "true" });
    return { what: "POST run", ok: true, status: 201 };
  }

  async function read(n: number): Promise<Verdict> {
    const run = acked[acked.length - 1 - (n % Math.min(50, acked.length))];
    if (n % 4 === 3 || !run) {
      const user = users[n % USERS] as User;
      const res = await fetch(`${edge.url}/api/stats/summary`, {
        headers: { authorization: `Bearer ${user.token}` },
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      const body = await res.text();
      return { what: "GET summary", ok: res.status === 200, status: res.status, detail: body };
    }
    const user = owner.get(run.user) as User;
    const res = await fetch(`${edge.url}/api/runs/runs/${run.id}`, {
      headers: { authorization: `Bearer ${user.token}` },
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    const body = await res.text();
    const same =
      res.status === 200 && (JSON.parse(body) as { distanceM: number }).distanceM === run.distanceM;
    return { what: "GET run", ok: same, status: res.status, detail: body };
  }

  const load = new Load(RATE, (i) => (i % 2 === 0 ? postRun(i / 2) : read((i - 1) / 2)));
  counts = eventCounts(dataDir);
  const progress = (what: string) => {
    const s = Math.round((performance.now() - t0) / 100) / 10;
    const { published, applied } = counts?.now() ?? { published: 0, applied: 0 };
    console.log(
      `t=${s}s ${what} | sent ${load.sent}, answered ${load.answers.length}, failed ${load.failures().length}, in flight ${load.inFlight}; runs committed ${acked.length}, events published ${published}, applied by stats ${applied}`,
    );
  };

  // The schedule: kill node k at FIRST_KILL + k × 15 s, restart it DOWN_MS later (waiting until healthy).
  let chaosDone = false;
  const cycles: { node: string; leaders: string; restartMs: number }[] = [];
  const t0 = performance.now();
  const at = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - performance.now())));
  const chaos = (async () => {
    try {
      for (let k = 0; k < CYCLES; k++) {
        const i = k % cluster.size;
        await at(FIRST_KILL_MS + k * KILL_EVERY_MS);
        const before = await leaders();
        await cluster.kill(i);
        progress(`SIGKILL ${cluster.nameOf(i)} (pid ${cluster.server(i).pid ?? "gone"}; was: ${before})`);
        await at(FIRST_KILL_MS + k * KILL_EVERY_MS + DOWN_MS);
        const restarting = performance.now();
        await cluster.restart(i);
        const restartMs = Math.round(performance.now() - restarting);
        cycles.push({ node: cluster.nameOf(i), leaders: before, restartMs });
        progress(
          `${cluster.nameOf(i)} restarted, cluster healthy after ${restartMs} ms (${await leaders()})`,
        );
      }
    } finally {
      chaosDone = true;
    }
  })();
  let settledAt = 0;
  await load.run(() => {
    if (chaosDone && !settledAt) settledAt = performance.now();
    return settledAt > 0 && performance.now() - settledAt > 3000;
  });
  await chaos;
  progress("load done");
  console.log("load:", JSON.stringify(load.summary()));
  console.log(`edge retries: ${JSON.stringify(await edgeRetryFigures(edge.url))}`);

  // From the client's view nothing failed.
  expect(cycles).toHaveLength(CYCLES);
  expect(load.failures().slice(0, 10)).toEqual([]);
  const posted = load.answers.filter((a) => a.what === "POST run").length;
  expect(acked).toHaveLength(posted);
  console.log(
    `runs acknowledged: ${acked.length} (${acked.filter((a) => a.replayed).length} replayed after a retry)`,
  );

  // Every event reached the stream once: the outbox is drained, one run.logged per acknowledged run.
  const runsAdmin = createRpcClient(nc, adminRpc("runs"), { timeoutMs: 5000 });
  await waitFor(async () => (await runsAdmin.outbox({})).count === 0, {
    timeoutMs: 30_000,
    intervalMs: 250,
    what: "the runs outbox to drain",
  });
  progress("outbox drained");
  const stream = await loggedInStream(nc);
  progress(`stream read: ${stream.eventIds.length} run.logged events`);
  const ackedIds = acked.map((a) => a.id).sort();
  expect(new Set(stream.eventIds).size).toBe(stream.eventIds.length);
  expect(stream.runIds.sort()).toEqual(ackedIds);

  // Stats converges to exactly the acknowledged runs' totals. The bound is generous: after its
  // durable's leader is killed, the kit's pull (expires 5 s) notices after two missed idle
  // heartbeats (~5 s), again if the new leader was not elected yet, and the relay may wait out a
  // stream leader election (4–9 s on nats-server 2.9) plus its backoff (see "event delays").
  const expected = new Map(users.map((u) => [u.id, { runs: 0, distanceM: 0, durationS: 0 }]));
  for (const a of acked) {
    const e = expected.get(a.user) as { runs: number; distanceM: number; durationS: number };
    e.runs += 1;
    e.distanceM += a.distanceM;
    e.durationS += a.durationS;
  }
  for (const user of users) {
    const want = expected.get(user.id);
    const summary = await waitFor(
      async () => {
        const res = await fetch(`${edge.url}/api/stats/summary`, {
          headers: { authorization: `Bearer ${user.token}` },
        });
        const s = (await res.json()) as { runs: number; distanceM: number; durationS: number };
        return s.runs === want?.runs ? s : null;
      },
      { timeoutMs: 45_000, intervalMs: 250, what: `stats to count ${user.id}'s ${want?.runs} runs` },
    );
    expect({ runs: summary.runs, distanceM: summary.distanceM, durationS: summary.durationS }).toEqual(
      want as never,
    );
  }

  progress("stats converged");
  const delays = eventDelays(dataDir);
  console.log(
    `event delays: committed → in the stream max ${delays.relay.max} ms (p99 ${delays.relay.p99}); in the stream → applied by stats max ${delays.stats.max} ms (p99 ${delays.stats.p99})`,
  );

  // Each event applied once: the inbox holds each event id once, and the two stats instances
  // together applied exactly as many events as the stream holds (redeliveries were skipped).
  const statsDb = new Database(join(dataDir, "stats", "stats.db"), { readonly: true });
  const inboxRows = statsDb
    .query("SELECT COUNT(*) AS n FROM _mesh_inbox WHERE consumer = 'stats-update-totals'")
    .get() as { n: number };
  const seen = statsDb.query("SELECT COUNT(*) AS n FROM runs_seen").get() as { n: number };
  const dead = statsDb.query("SELECT COUNT(*) AS n FROM _mesh_dead_letters").get() as { n: number };
  statsDb.close();
  expect(inboxRows.n).toBe(stream.eventIds.length);
  expect(seen.n).toBe(acked.length);
  expect(dead.n).toBe(0);
  const stats = services.filter((s) => s.name === "stats");
  const scrapes = await Promise.all(stats.map(async (s) => (await fetch(`${s.url}/metrics`)).text()));
  const outcome = (o: string) =>
    scrapes.reduce(
      (n, text) =>
        n +
        metricValue(text, "runnerly_consumer_messages_total", {
          consumer: "stats-update-totals",
          outcome: o,
        }),
      0,
    );
  console.log(
    `stats-update-totals: applied ${outcome("applied")}, skipped ${outcome("skipped")}, retried ${outcome("retry")}, dead ${outcome("dead")}`,
  );
  expect(outcome("applied")).toBe(stream.eventIds.length);

  // Every acknowledged run exists exactly once in runs, as its owner lists them through the edge.
  for (const user of users) {
    const listed = await listRunIds((path) =>
      fetch(`${edge.url}${path}`, { headers: { authorization: `Bearer ${user.token}` } }),
    );
    expect(listed.length).toBe(new Set(listed).size);
    expect(listed.sort()).toEqual(
      acked
        .filter((a) => a.user === user.id)
        .map((a) => a.id)
        .sort(),
    );
  }
  const runsDb = new Database(join(dataDir, "runs", "runs.db"), { readonly: true });
  const stored = runsDb.query("SELECT COUNT(*) AS n FROM runs").get() as { n: number };
  runsDb.close();
  expect(stored.n).toBe(acked.length);

  // No process was restarted: the same PIDs, each reconnected to NATS by itself and still answering.
  const procs = [...services.map((s) => s.proc), edge.proc];
  for (const p of procs) {
    expect({ label: p.label, pid: p.pid, alive: p.alive }).toEqual({
      label: p.label,
      pid: pids.get(p.label) as number,
      alive: true,
    });
    const outages = p.reconnections();
    console.log(
      `${p.label} (pid ${p.pid}): ${outages.length} NATS outage(s), reconnected in ${outages.map((ms) => (ms === null ? "never" : `${ms} ms`)).join(", ")}; ${p.logged("nats reconnected").length} reconnects, ${p.lines.filter((l) => l.level === "warn").length} warnings`,
    );
    expect(outages.length).toBeGreaterThanOrEqual(1);
    expect(outages.filter((ms) => ms === null)).toEqual([]);
  }
  // The edge's worker was not replaced by its supervisor either.
  expect(edge.proc.logged("edge worker started")).toHaveLength(1);
  expect(edge.proc.logged("edge worker died; replacing it")).toEqual([]);
  for (const s of services) {
    const res = await fetch(`${s.url}/api/${s.name}/healthz`);
    expect(res.status).toBe(200);
  }
  const routed = await routedInstances(edge.url);
  expect([routed.get("runs")?.length, routed.get("stats")?.length]).toEqual([2, 2]);
  console.log(
    `cluster test: ${load.sent} requests, ${load.failures().length} failed, ${acked.length} runs, ${cycles.length} kill/restart cycles (${cycles.map((c) => `${c.node} ${c.restartMs} ms`).join(", ")}), ${Math.round((performance.now() - testStarted) / 1000)} s`,
  );
}, 180_000);
