/**
 * The BullMQ row's worker process: one Worker on the bench queue, through
 * Bun's built-in Redis client (BullMQ's Bun adapter), working each job as
 * the Runnerly row's worker works its task (the input doubled).
 *
 *   REDIS_URL=redis://127.0.0.1:<port> TASK_CONCURRENCY=4 bun bench/tasks/bullmq-worker.ts
 */
import { createBunRedisClient, Worker } from "bullmq";
import { RedisClient } from "bun";
import { type BenchInput, type BenchOutput, BULLMQ_QUEUE } from "./work.ts";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const worker = new Worker<BenchInput, BenchOutput>(
  BULLMQ_QUEUE,
  async (job) => ({ doubled: job.data.n * 2 }),
  {
    connection: createBunRedisClient(new RedisClient(url)),
    concurrency: Number(process.env.TASK_CONCURRENCY ?? 4),
  },
);
worker.on("error", (err) => console.error(`worker error: ${err.message}`));
await worker.waitUntilReady();
console.log(`bullmq worker ready on ${url}, concurrency ${worker.opts.concurrency}`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, async () => {
    await worker.close();
    process.exit(0);
  });
}
