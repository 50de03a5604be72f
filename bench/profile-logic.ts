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
 * NATS client. Then the same for the runs service's steps: a runs instance
 * started in this process (the stack's NATS user and store) is handed each
 * request as its `http` endpoint rebuilds it from a NATS message (headers
 * decoded, `Request` built, the app, the reply's headers encoded), without
 * the message itself. Run it under the profiler for the split by function:
 * `bun --cpu-prof bench/run.ts --profile --logic`.
 */
import { join } from "node:path";
import { connectNats, createLogger, natsOptionsFrom, startService } from "@runnerly/kit";
import { readCredentials } from "@runnerly/kit/security";
import {
  loadOrExit,
  MeshHeaders,
  natsToRequest,
  Requester,
  requestToNatsHeaders,
  responseToNatsHeaders,
} from "@runnerly/kit/web";
import { decodeJwt } from "jose";
import { createEdge } from "../edge/app.ts";
import { EdgeConfigSchema, edgeOptionsFromConfig } from "../edge/config.ts";
import { createPromMetrics } from "../edge/ops/prom.ts";
import { runsService } from "../services/runs/service.ts";
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

/** One row's figure: CPU µs per request of one process's steps, per round, and their median. */
export type LogicResult = {
  id: string;
  label: string;
  /** Whose steps: the edge's, or the runs service's. */
  steps: "edge" | "runs";
  rounds: number[];
  median: number;
  min: number;
};

/** Starts the stack, measures the edge's and the runs service's steps on each row, stops it; prints and returns the figures. */
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
        const send = async (i: number) => {
          const res = await edge.app.fetch(next(i), {});
          await res.arrayBuffer();
          return res.status;
        };
        results.push(await rounds(ctx, `${row.label}, the edge's steps`, row.id, "edge", send));
      }
      replay.restore();
    } finally {
      await edge.close();
      await nc.drain();
    }
    results.push(...(await measureRuns(ctx, stack.base, ids)));
  } finally {
    progress.step("logic: stopping the stack");
    await stack.stop();
  }
  console.log("\nEach process's own steps, CPU µs per request (no I/O):");
  for (const r of results)
    console.log(
      `  ${r.label}: median ${r.median.toFixed(1)}, best ${r.min.toFixed(1)} (${ROUNDS} × ${PER_ROUND})`,
    );
  return results;
}

/**
 * The runs service's steps on each row: an instance in this process, fed the
 * header block the edge would send (encoded once per path beforehand: that
 * is the edge's work), from its decoding to the reply's header block.
 */
async function measureRuns(ctx: BenchContext, base: string, ids: string[]): Promise<LogicResult[]> {
  const env = {
    ...credsOf(ctx, "runs"),
    DATA_DIR: join(ctx.workDir, "stack"),
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
  };
  ctx.progress.step("logic: a runs instance in the runner (the stack's NATS user and store)");
  const runs = await startService(runsService(env), { env });
  const results: LogicResult[] = [];
  try {
    for (const row of STACK_ROWS.filter((r) => LOGIC_ROWS.includes(r.id))) {
      const request = row.request(await logIn(base), ids);
      // The user the edge would name in `Mesh-User`: the token's subject.
      const user = request.token ? decodeJwt(request.token).sub : undefined;
      const blocks = (request.paths ?? [request.path]).map((path) =>
        requestToNatsHeaders("GET", path, new Headers({ "user-agent": "wrk", accept: "*/*" }), {
          requestId: crypto.randomUUID(),
          deadline: Date.now() + 3_600_000,
          traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
          user,
          clientAddress: "127.0.0.1",
        }).encode(),
      );
      const empty = new Uint8Array(0);
      const send = async (i: number) => {
        const req = natsToRequest(MeshHeaders.decode(blocks[i % blocks.length]!), empty, "http://runs.mesh");
        const res = await runs.app.fetch(req!);
        await res.arrayBuffer();
        responseToNatsHeaders(res).encode();
        return res.status;
      };
      results.push(await rounds(ctx, `${row.label}, the runs service's steps`, row.id, "runs", send));
    }
  } finally {
    await runs.stop();
  }
  return results;
}

/** A warm-up, then ROUNDS rounds of PER_ROUND requests through `send`, with CPU µs per request of each. */
async function rounds(
  ctx: BenchContext,
  label: string,
  id: string,
  steps: LogicResult["steps"],
  send: (i: number) => Promise<number>,
): Promise<LogicResult> {
  ctx.progress.step(`logic: ${label}: ${WARM_UP} requests to warm up`);
  await loop(send, WARM_UP);
  const figures: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const used = process.cpuUsage();
    await loop(send, PER_ROUND);
    const cpu = process.cpuUsage(used);
    figures.push((cpu.user + cpu.system) / PER_ROUND);
    ctx.progress.step(`logic: ${label}: round ${r}/${ROUNDS} ${figures.at(-1)!.toFixed(1)} µs per request`);
  }
  return { id, label, steps, rounds: figures, median: median(figures), min: Math.min(...figures) };
}

/** The environment the stack's edge runs with: its NATS URL and user. */
function edgeEnvOf(ctx: BenchContext, base: string): Record<string, string | undefined> {
  return {
    ...process.env,
    ...credsOf(ctx, "edge"),
    EDGE_SERVICE_LIMITS: "off",
    EDGE_PORT: "0",
    EDGE_HOST: new URL(base).hostname,
  };
}

/** A stack member's NATS URL, user and password, from the launcher's creds file. */
function credsOf(ctx: BenchContext, member: string): Record<string, string> {
  const file = join(ctx.workDir, "stack", "nats", "creds", `${member}.env`);
  const creds = readCredentials(file);
  if (!creds.NATS_PASS) throw new Error(`logic: no NATS password in ${file}; did the stack start?`);
  return creds;
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

/** `count` requests through `send`, `IN_FLIGHT` at a time; throws on an answer that is not 200. */
async function loop(send: (i: number) => Promise<number>, count: number): Promise<void> {
  let sent = 0;
  async function lane(): Promise<void> {
    while (sent < count) {
      const status = await send(sent++);
      if (status !== 200) throw new Error(`logic: answered ${status}, not 200`);
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}
