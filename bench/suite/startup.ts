/** Start-up time: from spawning the bench service to its first `$SRV.PING.bench` reply. */
import { Empty } from "@nats-io/nats-core";
import type { BenchContext } from "../lib/context.ts";
import { fmt } from "../lib/measure.ts";
import { serverPrefix } from "../lib/pin.ts";
import { spawnServer, stopServer } from "../lib/procs.ts";
import { median } from "../lib/stats.ts";
import type { SuiteResults } from "./results.ts";

const GIVE_UP_MS = 20_000;

/**
 * Starts the service `options.starts` times (existing, migrated store: a
 * restart), each time polling PING in a tight loop: a request with no
 * responder fails at once, so the loop is paced by round trips, not a timer.
 */
export async function runStartup(ctx: BenchContext, out: SuiteResults): Promise<void> {
  const argv = [...serverPrefix(ctx.pin), ctx.bun, "bench/service/main.ts"];
  const env = {
    ...process.env,
    NATS_URL: ctx.natsUrl,
    DATABASE_URL: `file:${ctx.serviceDb}`,
    LOG_LEVEL: "info",
  };
  for (let i = 1; i <= ctx.options.starts; i++) {
    const t0 = performance.now();
    const child = spawnServer(`startup-${i}`, argv, { env, logDir: ctx.logDir, cwd: ctx.root });
    try {
      while (!(await pingOnce(ctx))) {
        if (child.proc.exitCode !== null)
          throw new Error(`bench service exited during start-up; see ${child.log}`);
        if (performance.now() - t0 > GIVE_UP_MS)
          throw new Error(`bench service did not register; see ${child.log}`);
      }
      out.startupMs.push(performance.now() - t0);
    } finally {
      await stopServer(child);
    }
    ctx.progress.step(
      `start-up ${i}/${ctx.options.starts}: registered after ${out.startupMs.at(-1)?.toFixed(0)} ms`,
    );
  }
  ctx.progress.step(`start-up: median ${fmt(median(out.startupMs))} ms`);
}

async function pingOnce(ctx: BenchContext): Promise<boolean> {
  return ctx.nc.request("$SRV.PING.bench", Empty, { timeout: 1000 }).then(
    () => true,
    () => false,
  );
}
