/**
 * The BullMQ row of "Tasks through the broker": redis-server, a worker
 * process (one Worker, concurrency as Runnerly's) and a submitting process
 * (Queue + QueueEvents) that times add → `completed` event received.
 */
import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { serverPrefix } from "../lib/pin.ts";
import { spawnServer, stopServer } from "../lib/procs.ts";
import { type Driver, spawnDriver } from "./driver.ts";
import { type RedisDurability, startRedis } from "./redis.ts";
import { TASK_CONCURRENCY } from "./work.ts";

/** A started BullMQ set-up: its driver and its processes by group for CPU accounting. */
export type TaskSetup = {
  driver: Driver;
  cpuGroups: () => Record<string, number[]>;
  stop(): Promise<void>;
};

/**
 * Starts redis-server (with `durability`), the worker and the submitter.
 *
 * @example
 * const bull = await startBullmq(ctx, "aof-everysec");
 * await bull.driver.run(3, 64); await bull.stop();
 */
export async function startBullmq(ctx: BenchContext, durability: RedisDurability): Promise<TaskSetup> {
  const prefix = serverPrefix(ctx.pin);
  const redis = await startRedis({ dir: join(ctx.workDir, "redis"), logDir: ctx.logDir, durability, prefix });
  const env = { ...process.env, REDIS_URL: redis.url, TASK_CONCURRENCY: String(TASK_CONCURRENCY) };
  const worker = spawnServer("bullmq-worker", [...prefix, ctx.bun, "bench/tasks/bullmq-worker.ts"], {
    env,
    logDir: ctx.logDir,
    cwd: ctx.root,
  });
  let driver: Driver;
  try {
    driver = await spawnDriver("bullmq-producer", [...prefix, ctx.bun, "bench/tasks/bullmq-producer.ts"], {
      env,
      logDir: ctx.logDir,
      cwd: ctx.root,
    });
  } catch (err) {
    await stopServer(worker);
    await redis.stop();
    throw err;
  }
  return {
    driver,
    cpuGroups: () => ({ submitter: [driver.pid], worker: [worker.pid], broker: [redis.pid] }),
    async stop() {
      await driver.stop();
      await stopServer(worker);
      await redis.stop();
    },
  };
}
