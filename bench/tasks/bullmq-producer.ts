/**
 * The BullMQ row's submitting process: a Queue to add jobs and a QueueEvents
 * listener whose `completed` event ends a round trip (the moment the
 * submitter knows the job was worked). Driven by the runner (driver.ts).
 *
 *   REDIS_URL=redis://127.0.0.1:<port> bun bench/tasks/bullmq-producer.ts   (spawned by bench/tasks/bullmq.ts)
 */
import { createBunRedisClient, Queue, QueueEvents } from "bullmq";
import { RedisClient } from "bun";
import { serveDriver } from "./driver.ts";
import { type BenchInput, BULLMQ_QUEUE } from "./work.ts";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const queue = new Queue<BenchInput>(BULLMQ_QUEUE, { connection: createBunRedisClient(new RedisClient(url)) });
const events = new QueueEvents(BULLMQ_QUEUE, { connection: createBunRedisClient(new RedisClient(url)) });
const waiting = new Map<string, { resolve: () => void; reject: (err: Error) => void }>();
events.on("completed", ({ jobId }) => {
  waiting.get(jobId)?.resolve();
  waiting.delete(jobId);
});
events.on("failed", ({ jobId, failedReason }) => {
  waiting.get(jobId)?.reject(new Error(`job ${jobId} failed: ${failedReason}`));
  waiting.delete(jobId);
});
await queue.waitUntilReady();
await events.waitUntilReady();

serveDriver({
  async roundTrip(seq) {
    const jobId = `t${seq}`;
    // Listening before adding: the completed event may come before `add` resolves.
    const completed = new Promise<void>((resolve, reject) => waiting.set(jobId, { resolve, reject }));
    await queue.add("double", { n: seq }, { jobId });
    await completed;
  },
  async close() {
    await events.close();
    await queue.close();
  },
});
