/**
 * `npm run start:single` / `runnerly start --single`: Runnerly in one Bun
 * process. Every `services/<name>/service.ts` runs in a Worker of its own
 * (its own NATS user, its own SQLite file under DATA_DIR, its own HTTP port),
 * and so does the edge; they talk over NATS exactly as in the multi-process
 * layout (scripts/dev.ts), whose modules this reuses. nats-server is still a
 * process of its own (or the one at NATS_URL). It prints where everything
 * listens, then `✔ Runnerly ready — edge <url>` once every service answers
 * `$SRV.PING.<name>` and the edge answers `GET /healthz`.
 *
 * A worker that crashes (uncaught error, unhandled rejection, process.exit)
 * ends alone: `[runs] › worker crashed (…); restarting in 0.5 s`, and a fresh
 * one starts with backoff while the others keep serving. Ctrl-C or SIGTERM
 * stops every worker gracefully (each service announces it stops and drains),
 * then nats-server, and exits 0.
 *
 * Environment: as scripts/dev.ts (NATS_URL, NATS_PORT, RUNNERLY_NATS_TLS,
 * EDGE_HOST, EDGE_PORT, RUNNERLY_DATA_DIR, RUNNERLY_SERVICES_DIR,
 * RUNNERLY_READY_TIMEOUT_MS; a service's `.env` beside its main.ts).
 * Run it as `bun --max-http-header-size=65536 scripts/single.ts` (the npm
 * script and the CLI do): Bun's header limit is one per process and must sit
 * above the edge's, so clients see the edge's 431/414 problems.
 */

import { existsSync, mkdirSync } from "node:fs";
import http from "node:http";
import { join, resolve } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { startLocalMesh } from "./dev/local-mesh.ts";
import { paint, step } from "./dev/output.ts";
import { httpCheck, pingCheck, type ReadinessCheck, waitUntilReady } from "./dev/readiness.ts";
import { findServices } from "./dev/services.ts";
import type { SupervisedProcess } from "./dev/supervisor.ts";
import { bunHeaderRoom } from "./single/header-room.ts";
import { SupervisedWorker } from "./single/supervisor.ts";

const env = process.env;
const repo = resolve(import.meta.dir, "..");
const dataDir = resolve(env.RUNNERLY_DATA_DIR ?? join(repo, ".data"));
const servicesDir = resolve(env.RUNNERLY_SERVICES_DIR ?? join(repo, "services"));
const edgeHost = env.EDGE_HOST ?? "127.0.0.1";
const edgePort = Number(env.EDGE_PORT ?? 8787);
const edgeUrl = `http://${/^(0\.0\.0\.0|::)$/.test(edgeHost) ? "127.0.0.1" : edgeHost}:${edgePort}`;
const readyTimeoutMs = Number(env.RUNNERLY_READY_TIMEOUT_MS ?? 60_000);
/** How long a worker gets to finish in-flight work after `stop` before it is terminated. */
const stopGraceMs = 10_000;
const entries = {
  service: join(import.meta.dir, "single", "service-worker.ts"),
  edge: join(import.meta.dir, "single", "edge-worker.ts"),
};

const lifetime = new AbortController();
let nats: SupervisedProcess | null = null;
let nc: NatsConnection | null = null;
let stopWatchingUsers: (() => void) | null = null;
const workers: SupervisedWorker[] = [];
const urls = new Map<string, string>();

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => void shutdown(0, `${signal} received`));
}

try {
  await main();
} catch (err) {
  if (!lifetime.signal.aborted) {
    console.error(paint.red(`✘ ${err instanceof Error ? err.message : String(err)}`));
    await shutdown(1);
  }
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const all = findServices(servicesDir);
  if (all.length === 0) step(paint.yellow(`no services found under ${servicesDir} (*/main.ts)`));
  // A worker runs a service from its definition; a folder with only a main.ts can't be hosted here.
  const services = all.filter((s) => existsSync(join(s.dir, "service.ts")));
  for (const s of all.filter((s) => !services.includes(s)))
    step(paint.yellow(`${s.name}: no service.ts, so it can't run in a worker; run it with npm run dev`));
  const tagWidth = Math.max(4, ...services.map((s) => s.name.length));
  const room = bunHeaderRoom(env);
  if (http.maxHeaderSize < room)
    step(
      paint.yellow(
        `Bun's header limit is ${http.maxHeaderSize} bytes, below the edge's ${room}: oversized headers get ` +
          `Bun's bare 431; run bun --max-http-header-size=${room} scripts/single.ts (npm run start:single does)`,
      ),
    );

  const mesh = await startLocalMesh({
    env,
    dataDir,
    services,
    tagWidth,
    clientName: "runnerly-single",
    onNatsProcess: (p) => (nats = p),
  });
  nc = mesh.nc;
  stopWatchingUsers = mesh.stopWatchingUsers;
  for (const [name, url] of mesh.urls) urls.set(name, url);
  lifetime.signal.throwIfAborted();

  const checks: ReadinessCheck[] = [];
  const common = { NATS_URL: mesh.url, DATA_DIR: dataDir };
  for (const service of services) {
    const worker = new SupervisedWorker({
      name: service.name,
      entry: entries.service,
      job: { name: service.name, dir: service.dir },
      env: {
        ...env,
        ...common,
        ...mesh.security?.serviceEnv(service),
        PORT: "0",
        HOST: "127.0.0.1",
        ...service.envFile,
      },
      tagWidth,
      onReady: (url) => urls.set(service.name, url),
    });
    workers.push(worker);
    checks.push({ name: service.name, probe: pingCheck(nc, service.name), describe: () => crashes(worker) });
  }
  const edge = new SupervisedWorker({
    name: "edge",
    entry: entries.edge,
    env: { ...env, ...common, ...mesh.security?.edgeEnv(), EDGE_HOST: edgeHost, EDGE_PORT: String(edgePort) },
    tagWidth,
    onReady: (url) => urls.set("edge", url),
  });
  workers.push(edge);
  checks.push({ name: "edge", probe: httpCheck(`${edgeUrl}/healthz`), describe: () => crashes(edge) });
  for (const worker of workers) worker.start();

  await waitUntilReady(checks, {
    timeoutMs: readyTimeoutMs,
    onProgress: (text) => step(paint.dim(text)),
    signal: lifetime.signal,
  });
  if (!urls.has("edge")) urls.set("edge", edgeUrl);
  const width = Math.max(...[...urls.keys()].map((k) => k.length));
  for (const [name, url] of urls) step(`${name.padEnd(width)}  ${url}`);
  step(paint.dim(`one process (pid ${process.pid}): ${workers.length} workers, nats-server apart`));
  console.log(paint.green(paint.bold(`✔ Runnerly ready — edge ${urls.get("edge")}`)));
}

function crashes(worker: SupervisedWorker): string | null {
  return worker.exits > 0 ? `crashed ${worker.exits}×, last: ${worker.lastExit}` : null;
}

/** Stops every worker gracefully (bounded), then nats-server, then exits. */
async function shutdown(code: number, reason?: string): Promise<void> {
  if (lifetime.signal.aborted) return;
  lifetime.abort();
  step(`${reason ? `${reason}; ` : ""}stopping…`);
  for (const worker of workers) worker.autoRestart = false;
  stopWatchingUsers?.();
  await nc?.close().catch(() => {});
  await Promise.all(workers.map((worker) => worker.stop(stopGraceMs)));
  await nats?.stop(stopGraceMs);
  step(code === 0 ? "stopped" : "stopped after an error");
  process.exit(code);
}
