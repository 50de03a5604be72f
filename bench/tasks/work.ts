/** What both tasks rows share: the work per task (a number in, the number doubled out), the load's shape, the row ids. */
import { z } from "zod";

export const BenchInput = z.object({ n: z.number().int() });
export const BenchOutput = z.object({ doubled: z.number().int() });
export type BenchInput = z.infer<typeof BenchInput>;
export type BenchOutput = z.infer<typeof BenchOutput>;

/** The BullMQ row's queue. */
export const BULLMQ_QUEUE = "bench-tasks";
/** Round trips in flight at once, both rows. */
export const TASK_WINDOW = 64;
/** Tasks a worker process works at once, both rows. */
export const TASK_CONCURRENCY = 4;

/** Ids of the rows of the report's tasks table; the ratio column is to `bullmq`. */
export const TASK_ROWS = {
  runnerly: "tasks-runnerly",
  bullmq: "tasks-bullmq-aof",
  bullmqMemory: "tasks-bullmq-memory",
  bullmqAlways: "tasks-bullmq-aof-always",
  jetstream: "tasks-jetstream-ceiling",
} as const;
