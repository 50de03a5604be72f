/**
 * The lifecycle both local launchers share (scripts/dev.ts: a process per
 * service; scripts/single.ts: a Worker per service): settings from the
 * environment, NATS (local-mesh.ts), one supervised member per service and
 * one for the edge, readiness with progress, the URLs and the
 * `✔ Runnerly ready — edge <url>` line, and on SIGINT/SIGTERM/SIGHUP or a
 * failed start a bounded stop of every member, then nats-server, then exit.
 * A mode says only how a member runs.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { withAllocatorDefaults } from "@runnerly/kit/runtime";
import { startLocalMesh } from "./local-mesh.ts";
import { paint, step } from "./output.ts";
import { findProjectRoot } from "./project.ts";
import { httpCheck, pingCheck, type ReadinessCheck, waitUntilReady } from "./readiness.ts";
import { findServices, type ServiceEntry } from "./services.ts";
import type { SupervisedProcess } from "./supervisor.ts";

/** A supervised part of the stack: a child process (SupervisedProcess) or a Worker (SupervisedWorker). */
export type Member = {
  /** Restart when it ends on its own (turned off while stopping). */
  autoRestart: boolean;
  readonly exits: number;
  readonly lastExit: string | null;
  start(): void;
  /** Asks it to stop, waits at most `graceMs`, then ends it. */
  stop(graceMs: number): Promise<void>;
};

type Env = Record<string, string | undefined>;

export type LauncherMode = {
  /** The project it runs: `<root>/services`, data in `<root>/.data` (default: findProjectRoot()). */
  root?: string;
  /** The readiness connection's name, as nats-server shows it (`runnerly-dev`). */
  clientName: string;
  /** The service folders it runs (default all); says why it leaves any out. */
  select?(services: ServiceEntry[]): ServiceEntry[];
  /** Checks before anything starts; throws to stop with a message. */
  preflight?(): void;
  /** A service's member; `onUrl` takes its HTTP URL once known. */
  service(entry: ServiceEntry, env: Env, tagWidth: number, onUrl: (url: string) => void): Member;
  /** The edge's member. */
  edge(env: Env, tagWidth: number, onUrl: (url: string) => void): Member;
  /** A member's past failures in words for a readiness message, or null. */
  describe(member: Member): string | null;
  /** A last line before the ready line (`one process (pid …)`). */
  readyNote?(members: Member[]): string;
};

/** How long a member gets to finish in-flight work after it is asked to stop. */
const STOP_GRACE_MS = 10_000;

/**
 * Runs the stack until a signal (exit 0) or a failed start (exit 1).
 *
 * @example
 * await runLauncher({ clientName: "runnerly-dev", service: …, edge: …, describe: … });
 */
export async function runLauncher(mode: LauncherMode): Promise<void> {
  const env = process.env;
  const root = mode.root ?? findProjectRoot();
  const dataDir = resolve(env.RUNNERLY_DATA_DIR ?? join(root, ".data"));
  const servicesDir = resolve(env.RUNNERLY_SERVICES_DIR ?? join(root, "services"));
  const edgeHost = env.EDGE_HOST ?? "127.0.0.1";
  const edgePort = Number(env.EDGE_PORT ?? 8787);
  const edgeUrl = `http://${/^(0\.0\.0\.0|::)$/.test(edgeHost) ? "127.0.0.1" : edgeHost}:${edgePort}`;
  const readyTimeoutMs = Number(env.RUNNERLY_READY_TIMEOUT_MS ?? 60_000);

  const lifetime = new AbortController();
  let nats: SupervisedProcess | null = null;
  let nc: NatsConnection | null = null;
  let stopWatchingUsers: (() => void) | null = null;
  const members: Member[] = [];
  const urls = new Map<string, string>();

  async function main(): Promise<void> {
    mkdirSync(dataDir, { recursive: true });
    const found = findServices(servicesDir);
    if (found.length === 0) step(paint.yellow(`no services found under ${servicesDir} (*/main.ts)`));
    const services = mode.select ? mode.select(found) : found;
    mode.preflight?.();
    const tagWidth = Math.max(4, ...services.map((s) => s.name.length));

    const mesh = await startLocalMesh({
      env,
      dataDir,
      services,
      tagWidth,
      clientName: mode.clientName,
      onNatsProcess: (p) => (nats = p),
      signal: lifetime.signal,
    });
    nc = mesh.nc;
    stopWatchingUsers = mesh.stopWatchingUsers;
    for (const [name, url] of mesh.urls) urls.set(name, url);
    lifetime.signal.throwIfAborted();

    const checks: ReadinessCheck[] = [];
    // What every member starts with: this environment, the kit's allocator setting, the mesh and the data dir.
    const common = { ...withAllocatorDefaults(env), NATS_URL: mesh.url, DATA_DIR: dataDir };
    for (const service of services) {
      const serviceEnv = {
        ...common,
        ...mesh.security?.serviceEnv(service),
        PORT: "0",
        HOST: "127.0.0.1",
        ...service.envFile,
      };
      const member = mode.service(service, serviceEnv, tagWidth, (url) => urls.set(service.name, url));
      members.push(member);
      checks.push({
        name: service.name,
        probe: pingCheck(nc, service.name),
        describe: () => mode.describe(member),
      });
    }
    const edgeEnv = {
      ...common,
      ...mesh.security?.edgeEnv(),
      EDGE_HOST: edgeHost,
      EDGE_PORT: String(edgePort),
    };
    const edge = mode.edge(edgeEnv, tagWidth, (url) => urls.set("edge", url));
    members.push(edge);
    checks.push({
      name: "edge",
      probe: httpCheck(`${edgeUrl}/healthz`),
      describe: () => mode.describe(edge),
    });
    for (const member of members) member.start();

    await waitUntilReady(checks, {
      timeoutMs: readyTimeoutMs,
      onProgress: (text) => step(paint.dim(text)),
      signal: lifetime.signal,
    });
    if (!urls.has("edge")) urls.set("edge", edgeUrl);
    const width = Math.max(...[...urls.keys()].map((k) => k.length));
    for (const [name, url] of urls) step(`${name.padEnd(width)}  ${url}`);
    if (mode.readyNote) step(paint.dim(mode.readyNote(members)));
    console.log(paint.green(paint.bold(`✔ Runnerly ready — edge ${urls.get("edge")}`)));
  }

  /** Stops every member (bounded), then nats-server, then exits. */
  async function shutdown(code: number, reason?: string): Promise<void> {
    if (lifetime.signal.aborted) return;
    lifetime.abort();
    step(`${reason ? `${reason}; ` : ""}stopping…`);
    for (const member of members) member.autoRestart = false;
    stopWatchingUsers?.();
    await (nc as NatsConnection | null)?.close().catch(() => {});
    await Promise.all(members.map((member) => member.stop(STOP_GRACE_MS)));
    await (nats as SupervisedProcess | null)?.stop(STOP_GRACE_MS);
    step(code === 0 ? "stopped" : "stopped after an error");
    process.exit(code);
  }

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
}
