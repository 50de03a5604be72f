/**
 * `bun bench/run.ts --profile --logic`: what the edge's own steps cost per
 * request, free of I/O. The shipped stack (`npm run dev`) runs as its rows
 * measure it; an edge is built in this process from the stack's edge
 * settings and NATS user, one real reply per row is captured, and from then
 * on every try is answered with that reply at once. A loop of requests
 * through `edge.app.fetch` then spends CPU only on the edge's steps
 * (context, security headers, limits, route and caller, rate limits, spans,
 * retries and breaker, balancer, stale cache, metrics, the headers both
 * ways), not on sockets, nats-server or the service, so its figure holds
 * still on a shared machine where a wrk row moves by ±20 %.
 *
 * The rest of the edge worker's CPU in a stack row is its HTTP server and its
 * NATS client. Run it under the profiler for the split by function:
 * `bun --cpu-prof bench/run.ts --profile --logic`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectNats, createLogger, natsOptionsFrom } from "@runnerly/kit";
import { loadOrExit } from "@runnerly/kit/web";
import { createEdge } from "../edge/app.ts";
import { EdgeConfigSchema, edgeOptionsFromConfig } from "../edge/config.ts";
import { createPromMetrics } from "../edge/ops/prom.ts";
import { Requester } from "../edge/proxy/requester.ts";
import type { BenchContext } from "./lib/context.ts";
import { startRealStack } from "./lib/real-stack.ts";
import { logIn } from "./lib/stack-client.ts";
import { median } from "./lib/stats.ts";
import { STACK_ROWS, seed } from "./suite/stack.ts";

/** The rows whose edge steps are measured (reads: a replayed reply is the same answer every time). */
const LOGIC_ROWS = ["stack-public", "stack-run"];
/** Requests in flight, as wrk's connections. */
const IN_FLIGHT = 50;
const WARM_UP = 20_000;
const PER_ROUND = 50_000;
const ROUNDS = 5;

/** One row's figure: CPU µs per request of the edge's steps, per round, and their median. */
export type LogicResult = { id: string; label: string; rounds: number[]; median: number; min: number };

/** Starts the stack, measures the edge's steps on each row, stops it; prints and returns the figures. */
export async function runLogicProfile(ctx: BenchContext): Promise<LogicResult[]> {
  const { progress } = ctx;
  progress.step("logic: starting the shipped stack (bun scripts/dev.ts, EDGE_SERVICE_LIMITS=off)");
  const stack = await startRealStack(ctx, { name: "stack-logic" });
  const results: LogicResult[] = [];
  try {
    const ids = await seed(stack);
    const env = edgeEnvOf(ctx, stack.base);
    const logger = createLogger("edge-logic", "warn");
    const config = loadOrExit(EdgeConfigSchema, env, { subject: "edge", logger });
    const nc = await connectNats(natsOptionsFrom(config, "edge-logic", logger));
    const edge = createEdge({
      nc,
      logger,
      metrics: createPromMetrics(),
      ...edgeOptionsFromConfig(config),
      peerAddress: () => "127.0.0.1",
    });
    try {
      await edge.ready;
      const replay = replayReplies();
      for (const row of STACK_ROWS.filter((r) => LOGIC_ROWS.includes(r.id))) {
        const request = row.request(await logIn(stack.base), ids);
        const paths = request.paths ?? [request.path];
        const headers: Record<string, string> = { "user-agent": "wrk", accept: "*/*" };
        if (request.token) headers.authorization = `Bearer ${request.token}`;
        const next = (i: number) => new Request(`${stack.base}${paths[i % paths.length]}`, { headers });
        replay.reset();
        progress.step(`logic: ${row.label}: ${WARM_UP} requests to warm up (the first goes to the service)`);
        await loop(edge.app, next, WARM_UP);
        const rounds: number[] = [];
        for (let r = 1; r <= ROUNDS; r++) {
          const used = process.cpuUsage();
          await loop(edge.app, next, PER_ROUND);
          const cpu = process.cpuUsage(used);
          rounds.push((cpu.user + cpu.system) / PER_ROUND);
          progress.step(
            `logic: ${row.label}: round ${r}/${ROUNDS} ${rounds.at(-1)!.toFixed(1)} µs per request`,
          );
        }
        results.push({
          id: row.id,
          label: row.label,
          rounds,
          median: median(rounds),
          min: Math.min(...rounds),
        });
      }
      replay.restore();
    } finally {
      await edge.close();
      await nc.drain();
    }
  } finally {
    progress.step("logic: stopping the stack");
    await stack.stop();
  }
  console.log("\nThe edge's own steps, CPU µs per request (replayed replies, no I/O):");
  for (const r of results)
    console.log(
      `  ${r.label}: median ${r.median.toFixed(1)}, best ${r.min.toFixed(1)} (${ROUNDS} × ${PER_ROUND})`,
    );
  return results;
}

/** The environment the stack's edge runs with: its NATS URL and user (the launcher's creds file). */
function edgeEnvOf(ctx: BenchContext, base: string): Record<string, string | undefined> {
  const creds = readFileSync(join(ctx.workDir, "stack", "nats", "creds", "edge.env"), "utf8");
  const env: Record<string, string | undefined> = {
    ...process.env,
    EDGE_SERVICE_LIMITS: "off",
    EDGE_PORT: "0",
  };
  for (const line of creds.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#")) env[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  env.EDGE_HOST = new URL(base).hostname;
  return env;
}

/**
 * Makes every try after the first of a row answer with that first, real
 * reply, at once; `restore` puts the requester back.
 */
function replayReplies() {
  const real = Requester.prototype.request;
  let captured: Awaited<ReturnType<typeof real>> | null = null;
  Requester.prototype.request = function replayed(subject, body, headers, timeoutMs) {
    if (captured) return Promise.resolve(captured);
    return real.call(this, subject, body, headers, timeoutMs).then((msg) => {
      captured = msg;
      return msg;
    });
  };
  return {
    reset() {
      captured = null;
    },
    restore() {
      Requester.prototype.request = real;
    },
  };
}

/** `count` requests through the app, `IN_FLIGHT` at a time; throws on an answer that is not 200. */
async function loop(
  app: { fetch(req: Request, env: unknown): Response | Promise<Response> },
  next: (i: number) => Request,
  count: number,
): Promise<void> {
  let sent = 0;
  async function lane(): Promise<void> {
    while (sent < count) {
      const res = await app.fetch(next(sent++), {});
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`logic: the edge answered ${res.status}, not 200`);
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}
