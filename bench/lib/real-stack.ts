/**
 * The shipped stack as users run it: `bun scripts/dev.ts` (what `npm run dev`
 * runs) with its own nats-server (JetStream, a NATS user per member,
 * provisioned streams), the four services and the edge, on a fresh data dir.
 * One setting differs from the defaults, EDGE_SERVICE_LIMITS=off (see
 * STACK_ENV). The launcher is pinned to the server cores and its children
 * inherit that affinity; under taskset on one core the edge starts one worker.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePort, waitFor } from "@runnerly/kit/testing";
import type { BenchContext } from "./context.ts";
import { serverPrefix } from "./pin.ts";
import { assertRunning, type Child, childPids, spawnServer, stopServer } from "./procs.ts";

/**
 * The only change from `npm run dev`'s defaults: the per-caller rate limits the
 * services declare (`slo.rateLimit`, e.g. 3,000 a minute for runs) would answer
 * 429 to a benchmark's load from one caller.
 */
export const STACK_ENV = { EDGE_SERVICE_LIMITS: "off" } as const;

/** The services `scripts/dev.ts` starts besides the edge; `runs` is the one the rows call. */
const OTHER_SERVICES = ["accounts", "stats", "plans"] as const;

const READY_MS = 60_000;
/** The launcher stops each member within 10 s, then nats-server within 10 s. */
const STOP_GRACE_MS = 25_000;

export type RealStack = {
  launcher: Child;
  /** The edge's URL, from the launcher's ready line. */
  base: string;
  /** PIDs by member (`nats`, `edge`, `runs`, …), from the launcher's `› started (pid N)` lines. */
  pid(member: string): number;
  /** The edge supervisor's worker processes right now. */
  edgeWorkerPids(): number[];
  /** Our processes by CPU group: edge (supervisor + workers), nats, runs, others (accounts, stats, plans, the launcher). */
  cpuGroups(): Record<string, number[]>;
  stop(): Promise<void>;
};

/** The environment `npm run dev` would see, without anything of ours that would change what it starts. */
function launcherEnv(ctx: BenchContext, extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    const ours =
      /^(EDGE_|RUNNERLY_)/.test(key) ||
      (key.startsWith("NATS_") && key !== "NATS_SERVER_BIN") ||
      ["DATA_DIR", "DATABASE_URL", "PORT", "HOST", "BUN_OPTIONS", "FORCE_COLOR"].includes(key);
    if (!ours) env[key] = value;
  }
  return { ...env, LOG_LEVEL: "info", ...STACK_ENV, ...extra, RUNNERLY_DATA_DIR: join(ctx.workDir, "stack") };
}

/** Colour codes, should the launcher print them (FORCE_COLOR); built from a string: a lint forbids control characters in a regex literal. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/**
 * Starts the launcher and waits (bounded) for its `✔ Runnerly ready — edge <url>`
 * line; fails with the log's tail if the launcher exits first. `env` adds to
 * the launcher's environment (BUN_OPTIONS for profiling).
 *
 * @example
 * const stack = await startRealStack(ctx);
 * await fetch(`${stack.base}/api/runs/healthz`);
 * await stack.stop();
 */
export async function startRealStack(
  ctx: BenchContext,
  options: { name?: string; env?: Record<string, string> } = {},
): Promise<RealStack> {
  rmSync(join(ctx.workDir, "stack"), { recursive: true, force: true });
  const [natsPort, edgePort] = [await freePort(), await freePort()];
  const env = launcherEnv(ctx, {
    NATS_PORT: String(natsPort),
    EDGE_PORT: String(edgePort),
    EDGE_HOST: "127.0.0.1",
    ...options.env,
  });
  const argv = [...serverPrefix(ctx.pin), ctx.bun, "scripts/dev.ts"];
  const launcher = spawnServer(options.name ?? "stack", argv, { env, logDir: ctx.logDir, cwd: ctx.root });
  const log = () => readFileSync(launcher.log, "utf8").replace(ANSI, "");
  let ready: { url?: string; exited?: boolean };
  try {
    ready = await waitFor(
      () => {
        if (launcher.proc.exitCode !== null || launcher.proc.signalCode !== null) return { exited: true };
        const url = /✔ Runnerly ready — edge (\S+)/.exec(log())?.[1];
        return url ? { url } : null;
      },
      { timeoutMs: READY_MS, intervalMs: 50, what: "the launcher's ready line" },
    );
  } catch (err) {
    await stopServer(launcher, STOP_GRACE_MS);
    throw new Error(`${(err as Error).message}; log ${launcher.log}:\n${log().slice(-1500)}`);
  }
  if (ready.exited) assertRunning(launcher); // throws with the log's tail
  const base = ready.url!;
  const pids = startedPids(log());
  const pid = (member: string) => {
    const found = pids.get(member);
    if (found === undefined) throw new Error(`no "[${member}] › started (pid N)" line in ${launcher.log}`);
    return found;
  };
  for (const member of ["nats", "edge", "runs", ...OTHER_SERVICES]) pid(member);
  return {
    launcher,
    base,
    pid,
    edgeWorkerPids: () => childPids(pid("edge")),
    cpuGroups: () => ({
      edge: [pid("edge"), ...childPids(pid("edge"))],
      nats: [pid("nats")],
      runs: [pid("runs")],
      others: [...OTHER_SERVICES.map(pid), launcher.pid],
    }),
    // SIGTERM to the launcher stops every member, then nats-server; the tree is killed after the grace.
    stop: () => stopServer(launcher, STOP_GRACE_MS),
  };
}

/**
 * The last PID each member was started with, from lines like
 * `[runs]     › started (pid 12345)` (a restarted member prints a new one).
 *
 * @example
 * startedPids("[nats]     › started (pid 123)").get("nats"); // 123
 */
export function startedPids(log: string): Map<string, number> {
  const pids = new Map<string, number>();
  for (const m of log.replace(ANSI, "").matchAll(/^\[([\w-]+)\]\s+› started \(pid (\d+)\)/gm)) {
    pids.set(m[1]!, Number(m[2]));
  }
  return pids;
}
