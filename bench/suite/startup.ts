/**
 * Start-up time: from spawning the bench service to its first
 * `$SRV.PING.bench` reply, for its bundle (`runnerly build`, as the image runs
 * a service) and for its sources (`bun main.ts`, as `npm run dev` does),
 * started alternately.
 */
import { join } from "node:path";
import { Empty } from "@nats-io/nats-core";
import { buildService } from "../../cli/build.ts";
import type { BenchContext } from "../lib/context.ts";
import { fmt } from "../lib/measure.ts";
import { serverPrefix } from "../lib/pin.ts";
import { spawnServer, stopServer } from "../lib/procs.ts";
import { median } from "../lib/stats.ts";
import type { SuiteResults } from "./results.ts";

const GIVE_UP_MS = 20_000;

/**
 * Builds the bench service's bundle, then starts the bundle and the sources
 * `options.starts` times each (existing, migrated store: a restart), each
 * time polling PING in a tight loop: a request with no responder fails at
 * once, so the loop is paced by round trips, not a timer.
 */
export async function runStartup(ctx: BenchContext, out: SuiteResults): Promise<void> {
  const built = await buildService(
    { name: "bench", main: join(ctx.root, "bench", "service", "main.ts") },
    join(ctx.workDir, "dist"),
  );
  ctx.progress.step(`start-up: bench service bundled into ${built.main}`);
  const ways = [
    { what: "bundle", file: built.main, into: out.startupMs },
    { what: "sources", file: "bench/service/main.ts", into: out.startupSourceMs },
  ];
  for (let i = 1; i <= ctx.options.starts; i++) {
    for (const way of ways) {
      const ms = await startOnce(ctx, `startup-${way.what}-${i}`, way.file);
      way.into.push(ms);
      ctx.progress.step(
        `start-up ${i}/${ctx.options.starts} (${way.what}): registered after ${ms.toFixed(0)} ms`,
      );
    }
  }
  ctx.progress.step(
    `start-up: median ${fmt(median(out.startupMs))} ms bundled, ${fmt(median(out.startupSourceMs))} ms from sources`,
  );
}

async function startOnce(ctx: BenchContext, name: string, file: string): Promise<number> {
  const env = {
    ...process.env,
    NATS_URL: ctx.natsUrl,
    DATABASE_URL: `file:${ctx.serviceDb}`,
    LOG_LEVEL: "info",
  };
  const t0 = performance.now();
  const child = spawnServer(name, [...serverPrefix(ctx.pin), ctx.bun, file], {
    env,
    logDir: ctx.logDir,
    cwd: ctx.root,
  });
  try {
    while (!(await pingOnce(ctx))) {
      if (child.proc.exitCode !== null)
        throw new Error(`bench service exited during start-up; see ${child.log}`);
      if (performance.now() - t0 > GIVE_UP_MS)
        throw new Error(`bench service did not register; see ${child.log}`);
    }
    return performance.now() - t0;
  } finally {
    await stopServer(child);
  }
}

async function pingOnce(ctx: BenchContext): Promise<boolean> {
  return ctx.nc.request("$SRV.PING.bench", Empty, { timeout: 1000 }).then(
    () => true,
    () => false,
  );
}
