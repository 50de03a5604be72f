/**
 * Operator endpoints every service with events or tasks answers over NATS
 * (not HTTP): the outbox backlog, dead letters, replaying one, rebuilding a
 * projection, its tasks (the queue it works, what it worked and what it
 * submitted) and retrying a submitted task. `svc.<name>.admin.rpc.<verb>`;
 * the CLI and dashboards call them.
 */
import type { Service } from "@nats-io/services";
import { and, count, desc, eq, gte, not, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Store } from "../db/index.ts";
import { MeshError } from "../errors/index.ts";
import { deadLetters, type EventConsumer, type OutboxRelay } from "../events/index.ts";
import type { Logger } from "../log/logger.ts";
import type { TaskQueueFigures } from "../metrics/index.ts";
import { defineRpc, serveRpcMessage } from "../rpc/index.ts";
import type { TaskClient } from "../tasks/client.ts";
import { tasksSent, tasksWorked } from "../tasks/tables.ts";

/** What `runnerly tasks ls --status` filters by; `dead` is a task that failed on its last delivery (maxDeliver). */
export const TASK_LIST_STATUSES = ["pending", "done", "failed", "dead", "deadline"] as const;

const Queue = z.object({
  stream: z.string(),
  pending: z.number(),
  inProgress: z.number(),
  oldestAgeMs: z.number().nullable(),
  tasks: z.array(z.object({ task: z.string(), depth: z.number(), oldestAgeMs: z.number().nullable() })),
});
const WorkedRow = z.object({
  id: z.string(),
  attempt: z.number(),
  task: z.string(),
  requester: z.string(),
  status: z.enum(["done", "failed", "dead", "deadline"]),
  deliveries: z.number(),
  error: z.string().nullable(),
  finishedAt: z.number(),
});
const SentRow = z.object({
  id: z.string(),
  key: z.string().nullable(),
  task: z.string(),
  callback: z.string(),
  status: z.enum(["pending", "done", "failed", "deadline"]),
  attempt: z.number(),
  submittedAt: z.number(),
  finishedAt: z.number().nullable(),
  deadline: z.number().nullable(),
  error: z.string().nullable(),
});
const TaskStatusOut = z.object({
  id: z.string(),
  key: z.string().nullable(),
  task: z.string(),
  status: z.string(),
  attempt: z.number(),
  submittedAt: z.string(),
  finishedAt: z.string().nullable(),
  deadline: z.string().nullable(),
  output: z.unknown(),
  error: z.string().nullable(),
});

/** The admin contract of service `name`; call it with `createRpcClient(nc, adminRpc("stats"))`. */
export const adminRpc = (name: string) =>
  defineRpc(`${name}.admin`, {
    outbox: { input: z.object({}), output: z.object({ count: z.number(), oldestAgeMs: z.number() }) },
    deadLetters: {
      input: z.object({
        consumer: z.string().optional(),
        limit: z.number().int().min(1).max(1000).default(100),
      }),
      output: z.array(
        z.object({
          id: z.number(),
          consumer: z.string(),
          eventId: z.string(),
          subject: z.string(),
          error: z.string(),
          deliveries: z.number(),
          failedAt: z.number(),
          replayedAt: z.number().nullable(),
        }),
      ),
    },
    replay: {
      input: z.object({ consumer: z.string(), id: z.number().int() }),
      output: z.object({ applied: z.boolean() }),
    },
    rebuild: { input: z.object({ consumer: z.string() }), output: z.object({ applied: z.number() }) },
    /**
     * Its tasks: as owner, its queue (from JetStream) and what it worked, newest
     * first; as requester, what it submitted, newest first. Counts by status
     * cover every row; `status` and `limit` narrow the rows listed.
     */
    tasks: {
      input: z.object({
        status: z.enum(TASK_LIST_STATUSES).optional(),
        limit: z.number().int().min(1).max(1000).default(50),
      }),
      output: z.object({
        queue: Queue.nullable(),
        worked: z.object({
          counts: z.object({ done: z.number(), failed: z.number(), dead: z.number(), deadline: z.number() }),
          rows: z.array(WorkedRow),
        }),
        sent: z.object({
          counts: z.object({
            pending: z.number(),
            done: z.number(),
            failed: z.number(),
            deadline: z.number(),
          }),
          rows: z.array(SentRow),
        }),
      }),
    },
    /** Submits a failed task (or one past its deadline) again as its next attempt; 404 unknown, 409 pending or done. */
    retryTask: { input: z.object({ id: z.string().min(1).max(200) }), output: TaskStatusOut },
  });

type AdminOptions = {
  service: Service;
  name: string;
  store: Store<Record<string, unknown>>;
  relay: OutboxRelay | null;
  consumers: EventConsumer[];
  logger: Logger;
  track: (p: Promise<unknown>) => void;
  /** Its task client (submitted tasks) and, when it works tasks, its queue and each task's maxDeliver. */
  tasks: TaskClient;
  taskQueue: (() => Promise<TaskQueueFigures>) | null;
  maxDeliver: Map<string, number>;
};

/** Adds the admin endpoints to a registered service. */
export function addAdminEndpoints(o: AdminOptions): void {
  const contract = adminRpc(o.name);
  const find = (consumer: string) => {
    const c = o.consumers.find((x) => x.def.name === consumer);
    if (!c) throw new MeshError(404, { detail: `${o.name} has no consumer ${consumer}` });
    return c;
  };
  const handlers: Record<keyof typeof contract.methods, (input: never) => Promise<unknown>> = {
    outbox: async () => (o.relay ? o.relay.backlog() : { count: 0, oldestAgeMs: 0 }),
    deadLetters: async (input: { consumer?: string; limit: number }) => {
      const rows = await (o.store.db as Db<Record<string, unknown>>)
        .select()
        .from(deadLetters)
        .orderBy(desc(deadLetters.id))
        .limit(input.limit);
      return rows
        .filter((r) => !input.consumer || r.consumer === input.consumer)
        .map(({ body: _b, ...r }) => r);
    },
    replay: async (input: { consumer: string; id: number }) =>
      find(input.consumer).replayDeadLetter(input.id),
    rebuild: async (input: { consumer: string }) => find(input.consumer).rebuild(),
    tasks: async (input: { status?: TaskListStatus; limit: number }) => {
      const db = o.store.db as Db<Record<string, unknown>>;
      const [queue, worked, sent] = await Promise.all([
        o.taskQueue?.() ?? null,
        workedTasks(db, o.name, o.maxDeliver, input),
        sentTasks(db, input),
      ]);
      return { queue, worked, sent };
    },
    retryTask: async (input: { id: string }) => o.tasks.retry(input.id),
  };
  for (const [method, schema] of Object.entries(contract.methods)) {
    const handler = handlers[method as keyof typeof handlers] as (input: unknown) => Promise<unknown>;
    o.service.addEndpoint(`admin-${method}`, {
      subject: `svc.${o.name}.admin.rpc.${method}`,
      metadata: { kind: "admin" },
      handler: (_err, msg) => o.track(serveRpcMessage(schema, handler, msg, o.logger)),
    });
  }
}

type AnyDb = Db<Record<string, unknown>>;
type TaskListStatus = (typeof TASK_LIST_STATUSES)[number];

/** The rows of `_mesh_tasks_worked` that failed on their last delivery (deliveries ≥ their task's maxDeliver). */
function deadCondition(maxDeliver: Map<string, number>): SQL | undefined {
  const byTask = [...maxDeliver].map(([task, n]) =>
    and(eq(tasksWorked.task, task), gte(tasksWorked.deliveries, n)),
  );
  return and(eq(tasksWorked.status, "failed"), byTask.length > 0 ? or(...byTask) : sql`0`);
}

/** What the owner worked: counts by status, and the newest rows (`dead` told apart from `failed`). */
async function workedTasks(
  db: AnyDb,
  service: string,
  maxDeliver: Map<string, number>,
  input: { status?: TaskListStatus; limit: number },
) {
  const dead = deadCondition(maxDeliver);
  const isDead = (r: { task: string; status: string; deliveries: number }) =>
    r.status === "failed" && r.deliveries >= (maxDeliver.get(r.task) ?? Number.POSITIVE_INFINITY);
  const groups = await db
    .select({
      task: tasksWorked.task,
      status: tasksWorked.status,
      deliveries: tasksWorked.deliveries,
      n: count(),
    })
    .from(tasksWorked)
    .groupBy(tasksWorked.task, tasksWorked.status, tasksWorked.deliveries);
  const counts = { done: 0, failed: 0, dead: 0, deadline: 0 };
  for (const g of groups) {
    const key = isDead(g) ? "dead" : (g.status as keyof typeof counts);
    if (key in counts) counts[key] += g.n;
  }
  const filter: Record<TaskListStatus, SQL | undefined | null> = {
    pending: null,
    done: eq(tasksWorked.status, "done"),
    failed: and(eq(tasksWorked.status, "failed"), not(dead as SQL)),
    dead,
    deadline: eq(tasksWorked.status, "deadline"),
  };
  const where = input.status ? filter[input.status] : undefined;
  // Nothing the owner worked is pending: those are in its queue.
  const rows =
    where === null
      ? []
      : await db
          .select()
          .from(tasksWorked)
          .where(where)
          .orderBy(desc(tasksWorked.finishedAt))
          .limit(input.limit);
  return {
    counts,
    rows: rows.map((r) => ({
      id: r.id,
      attempt: r.attempt,
      task: `${service}/${r.task}`,
      requester: r.requester,
      status: (isDead(r) ? "dead" : r.status) as "done" | "failed" | "dead" | "deadline",
      deliveries: r.deliveries,
      error: r.error,
      finishedAt: r.finishedAt,
    })),
  };
}

/** What the requester submitted: counts by status, and the newest rows. */
async function sentTasks(db: AnyDb, input: { status?: TaskListStatus; limit: number }) {
  const groups = await db
    .select({ status: tasksSent.status, n: count() })
    .from(tasksSent)
    .groupBy(tasksSent.status);
  const counts = { pending: 0, done: 0, failed: 0, deadline: 0 };
  for (const g of groups) if (g.status in counts) counts[g.status as keyof typeof counts] += g.n;
  // A requester does not know how many deliveries a failure took: no submitted task is "dead".
  const rows =
    input.status === "dead"
      ? []
      : await db
          .select()
          .from(tasksSent)
          .where(input.status ? eq(tasksSent.status, input.status) : undefined)
          .orderBy(desc(tasksSent.submittedAt))
          .limit(input.limit);
  return {
    counts,
    rows: rows.map((r) => ({
      id: r.id,
      key: r.key,
      task: `${r.owner}/${r.task}`,
      callback: r.callback,
      status: r.status as "pending" | "done" | "failed" | "deadline",
      attempt: r.attempt,
      submittedAt: r.submittedAt,
      finishedAt: r.finishedAt,
      deadline: r.deadline,
      error: r.error,
    })),
  };
}
