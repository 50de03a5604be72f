/**
 * `npm run dev`: runs all of Runnerly locally — nats-server with JetStream
 * (or the one at NATS_URL), every `services/<name>/main.ts` as its own Bun
 * process, and the edge — prints their URLs, then `✔ Runnerly ready — edge <url>`
 * once every service answers `$SRV.PING.<name>` and the edge answers
 * `GET /healthz`. A child that dies is restarted with backoff; Ctrl-C or
 * SIGTERM stops the services and the edge, then nats-server, and exits 0.
 *
 * Each child's start line carries its PID: `[runs] › started (pid 12345)`.
 *
 * The nats-server started here refuses anonymous clients: every service, the
 * edge and operators get their own user with least-privilege permissions
 * (scripts/dev/nats-security.ts), and their credentials through the
 * environment; the creds files are in `<data dir>/nats/creds/`. When
 * `runnerly creds add` changes the users, the launcher makes nats-server
 * reload them (SIGHUP).
 *
 * Environment (all optional):
 *   NATS_URL               use this NATS (comma-separated servers) instead of starting one
 *   NATS_PORT              port of the nats-server started here (4222)
 *   RUNNERLY_NATS_TLS      1: the nats-server started here requires TLS (dev CA under <data dir>/nats/tls);
 *                          verify: and client certificates
 *   EDGE_HOST, EDGE_PORT   where the edge listens (127.0.0.1, 8787)
 *   RUNNERLY_DATA_DIR      data dir: services' DATA_DIR, nats-server under nats/ (<repo>/.data)
 *   RUNNERLY_SERVICES_DIR  folder whose <name>/main.ts are the services (<repo>/services)
 *   RUNNERLY_EDGE_MAIN     the edge's entry file (<repo>/edge/main.ts)
 *   RUNNERLY_READY_TIMEOUT_MS  how long to wait for everything to be ready (60000)
 * A service's own `.env` (beside its main.ts) overrides PORT=0, HOST, etc. for it.
 */

import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { startLocalMesh } from "./dev/local-mesh.ts";
import { paint, step } from "./dev/output.ts";
import { httpCheck, pingCheck, type ReadinessCheck, waitUntilReady } from "./dev/readiness.ts";
import { findServices } from "./dev/services.ts";
import { SupervisedProcess } from "./dev/supervisor.ts";

const env = process.env;
const repo = resolve(import.meta.dir, "..");
const dataDir = resolve(env.RUNNERLY_DATA_DIR ?? join(repo, ".data"));
const servicesDir = resolve(env.RUNNERLY_SERVICES_DIR ?? join(repo, "services"));
const edgeMain = resolve(env.RUNNERLY_EDGE_MAIN ?? join(repo, "edge", "main.ts"));
const edgeHost = env.EDGE_HOST ?? "127.0.0.1";
const edgePort = Number(env.EDGE_PORT ?? 8787);
const edgeUrl = `http://${/^(0\.0\.0\.0|::)$/.test(edgeHost) ? "127.0.0.1" : edgeHost}:${edgePort}`;
const readyTimeoutMs = Number(env.RUNNERLY_READY_TIMEOUT_MS ?? 60_000);
/** How long a child gets to finish in-flight work after SIGTERM before SIGKILL. */
const stopGraceMs = 10_000;

const lifetime = new AbortController();
let nats: SupervisedProcess | null = null;
let nc: NatsConnection | null = null;
const children: SupervisedProcess[] = [];
const urls = new Map<string, string>();
let stopWatchingUsers: (() => void) | null = null;

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
  const services = findServices(servicesDir);
  if (services.length === 0) step(paint.yellow(`no services found under ${servicesDir} (*/main.ts)`));
  if (!existsSync(edgeMain)) throw new Error(`edge entry ${edgeMain} not found`);
  const tagWidth = Math.max(4, ...services.map((s) => s.name.length));

  const mesh = await startLocalMesh({
    env,
    dataDir,
    services,
    tagWidth,
    clientName: "runnerly-dev",
    onNatsProcess: (p) => (nats = p),
    signal: lifetime.signal,
  });
  nc = mesh.nc;
  stopWatchingUsers = mesh.stopWatchingUsers;
  for (const [name, url] of mesh.urls) urls.set(name, url);
  lifetime.signal.throwIfAborted();

  const checks: ReadinessCheck[] = [];
  const common = { NATS_URL: mesh.url, DATA_DIR: dataDir };
  for (const service of services) {
    const child = new SupervisedProcess({
      name: service.name,
      cmd: [process.execPath, service.main],
      cwd: service.dir,
      env: {
        ...env,
        ...common,
        ...mesh.security?.serviceEnv(service),
        PORT: "0",
        HOST: "127.0.0.1",
        ...service.envFile,
      },
      tagWidth,
      onLine: (line) => noteServiceUrl(service.name, line),
    });
    children.push(child);
    checks.push({ name: service.name, probe: pingCheck(nc, service.name), describe: () => exits(child) });
  }
  const edge = new SupervisedProcess({
    name: "edge",
    cmd: [process.execPath, edgeMain],
    cwd: dirname(edgeMain),
    env: { ...env, ...common, ...mesh.security?.edgeEnv(), EDGE_HOST: edgeHost, EDGE_PORT: String(edgePort) },
    tagWidth,
    onLine: (line) => {
      const url = /edge listening on (https?:\/\/[^\s"]+)/.exec(line)?.[1];
      if (url) urls.set("edge", url);
    },
  });
  children.push(edge);
  checks.push({ name: "edge", probe: httpCheck(`${edgeUrl}/healthz`), describe: () => exits(edge) });
  for (const child of children) child.start();

  await waitUntilReady(checks, {
    timeoutMs: readyTimeoutMs,
    onProgress: (text) => step(paint.dim(text)),
    signal: lifetime.signal,
  });
  if (!urls.has("edge")) urls.set("edge", edgeUrl);
  const width = Math.max(...[...urls.keys()].map((k) => k.length));
  for (const [name, url] of urls) step(`${name.padEnd(width)}  ${url}`);
  console.log(paint.green(paint.bold(`✔ Runnerly ready — edge ${urls.get("edge")}`)));
}

/** Picks the service's HTTP URL out of its `"msg":"service ready"` log line. */
function noteServiceUrl(name: string, line: string): void {
  if (!line.includes("service ready")) return;
  try {
    const record = JSON.parse(line) as { msg?: unknown; url?: unknown };
    if (record.msg === "service ready" && typeof record.url === "string") urls.set(name, record.url);
  } catch {
    // not a JSON log line
  }
}

function exits(child: SupervisedProcess): string | null {
  return child.exits > 0 ? `exited ${child.exits}×, last ${child.lastExit}` : null;
}

/** Stops the services and the edge (SIGTERM, bounded wait, SIGKILL), then nats-server, then exits. */
async function shutdown(code: number, reason?: string): Promise<void> {
  if (lifetime.signal.aborted) return;
  lifetime.abort();
  step(`${reason ? `${reason}; ` : ""}stopping…`);
  for (const child of children) child.autoRestart = false;
  stopWatchingUsers?.();
  await nc?.close().catch(() => {});
  await Promise.all(children.map((child) => child.stop(stopGraceMs)));
  await nats?.stop(stopGraceMs);
  step(code === 0 ? "stopped" : "stopped after an error");
  process.exit(code);
}
