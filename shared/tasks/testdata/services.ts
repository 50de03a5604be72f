/**
 * Two small services for the kit's task tests: `tasker` works tasks (`square`
 * records its effect and answers n², `always-fails` throws, `hold` waits until
 * the test lets it go), `asker` submits them from its routes and records each
 * callback. Counters in both tables show any effect done twice.
 */
import { z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/index.ts";
import { MeshError } from "../../errors/index.ts";
import { defineService } from "../../service/index.ts";
import { createRouter } from "../../service/router.ts";
import { defineTask } from "../define.ts";
import { taskStatusResponse } from "../http.ts";
import { defineCallback, type TaskOutcomeOf } from "../results.ts";
import { defineTaskHandler } from "../worker.ts";
import * as schema from "./schema.ts";

type Schema = typeof schema;

export const square = defineTask(
  "tasker",
  "square",
  1,
  z.object({ n: z.number().int() }),
  z.object({ sq: z.number() }),
);
export const alwaysFails = defineTask(
  "tasker",
  "always-fails",
  1,
  z.object({ n: z.number().int() }),
  z.object({}),
);
export const hold = defineTask(
  "tasker",
  "hold",
  1,
  z.object({ n: z.number().int() }),
  z.object({ n: z.number() }),
);

/** Test switches of the in-process services. */
export const taskControl = {
  /** `hold` tasks wait for this before they finish. */
  release: Promise.resolve(),
  /** Called when a `hold` task starts. */
  onHold: (_n: number) => {},
};

/** Work time of `square` in ms, so a crash test can kill a worker while tasks are in its hands. */
const workMs = Number(process.env.TASK_WORK_MS ?? 0);

async function recordEffect(tx: Db<Schema>, taskId: string, n: number) {
  await tx
    .insert(schema.worked)
    .values({ taskId, n, times: 1 })
    .onConflictDoUpdate({ target: schema.worked.taskId, set: { times: sql`${schema.worked.times} + 1` } })
    .run();
}

export const taskerService = (
  options: { maxDeliver?: number; concurrency?: number; prefetch?: number } = {},
) =>
  defineService({
    name: "tasker",
    version: "1.0.0",
    schema,
    migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
    tasks: {
      works: [square, alwaysFails, hold],
      concurrency: options.concurrency ?? 4,
      ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
      handlers: () => [
        defineTaskHandler<Schema, typeof square>(square, async (tx, { n }, ctx) => {
          await recordEffect(tx, ctx.id, n);
          if (workMs > 0) await new Promise((r) => setTimeout(r, Math.random() * workMs));
          return { sq: n * n };
        }),
        defineTaskHandler<Schema, typeof alwaysFails>(
          alwaysFails,
          async () => {
            throw new Error("this task always fails");
          },
          { maxDeliver: options.maxDeliver ?? 3, backoffMs: [20] },
        ),
        defineTaskHandler<Schema, typeof hold>(hold, async (tx, { n }, ctx) => {
          taskControl.onHold(n);
          await taskControl.release;
          await recordEffect(tx, ctx.id, n);
          return { n };
        }),
      ],
    },
  });

const Ask = z.object({
  n: z.number().int(),
  task: z.enum(["square", "always-fails", "hold"]).default("square"),
  key: z.string().optional(),
  deadlineMs: z.number().int().positive().optional(),
  /** Fail the request after submitting: the transaction rolls back. */
  rollback: z.boolean().default(false),
});

const tasksByName = { square, "always-fails": alwaysFails, hold } as const;
const callbackOf = { square: "squared", "always-fails": "failed", hold: "held" } as const;

async function recordOutcome(tx: Db<Schema>, outcome: TaskOutcomeOf) {
  const row = {
    status: outcome.status,
    output: outcome.output === undefined ? null : JSON.stringify(outcome.output),
    error: outcome.error ?? null,
  };
  await tx
    .insert(schema.outcomes)
    .values({ taskId: outcome.id, ...row, calls: 1 })
    .onConflictDoUpdate({
      target: schema.outcomes.taskId,
      set: { ...row, calls: sql`${schema.outcomes.calls} + 1` },
    })
    .run();
}

export const askerService = () =>
  defineService({
    name: "asker",
    version: "1.0.0",
    schema,
    migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
    tasks: {
      submits: [square, alwaysFails, hold],
      callbacks: () => ({
        squared: defineCallback<Schema, typeof square>(square, recordOutcome),
        failed: defineCallback<Schema, typeof alwaysFails>(alwaysFails, recordOutcome),
        held: defineCallback<Schema, typeof hold>(hold, recordOutcome),
      }),
    },
    routes: ({ store, tasks }) => {
      const app = createRouter();
      app.post("/asks", async (c) => {
        const parsed = Ask.safeParse(await c.req.json());
        if (!parsed.success) throw new MeshError(400, { detail: parsed.error.message });
        const ask = parsed.data;
        const id = await store.write(async (tx) => {
          const row = await tx.insert(schema.asks).values({ n: ask.n }).returning().get();
          const task = tasksByName[ask.task];
          const { id } = await tasks.submit(
            tx,
            task,
            { n: ask.n },
            {
              callback: callbackOf[ask.task],
              ...(ask.key ? { key: ask.key } : {}),
              ...(ask.deadlineMs ? { deadlineMs: ask.deadlineMs } : {}),
            },
          );
          await tx.update(schema.asks).set({ taskId: id }).where(eq(schema.asks.id, row.id)).run();
          if (ask.rollback) throw new MeshError(409, { detail: "rolled back on purpose" });
          return id;
        });
        c.header("location", `/api/asker/tasks/${id}`);
        return c.json({ id }, 202);
      });
      app.get("/tasks/:id", (c) => taskStatusResponse(c, tasks, c.req.param("id")));
      return app;
    },
  });
