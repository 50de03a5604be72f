/**
 * The Runnerly row's two services: `bench-worker` owns and works the task
 * `bench-worker/double` (the input doubled, as BullMQ's worker does), and
 * `bench-requester` submits it and takes each result in the callback
 * `doubled`, whose commit ends a round trip. Both on the kit's fixture
 * schema: the tables that matter here are the kit's own (outbox, tasks).
 */
import { defineCallback, defineService, defineTask, defineTaskHandler } from "@runnerly/kit";
import { fixtureMigrationsFolder, fixtureSchema } from "@runnerly/kit/testing/fixture";
import { BenchInput, BenchOutput, TASK_CONCURRENCY } from "./work.ts";

export const doubleTask = defineTask("bench-worker", "double", 1, BenchInput, BenchOutput);

/** The callback the requester names when it submits. */
export const CALLBACK = "doubled";

export const benchWorker = defineService({
  name: "bench-worker",
  version: "1.0.0",
  schema: fixtureSchema,
  migrationsFolder: fixtureMigrationsFolder,
  tasks: {
    works: [doubleTask],
    handlers: () => [defineTaskHandler(doubleTask, async (_tx, input) => ({ doubled: input.n * 2 }))],
    concurrency: TASK_CONCURRENCY,
  },
});

export const benchRequester = defineService({
  name: "bench-requester",
  version: "1.0.0",
  schema: fixtureSchema,
  migrationsFolder: fixtureMigrationsFolder,
  tasks: {
    submits: [doubleTask],
    // Nothing of its own to write: the kit's own update of the task's row commits with it.
    callbacks: () => ({ [CALLBACK]: defineCallback(doubleTask, async () => {}) }),
  },
});
