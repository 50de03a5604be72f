/**
 * Starting what a scenario measures, each server pinned to the server cores
 * and ready before it returns: the two ceilings, the bench service, the edge,
 * the Moleculer peer. Readiness is observed (an HTTP 200, a NATS reply, a
 * count of ADR-32 PING replies), never slept for.
 */
import { Empty } from "@nats-io/nats-core";
import { freePort, waitFor } from "@runnerly/kit/testing";
import type { BenchContext } from "./context.ts";
import { serverPrefix } from "./pin.ts";
import { assertRunning, type Child, childPids, spawnServer } from "./procs.ts";

const READY_MS = 20_000;

function serverEnv(ctx: BenchContext, extra: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, NATS_URL: ctx.natsUrl, LOG_LEVEL: "info", ...extra };
}

function spawnBun(ctx: BenchContext, name: string, script: string, env: Record<string, string>): Child {
  const argv = [...serverPrefix(ctx.pin), ctx.bun, script];
  return spawnServer(name, argv, { env: serverEnv(ctx, env), logDir: ctx.logDir, cwd: ctx.root });
}

/** Polls `url` until it answers 200 (the child must stay alive meanwhile). */
export async function waitForHttp(url: string, child: Child): Promise<void> {
  await waitFor(
    async () => {
      assertRunning(child);
      const res = await fetch(url);
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs: READY_MS, intervalMs: 25, what: `${child.name} answering ${url}` },
  );
}

/** How many instances of a service answer `$SRV.PING.<name>` right now. */
export async function countInstances(ctx: BenchContext, name: string): Promise<number> {
  const ids = new Set<string>();
  const replies = await ctx.nc.requestMany(`$SRV.PING.${name}`, Empty, { strategy: "timer", maxWait: 250 });
  for await (const m of replies) ids.add(m.json<{ id: string }>().id);
  return ids.size;
}

/** Polls `$SRV.PING.bench` until `expected` instances answer (the child must stay alive meanwhile). */
export async function waitForInstances(ctx: BenchContext, child: Child, expected: number): Promise<void> {
  await waitFor(
    async () => {
      assertRunning(child);
      return (await countInstances(ctx, "bench")) >= expected;
    },
    { timeoutMs: READY_MS, intervalMs: 0, what: `${expected} bench service instance(s) registered` },
  );
}

/** The Bun + Hono server of the HTTP ceiling. */
export async function startHttpCeiling(ctx: BenchContext): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = spawnBun(ctx, "http-ceiling", "bench/ceilings/http.ts", { PORT: String(port) });
  const url = `http://127.0.0.1:${port}/api/bench/hello`;
  await waitForHttp(url, child);
  return { child, url };
}

/** The raw nats.js responder of the NATS ceiling. */
export async function startResponder(ctx: BenchContext): Promise<Child> {
  const child = spawnBun(ctx, "nats-responder", "bench/ceilings/nats-responder.ts", {});
  await waitFor(
    async () => {
      assertRunning(child);
      return (await ctx.nc.request("bench.ceiling", Empty, { timeout: 200 })).data.length > 0;
    },
    { timeoutMs: READY_MS, intervalMs: 25, what: "the NATS responder answering" },
  );
  return child;
}

/** One more instance of the bench service (all share the seeded store); resolves once `expected` answer PING. */
export async function startBenchService(ctx: BenchContext, index: number, expected: number): Promise<Child> {
  const child = spawnBun(ctx, `bench-service-${index}`, "bench/service/main.ts", {
    DATABASE_URL: `file:${ctx.serviceDb}`,
    SERVICE_INSTANCE: String(index),
  });
  await waitForInstances(ctx, child, expected);
  return child;
}

/**
 * Settings as a row's set-up and the report print them.
 *
 * @example
 * envText({ EDGE_AUTH: "off" }); // "EDGE_AUTH=off"
 */
export const envText = (settings: Record<string, string>): string =>
  Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

/**
 * Edge settings every edge row uses, beside EDGE_WORKERS: the bench routes are
 * anonymous (no token verification is measured yet); everything else is the
 * edge's default.
 */
export const EDGE_BENCH_ENV = { EDGE_AUTH: "off" } as const;

export type EdgeStack = { child: Child; base: string; workers: number; workerPids(): number[] };

/** The edge (supervisor + EDGE_WORKERS workers); ready once it routes `/api/bench/hello`. */
export async function startEdge(ctx: BenchContext, workers: number): Promise<EdgeStack> {
  const port = await freePort();
  const child = spawnBun(ctx, `edge-w${workers}`, "edge/main.ts", {
    EDGE_HOST: "127.0.0.1",
    EDGE_PORT: String(port),
    EDGE_WORKERS: String(workers),
    ...EDGE_BENCH_ENV,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/api/bench/hello`, child);
  await waitFor(() => childPids(child.pid).length === workers, {
    timeoutMs: READY_MS,
    what: `${workers} edge worker(s)`,
  });
  return { child, base, workers, workerPids: () => childPids(child.pid) };
}

/** The Moleculer peer: the `bench` service broker and the moleculer-web gateway broker. */
export async function startPeer(
  ctx: BenchContext,
  /** Added to both brokers' environment (the kit's allocator setting for the reference row). */
  extraEnv: Record<string, string> = {},
): Promise<{ service: Child; gateway: Child; base: string }> {
  const port = await freePort();
  const service = spawnBun(ctx, "peer-service", "bench/peer/bench-service.ts", {
    PEER_DB: ctx.peerDb,
    ...extraEnv,
  });
  const gateway = spawnBun(ctx, "peer-gateway", "bench/peer/gateway.ts", { PORT: String(port), ...extraEnv });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/api/bench/hello`, gateway);
  assertRunning(service);
  return { service, gateway, base };
}
