/**
 * The requester's side of tasks: `submit` records a task in the caller's
 * write transaction — a row in `_mesh_tasks_sent` and its message in the
 * outbox — so it leaves if and only if that transaction commits; `status`
 * reads what became of it; `retry` submits a failed one again as its next
 * attempt; `watch` tells a waiting reader (an SSE stream) when a task of this
 * instance finished.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { z } from "zod";
import { type Db, preparedPer, type Store } from "../db/index.ts";
import { MeshError, validationError } from "../errors/index.ts";
import { writeOutboxRow } from "../events/outbox.ts";
import {
  type TaskDefinition,
  TaskHeader,
  type TaskMessage,
  type TaskOutcome,
  taskMsgId,
  taskSubject,
} from "./define.ts";
import { tasksSent } from "./tables.ts";

type AnyDb = Db<Record<string, unknown>>;

export type SubmitOptions = {
  /** The requester's callback (named in its definition's `tasks.callbacks`) that handles the result. */
  callback: string;
  /** Makes the submission idempotent: the same key returns the first submission's id. */
  key?: string;
  /** How long the requester wants the result for; after it, the callback gets a `deadline` outcome. */
  deadlineMs?: number;
};

/** What became of a submitted task, as the requester knows it. */
export type TaskStatus = {
  id: string;
  key: string | null;
  /** `<owner>/<name>`: `stats/report.monthly`. */
  task: string;
  status: "pending" | TaskOutcome;
  attempt: number;
  submittedAt: string;
  finishedAt: string | null;
  deadline: string | null;
  output: unknown;
  error: string | null;
};

export interface TaskClient {
  /**
   * Records a task inside the caller's write transaction.
   *
   * @example
   * await store.write(async (tx) => {
   *   await tx.insert(reports).values(row);
   *   await tasks.submit(tx, monthlyReport, { user, month }, { callback: "reportReady", key: row.id });
   * });
   */
  submit<T extends TaskDefinition>(
    tx: unknown,
    task: T,
    input: z.input<T["input"]>,
    options: SubmitOptions,
  ): Promise<{ id: string; created: boolean }>;
  /** The status of a task this service submitted, or null. */
  status(id: string): Promise<TaskStatus | null>;
  /** Submits a failed (or expired) task again as its next attempt; its callback runs again for it. */
  retry(id: string): Promise<TaskStatus>;
  /** Calls `listener` with the id of each task of this instance whose callback committed; returns the unsubscribe. */
  watch(listener: (id: string) => void): () => void;
  /** Tells watchers that `id` finished (the results runner and the deadline watch call it). */
  finished(id: string): void;
}

export type TaskClientOptions = {
  service: string;
  store: Store<Record<string, unknown>>;
  /** The callbacks the service declares: a submission naming another is a programming error. */
  callbacks: () => ReadonlySet<string>;
  /** Wakes the outbox relay once the transaction commits. */
  onCommitted: () => void;
  /** Tells the deadline watch that a task with a deadline was committed. */
  onDeadline: (deadline: number) => void;
};

/**
 * A task client bound to a service's store.
 *
 * @example
 * const tasks = createTaskClient({ service: "stats", store, callbacks: () => new Set(["reportReady"]), onCommitted, onDeadline });
 */
export function createTaskClient(o: TaskClientOptions): TaskClient {
  const listeners = new Set<(id: string) => void>();
  const record = async (db: AnyDb, message: TaskMessage, task: Pick<TaskDefinition, "service" | "name">) => {
    const headers: Record<string, string> = {
      [TaskHeader.Id]: message.id,
      [TaskHeader.Task]: message.task,
      [TaskHeader.Version]: String(message.version),
      [TaskHeader.Attempt]: String(message.attempt),
      [TaskHeader.Requester]: message.requester,
    };
    await writeOutboxRow(db, {
      msgId: taskMsgId(message.id, message.attempt),
      subject: taskSubject(task),
      aggregate: message.id,
      body: message,
      headers,
    });
    o.store.afterCommit(o.onCommitted);
    if (message.deadline !== null) {
      const deadline = message.deadline;
      o.store.afterCommit(() => o.onDeadline(deadline));
    }
  };

  return {
    async submit(tx, task, input, options) {
      if (!o.callbacks().has(options.callback)) {
        throw new Error(
          `${o.service}: no callback "${options.callback}" in its definition's tasks.callbacks (it must be named there to survive a restart)`,
        );
      }
      const parsed = task.input.safeParse(input);
      if (!parsed.success) throw validationError(parsed.error, `task ${task.service}/${task.name}`);
      const db = tx as AnyDb;
      if (options.key !== undefined) {
        const existing = await sentIdByKey(db).get({ key: options.key });
        if (existing) return { id: existing.id, created: false };
      }
      const now = Date.now();
      const message: TaskMessage = {
        id: Bun.randomUUIDv7(),
        task: task.name,
        version: task.version,
        attempt: 1,
        requester: o.service,
        submittedAt: new Date(now).toISOString(),
        deadline: options.deadlineMs === undefined ? null : now + options.deadlineMs,
        input: parsed.data,
      };
      await insertSent(db).run({
        id: message.id,
        key: options.key ?? null,
        owner: task.service,
        task: task.name,
        version: task.version,
        callback: options.callback,
        input: JSON.stringify(parsed.data),
        deadline: message.deadline,
        submittedAt: now,
      });
      await record(db, message, task);
      return { id: message.id, created: true };
    },

    async status(id) {
      const row = await (o.store.db as AnyDb).select().from(tasksSent).where(eq(tasksSent.id, id)).get();
      return row ? toStatus(row) : null;
    },

    async retry(id) {
      return o.store.write(async (tx) => {
        const db = tx as AnyDb;
        const row = await db.select().from(tasksSent).where(eq(tasksSent.id, id)).get();
        if (!row) throw new MeshError(404, { detail: `${o.service} submitted no task ${id}` });
        if (row.status === "pending" || row.status === "done") {
          throw new MeshError(409, {
            detail: `task ${id} is ${row.status}; only a failed task or one past its deadline can be retried`,
          });
        }
        const attempt = row.attempt + 1;
        const now = Date.now();
        const deadline = row.deadline === null ? null : now + Math.max(0, row.deadline - row.submittedAt);
        await db
          .update(tasksSent)
          .set({ attempt, status: "pending", deadline, finishedAt: null, output: null, error: null })
          .where(and(eq(tasksSent.id, id), inArray(tasksSent.status, ["failed", "deadline"])))
          .run();
        const message: TaskMessage = {
          id,
          task: row.task,
          version: row.version,
          attempt,
          requester: o.service,
          submittedAt: new Date(now).toISOString(),
          deadline,
          input: JSON.parse(row.input),
        };
        await record(db, message, { service: row.owner, name: row.task });
        const updated = await db.select().from(tasksSent).where(eq(tasksSent.id, id)).get();
        return toStatus(updated as typeof tasksSent.$inferSelect);
      });
    },

    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    finished(id) {
      for (const l of listeners) l(id);
    },
  };
}

const p = sql.placeholder;

/** A first submission: attempt 1, pending. */
const insertSent = preparedPer((db: AnyDb) =>
  db
    .insert(tasksSent)
    .values({
      id: p("id"),
      key: p("key"),
      owner: p("owner"),
      task: p("task"),
      version: p("version"),
      callback: p("callback"),
      input: p("input"),
      attempt: 1,
      status: "pending",
      deadline: p("deadline"),
      submittedAt: p("submittedAt"),
    })
    .prepare(),
);

const sentIdByKey = preparedPer((db: AnyDb) =>
  db
    .select({ id: tasksSent.id })
    .from(tasksSent)
    .where(eq(tasksSent.key, p("key")))
    .prepare(),
);

/** A sent row as the status a reader sees. */
export function toStatus(row: typeof tasksSent.$inferSelect): TaskStatus {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    key: row.key,
    task: `${row.owner}/${row.task}`,
    status: row.status as TaskStatus["status"],
    attempt: row.attempt,
    submittedAt: new Date(row.submittedAt).toISOString(),
    finishedAt: iso(row.finishedAt),
    deadline: iso(row.deadline),
    output: row.output === null ? null : JSON.parse(row.output),
    error: row.error,
  };
}
