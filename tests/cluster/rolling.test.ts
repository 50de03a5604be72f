/**
 * Rolling restart under load (issue 9, item 3): two instances of every
 * service (accounts, runs, stats, plans) and two edge processes, all real
 * processes on one nats-server. While a steady mix of GETs and POSTs with an
 * Idempotency-Key flows, every service instance is restarted one at a time
 * (SIGTERM, which drains it; wait for the exit; start a new one; wait until
 * both edges route to it), then each edge the same way. Not one request may
 * fail, and every run acknowledged reaches stats exactly once.
 *
 * The two edges listen on two ports behind a tiny client-side balancer that
 * plays the load balancer in front of them: it sends each request to an edge
 * in rotation, and takes an edge out of rotation before it is sent SIGTERM
 * (what an LB's health check or deregistration does before a replica is
 * stopped), putting it back once the new process is ready. The requests that
 * edge already holds must still finish: that is its drain.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, NatsServer, waitFor } from "@runnerly/kit/testing";
import { postTo, signUpAndLogIn } from "../../services/accounts/test-support.ts";
import { listRunIds } from "./api.ts";
import { Load, type Verdict } from "./load.ts";
import {
  addFigures,
  type EdgeProc,
  edgeRetryFigures,
  routedInstances,
  type ServiceProc,
  startEdgeProc,
  startServiceProc,
} from "./processes.ts";

/** Requests per second through the edges. */
const RATE = 60;
/** How long each new instance serves before the next one is restarted (a rollout's min-ready time). */
const DWELL_MS = 1500;
const CLIENT_TIMEOUT_MS = 20_000;
const USERS = 4;
const SERVICES = ["accounts", "runs", "stats", "plans"] as const;
const INSTANCES = 2;

type User = { id: string; token: string; plan: string };
type Acked = { id: string; user: string; distanceM: number; durationS: number };
/** An edge as the balancer sees it. */
type Backend = { name: string; edge: EdgeProc; inRotation: boolean; sent: number };

let nats: NatsServer;
let dataDir: string;
const services: ServiceProc[] = [];
const backends: Backend[] = [];

const serviceEnv = (name: string, instance: string) => ({
  NATS_URL: nats.url,
  DATA_DIR: join(dataDir, name),
  SERVICE_INSTANCE: instance,
});
const startInstance = (name: string, i: number, generation: number) =>
  startServiceProc(
    name,
    `${name}-${i}${generation > 0 ? `.${generation}` : ""}`,
    serviceEnv(name, String(i)),
  );
const startEdge = (name: string, port: number) =>
  startEdgeProc(name, port, { NATS_URL: nats.url, EDGE_WORKERS: "1" });

/** True when the edge routes to exactly these instances of every service. */
async function routesExactly(edge: EdgeProc, ids: Map<string, string[]>): Promise<boolean> {
  const routed = await routedInstances(edge.url);
  return [...ids].every(([s, want]) => JSON.stringify(routed.get(s)?.sort()) === JSON.stringify(want.sort()));
}
const instanceIds = () => {
  const ids = new Map<string, string[]>();
  for (const s of services) ids.set(s.name, [...(ids.get(s.name) ?? []), s.instance]);
  return ids;
};
const everyEdgeRoutesExactly = () =>
  waitFor(
    async () => (await Promise.all(backends.map((b) => routesExactly(b.edge, instanceIds())))).every(Boolean),
    {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: "both edges to route to exactly the live instances",
    },
  );

beforeAll(async () => {
  const started = performance.now();
  nats = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-rolling-"));
  // Accounts first (its signing key), then the rest; instances of one service one after the other.
  for (let i = 1; i <= INSTANCES; i++) {
    services.push(await startInstance("accounts", i, 0));
    services.push(...(await Promise.all(SERVICES.slice(1).map((s) => startInstance(s, i, 0)))));
  }
  for (const name of ["edge-a", "edge-b"]) {
    backends.push({ name, edge: await startEdge(name, await freePort()), inRotation: true, sent: 0 });
  }
  await everyEdgeRoutesExactly();
  console.log(`stack up in ${Math.round(performance.now() - started)} ms`);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([
    ...backends.map((b) => b.edge.proc.stop()),
    ...services.map((s) => s.proc.stop()),
  ]);
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

/** The balancer: round robin over the edges in rotation. */
let turn = 0;
async function send(path: string, init: RequestInit & { token: string }): Promise<Response> {
  const live = backends.filter((b) => b.inRotation);
  const backend = live[turn++ % live.length];
  if (!backend) throw new Error("no edge in rotation");
  backend.sent++;
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("authorization", `Bearer ${token}`);
  return fetch(`${backend.edge.url}${path}`, {
    ...rest,
    headers,
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
}

async function signup(n: number): Promise<User> {
  const url = backends[0]?.edge.url;
  const { accessToken, user } = await signUpAndLogIn(
    postTo(`${url}`),
    `roll${n}-${crypto.randomUUID()}@example.com`,
  );
  const raceDate = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
  const plan = await send("/api/plans/plans", {
    token: accessToken,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: `race ${n}`, raceDate, raceDistanceM: 21_097.5, goalTimeS: 6300 }),
  });
  expect(plan.status).toBe(201);
  return { id: user.id, token: accessToken, plan: ((await plan.json()) as { id: string }).id };
}

test("every service instance and every edge restarted one at a time under load: 0 failed requests", async () => {
  const testStarted = performance.now();
  const users = await Promise.all(Array.from({ length: USERS }, (_, n) => signup(n)));
  const acked: Acked[] = [];
  let degraded = 0;

  const expect200 = async (what: string, res: Response): Promise<Verdict & { body: string }> => {
    const body = await res.text();
    return { what, ok: res.status === 200, status: res.status, detail: body.slice(0, 300), body };
  };
  async function one(i: number): Promise<Verdict> {
    // Each runner in turn gets each kind of request.
    const user = users[Math.floor(i / 8) % USERS] as User;
    const kind = i % 8;
    if (kind === 0 || kind === 4) {
      const n = i / 4;
      const run = {
        distanceM: 2000 + (n % 89) * 10,
        durationS: 600 + (n % 17) * 5,
        startedAt: new Date(Date.UTC(2026, 2, 1) + n * 3_600_000).toISOString(),
      };
      const res = await send("/api/runs/runs", {
        token: user.token,
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": `rolling-run-${n}` },
        body: JSON.stringify(run),
      });
      if (res.status !== 201)
        return { what: "POST run", ok: false, status: res.status, detail: await res.text() };
      acked.push({ id: ((await res.json()) as { id: string }).id, user: user.id, ...run });
      return { what: "POST run", ok: true, status: 201 };
    }
    const mine = acked.filter((a) => a.user === user.id);
    const run = mine[mine.length - 1 - (i % Math.max(1, Math.min(20, mine.length)))];
    if (kind === 1 && run)
      return expect200("GET run", await send(`/api/runs/runs/${run.id}`, { token: user.token }));
    if (kind === 2) return expect200("GET summary", await send("/api/stats/summary", { token: user.token }));
    if (kind === 3) return expect200("GET me", await send("/api/accounts/me", { token: user.token }));
    if (kind === 5) {
      const { body, ...verdict } = await expect200(
        "GET plan",
        await send(`/api/plans/plans/${user.plan}`, { token: user.token }),
      );
      if (verdict.ok && (JSON.parse(body) as { degraded?: boolean }).degraded) degraded++;
      return verdict;
    }
    if (kind === 6) return expect200("GET plans", await send("/api/plans/plans", { token: user.token }));
    return expect200("GET runs", await send("/api/runs/runs?limit=5", { token: user.token }));
  }

  const load = new Load(RATE, one);
  const t0 = performance.now();
  const progress = (what: string) => {
    const s = Math.round((performance.now() - t0) / 100) / 10;
    console.log(
      `t=${s}s ${what} | sent ${load.sent}, answered ${load.answers.length}, failed ${load.failures().length}, in flight ${load.inFlight}`,
    );
  };
  const restarts: { label: string; stopMs: number; readyMs: number; code: number }[] = [];
  const edgeFigures: Record<string, number> = {};
  // The rollout's pace: a schedule, not a wait for anything.
  const dwell = () => new Promise((r) => setTimeout(r, DWELL_MS));

  const rolling = (async () => {
    // A little load before the first restart, so it starts under way.
    await waitFor(() => load.answers.length >= RATE, { timeoutMs: 20_000, what: "the load to be under way" });
    for (const name of SERVICES) {
      for (let i = 1; i <= INSTANCES; i++) {
        const index = services.findIndex((s) => s.name === name && s.proc.label.startsWith(`${name}-${i}`));
        const old = services[index] as ServiceProc;
        progress(`SIGTERM ${old.proc.label} (pid ${old.proc.pid})`);
        const stopping = performance.now();
        const code = await old.proc.stop(30_000);
        const stopMs = Math.round(performance.now() - stopping);
        const fresh = await startInstance(name, i, 1);
        services[index] = fresh;
        await everyEdgeRoutesExactly();
        const readyMs = Math.round(performance.now() - stopping - stopMs);
        restarts.push({ label: old.proc.label, stopMs, readyMs, code });
        progress(
          `${old.proc.label} exited ${code} after ${stopMs} ms; ${fresh.proc.label} routed ${readyMs} ms later`,
        );
        await dwell();
      }
    }
    for (const backend of backends) {
      // The balancer's health check sees the replica is going away: no new requests to it.
      backend.inRotation = false;
      const old = backend.edge;
      addFigures(edgeFigures, await edgeRetryFigures(old.url));
      progress(`${backend.name} out of rotation; SIGTERM (pid ${old.proc.pid})`);
      const stopping = performance.now();
      const code = await old.proc.stop(30_000);
      const stopMs = Math.round(performance.now() - stopping);
      backend.edge = await startEdge(`${backend.name}.1`, old.port);
      await waitFor(
        async () =>
          (await fetch(`${backend.edge.url}/readyz`)).status === 200 &&
          (await routesExactly(backend.edge, instanceIds())),
        { timeoutMs: 20_000, intervalMs: 50, what: `${backend.name} ready with every route` },
      );
      backend.inRotation = true;
      const readyMs = Math.round(performance.now() - stopping - stopMs);
      restarts.push({ label: old.proc.label, stopMs, readyMs, code });
      progress(`${backend.name} exited ${code} after ${stopMs} ms; back in rotation ${readyMs} ms later`);
      await dwell();
    }
  })();
  let rolled = 0;
  void rolling.then(
    () => (rolled = performance.now()),
    () => (rolled = performance.now()),
  );
  // Load until the last restart is done (or the restarts failed).
  await load.run(() => rolled > 0);
  await rolling;
  progress("load done");
  console.log("load:", JSON.stringify(load.summary()));
  console.log(`requests per edge: ${backends.map((b) => `${b.name} ${b.sent}`).join(", ")}`);
  for (const b of backends) addFigures(edgeFigures, await edgeRetryFigures(b.edge.url));
  console.log(`edge retries (all edge processes): ${JSON.stringify(edgeFigures)}`);

  expect(restarts.map((r) => [r.label, r.code])).toEqual([
    ...SERVICES.flatMap((s) => [1, 2].map((i) => [`${s}-${i}`, 0])),
    ["edge-a", 0],
    ["edge-b", 0],
  ]);
  expect(load.failures().slice(0, 10)).toEqual([]);
  console.log(`plans answered degraded (stats unreachable) ${degraded} time(s)`);

  // Every acknowledged run exists once and reached stats exactly once.
  for (const user of users) {
    const mine = acked.filter((a) => a.user === user.id);
    const listed = await listRunIds((path) => send(path, { token: user.token }));
    expect(listed.length).toBe(new Set(listed).size);
    expect(listed.sort()).toEqual(mine.map((a) => a.id).sort());
    const want = {
      runs: mine.length,
      distanceM: mine.reduce((n, a) => n + a.distanceM, 0),
      durationS: mine.reduce((n, a) => n + a.durationS, 0),
    };
    const got = await waitFor(
      async () => {
        const s = (await (await send("/api/stats/summary", { token: user.token })).json()) as typeof want;
        return s.runs === want.runs ? s : null;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `stats to count ${want.runs} runs of ${user.id}` },
    );
    expect({ runs: got.runs, distanceM: got.distanceM, durationS: got.durationS }).toEqual(want);
  }
  console.log(
    `rolling test: ${load.sent} requests, ${load.failures().length} failed, ${acked.length} runs, ${restarts.length} restarts (${restarts.map((r) => `${r.label} ${r.stopMs}+${r.readyMs} ms`).join(", ")}), ${Math.round((performance.now() - testStarted) / 1000)} s`,
  );
}, 180_000);
