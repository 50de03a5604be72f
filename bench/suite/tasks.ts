/**
 * "Tasks through the broker": Runnerly's tasks (submit in a transaction →
 * worked by another service → callback committed) beside BullMQ on
 * redis-server (add → worked → `completed` event received), the same
 * window of round trips in flight and the same worker concurrency, each
 * figure measured like the other rows (warm-up, runs, CPU per process);
 * and the same round trip over JetStream with nothing of the kit, the
 * ceiling the Runnerly row is read against.
 */
import { TASK_WORKER_DEFAULTS } from "@runnerly/kit";
import { ALLOCATOR_ENV } from "@runnerly/kit/runtime";
import type { BenchContext } from "../lib/context.ts";
import { measure, type ScenarioResult } from "../lib/measure.ts";
import { envText } from "../lib/stacks.ts";
import { startBullmq, type TaskSetup } from "../tasks/bullmq.ts";
import { startJetStreamTasks } from "../tasks/jetstream.ts";
import type { RedisDurability } from "../tasks/redis.ts";
import { startRunnerlyTasks } from "../tasks/runnerly.ts";
import { TASK_CONCURRENCY, TASK_ROWS, TASK_WINDOW } from "../tasks/work.ts";
import { record, type SuiteResults } from "./results.ts";

/** Starts each set-up in turn, measures it, stops it. */
export async function runTasks(ctx: BenchContext, out: SuiteResults): Promise<void> {
  const rows: { id: string; label: string; setup: string; start: () => Promise<TaskSetup> }[] = [
    {
      id: TASK_ROWS.runnerly,
      label: "Runnerly tasks",
      setup: `requester + worker service (SQLite, a commit reported once its WAL is synced, ${envText(ALLOCATOR_ENV)} as the kit's launchers set it), nats-server JetStream file storage; ${TASK_WINDOW} in flight, worker concurrency ${TASK_CONCURRENCY} (prefetch ${TASK_WORKER_DEFAULTS.prefetch}, the default)`,
      start: () => startRunnerlyTasks(ctx),
    },
    {
      id: TASK_ROWS.jetstream,
      label: "ceiling: JetStream round trip, no kit",
      setup: `nats.js connected as the kit connects (one socket write per event-loop turn), nothing of the kit per message, no SQLite: a submitter process publishes each task to a work-queue stream (file storage, PubAck awaited, Nats-Msg-Id), a worker process pulls it, publishes the result to the submitter's work-queue stream the same way and acks the task, the submitter pulls and acks the result; ${TASK_WINDOW} in flight, worker concurrency ${TASK_CONCURRENCY}`,
      start: () => startJetStreamTasks(ctx),
    },
    bullRow(ctx, TASK_ROWS.bullmq, "aof-everysec", "appendonly yes, appendfsync everysec"),
    bullRow(ctx, TASK_ROWS.bullmqMemory, "memory", "no persistence (--save '' --appendonly no)"),
    // Durable as Runnerly's row is: each write on disk before Redis answers it.
    bullRow(ctx, TASK_ROWS.bullmqAlways, "aof-always", "appendonly yes, appendfsync always"),
  ];
  for (const row of rows) {
    if (ctx.options.filter && !ctx.options.filter.test(row.id)) continue;
    ctx.progress.step(`tasks: starting ${row.label}`);
    const setup = await row.start();
    try {
      const result: ScenarioResult | null = await measure(ctx, {
        id: row.id,
        label: row.label,
        setup: row.setup,
        cpuGroups: setup.cpuGroups,
        drive: async (seconds) => {
          const run = await setup.driver.run(seconds, TASK_WINDOW);
          return {
            rps: run.rps,
            p50: run.p50,
            p99: run.p99,
            requests: run.tasks,
            errors: run.errors,
            errorDetail: run.errorDetail,
          };
        },
      });
      record(out, result);
    } finally {
      await setup.stop();
    }
  }
}

const BULL_LABELS: Record<RedisDurability, string> = {
  "aof-everysec": "AOF",
  memory: "in memory",
  "aof-always": "AOF, fsync always",
};

function bullRow(ctx: BenchContext, id: string, durability: RedisDurability, persistence: string) {
  return {
    id,
    label: `BullMQ (${BULL_LABELS[durability]})`,
    setup: `Queue + QueueEvents process, Worker process (Bun's Redis client), redis-server ${persistence}; ${TASK_WINDOW} in flight, concurrency ${TASK_CONCURRENCY}`,
    start: () => startBullmq(ctx, durability),
  };
}
