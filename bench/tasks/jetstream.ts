/**
 * The ceiling row of "Tasks through the broker": the same round trip over
 * JetStream with nats.js and nothing of the kit per message — no SQLite, no
 * outbox or inbox, no spans, no schemas; the connection is made as the
 * kit's (`connectNats`: one socket write per event-loop turn). A submitting
 * process publishes each task to a work-queue stream (file storage, PubAck
 * awaited, `Nats-Msg-Id` set, as the kit's relay publishes), a worker
 * process pulls it, publishes the result to the submitter's work-queue
 * stream the same way and then acks the task; the submitter pulls the
 * result, acks it, and the round trip ends. What JetStream itself costs a
 * task, for the Runnerly row to be read against.
 */
import { AckPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { connectNats, silentLogger } from "@runnerly/kit";
import { NatsServer } from "@runnerly/kit/testing";
import type { BenchContext } from "../lib/context.ts";
import { pinToServerCores, serverPrefix } from "../lib/pin.ts";
import { spawnServer, stopServer } from "../lib/procs.ts";
import type { TaskSetup } from "./bullmq.ts";
import { type Driver, spawnDriver } from "./driver.ts";
import { TASK_CONCURRENCY } from "./work.ts";

/** The two work queues of the ceiling row: tasks to the worker, results back to the submitter. */
export const RAW_QUEUES = {
  tasks: { stream: "RAW_TASKS", subject: "raw.tasks.double", durable: "raw-worker" },
  results: { stream: "RAW_RESULTS", subject: "raw.results.double", durable: "raw-submitter" },
} as const;

/**
 * A ceiling process's connection: made as the kit makes its own (one socket
 * write per event-loop turn), with nothing of the kit per message after it.
 *
 * @example
 * const nc = await connectCeiling("bench-raw-worker");
 */
export function connectCeiling(name: string) {
  return connectNats({
    servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    name,
    logger: silentLogger,
  });
}

/**
 * Starts a JetStream server with both queues, the worker and the submitter.
 *
 * @example
 * const raw = await startJetStreamTasks(ctx);
 * await raw.driver.run(3, 64); await raw.stop();
 */
export async function startJetStreamTasks(ctx: BenchContext): Promise<TaskSetup> {
  const prefix = serverPrefix(ctx.pin);
  const nats = await NatsServer.start();
  pinToServerCores(ctx.pin, nats.pid!);
  let worker: ReturnType<typeof spawnServer> | undefined;
  try {
    const nc = await connect({ servers: nats.url, name: "bench-raw-setup" });
    const jsm = await jetstreamManager(nc);
    for (const q of Object.values(RAW_QUEUES)) {
      await jsm.streams.add({
        name: q.stream,
        subjects: [q.subject],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
      });
      await jsm.consumers.add(q.stream, { durable_name: q.durable, ack_policy: AckPolicy.Explicit });
    }
    await nc.close();
    const env = { ...process.env, NATS_URL: nats.url, TASK_CONCURRENCY: String(TASK_CONCURRENCY) };
    worker = spawnServer("jetstream-worker", [...prefix, ctx.bun, "bench/tasks/jetstream-worker.ts"], {
      env,
      logDir: ctx.logDir,
      cwd: ctx.root,
    });
    const driver: Driver = await spawnDriver(
      "jetstream-submitter",
      [...prefix, ctx.bun, "bench/tasks/jetstream-submitter.ts"],
      { env, logDir: ctx.logDir, cwd: ctx.root },
    );
    const started = worker;
    return {
      driver,
      cpuGroups: () => ({ submitter: [driver.pid], worker: [started.pid], broker: [nats.pid!] }),
      async stop() {
        await driver.stop();
        await stopServer(started);
        await nats.stop();
      },
    };
  } catch (err) {
    if (worker) await stopServer(worker);
    await nats.stop();
    throw err;
  }
}
