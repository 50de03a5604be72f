/**
 * A service's task figures, read when someone asks (through the cached
 * reading of figures.ts): its work queue's depth from JetStream (one
 * consumer-info and one stream-info request, plus one message lookup per
 * task that has some waiting, for its oldest one's age), the tasks it
 * submitted still waiting for their result, and the callbacks this instance
 * ran (counted as each commits).
 */
import type { JetStreamManager, MsgRequest } from "@nats-io/jetstream";
import { count, sql } from "drizzle-orm";
import type { Db, Store } from "../db/index.ts";
import type { TaskStatsData } from "../protocol/levels.ts";
import { type TaskDefinition, taskDurableName, taskStreamName, taskSubject } from "../tasks/define.ts";
import { tasksSent } from "../tasks/tables.ts";

export type TaskFiguresOptions = {
  service: string;
  store: Store<Record<string, unknown>>;
  /** Tasks it works (its queue is read) and tasks it submits. */
  works: TaskDefinition[];
  submits: TaskDefinition[];
  jsm: () => Promise<JetStreamManager>;
};

export type TaskQueueFigures = NonNullable<TaskStatsData["queue"]>;

/** `stats/report.monthly`: how a task is named in figures, metrics and the CLI. */
export const taskLabel = (task: Pick<TaskDefinition, "service" | "name">): string =>
  `${task.service}/${task.name}`;

/**
 * Counts the callbacks an instance ran, by task and outcome.
 *
 * @example
 * const results = new TaskResultCounts();
 * results.add("stats/report.monthly", "done");
 * results.list(); // [{ task: "stats/report.monthly", status: "done", count: 1 }]
 */
export class TaskResultCounts {
  readonly #counts = new Map<string, { task: string; status: string; count: number }>();

  add(task: string, status: string): void {
    const key = `${task}\u0000${status}`;
    const entry = this.#counts.get(key) ?? { task, status, count: 0 };
    entry.count++;
    this.#counts.set(key, entry);
  }

  list(): { task: string; status: string; count: number }[] {
    return [...this.#counts.values()].map((e) => ({ ...e }));
  }
}

/**
 * Reads the task figures of a service (uncached: figures.ts caches them with
 * the event figures); null when it works and submits no task. A JetStream
 * reading that fails keeps the last known queue.
 *
 * @example
 * const read = taskFigures({ service: "stats", store, works: [monthlyReport], submits: [], jsm }, results);
 * (await read())?.queue?.pending;
 */
export function taskFigures(
  o: TaskFiguresOptions,
  results: TaskResultCounts,
): () => Promise<TaskStatsData | null> {
  if (o.works.length === 0 && o.submits.length === 0) return async () => null;
  let known: TaskQueueFigures | null = null;
  const queue = async (): Promise<TaskQueueFigures | null> => {
    if (o.works.length === 0) return null;
    try {
      known = await readTaskQueue(await o.jsm(), o.service, o.works);
    } catch {
      known ??= emptyQueue(o.service, o.works);
    }
    return known;
  };
  return async () => {
    const [q, sentPending] = await Promise.all([
      queue(),
      o.submits.length > 0 ? pendingSent(o.store) : Promise.resolve(0),
    ]);
    return {
      queue: q,
      submits: [...new Set(o.submits.map(taskLabel))].sort(),
      sentPending,
      results: results.list(),
    };
  };
}

/**
 * The queue `TASKS_<NAME>` of `service` as JetStream holds it: waiting and
 * in progress from its durable, and per task how many are in the stream and
 * how old the oldest is. A work-queue stream holds exactly the tasks not yet
 * acknowledged, so its messages are the queue.
 *
 * @example
 * const q = await readTaskQueue(jsm, "tasker", [square]);
 * q.tasks[0]; // { task: "tasker/square", depth: 3, oldestAgeMs: 1200 }
 */
export async function readTaskQueue(
  jsm: JetStreamManager,
  service: string,
  works: TaskDefinition[],
): Promise<TaskQueueFigures> {
  const stream = taskStreamName(service);
  const [consumer, info] = await Promise.all([
    jsm.consumers.info(stream, taskDurableName(service)),
    jsm.streams.info(stream, { subjects_filter: `tasks.${service}.>` }),
  ]);
  const now = Date.now();
  const bySubject = info.state.subjects ?? {};
  const names = [...new Set(works.map((t) => t.name))].sort();
  // A task is waiting from the durable's ack floor on: nats-server 2.9 killed outright can keep
  // messages below it that were acknowledged and are never delivered again.
  const from = Math.max(info.state.first_seq, consumer.ack_floor.stream_seq + 1);
  const waiting = consumer.num_pending + consumer.num_ack_pending;
  const tasks = await Promise.all(
    names.map(async (name) => {
      const subject = taskSubject({ service, name });
      // Messages left below the ack floor are counted by the stream but wait for nobody.
      const depth = Math.min(bySubject[subject] ?? 0, waiting);
      const oldest = depth > 0 && waiting > 0 ? await firstTime(jsm, stream, subject, from) : null;
      return {
        task: taskLabel({ service, name }),
        depth,
        oldestAgeMs: oldest === null ? null : Math.max(0, now - oldest),
      };
    }),
  );
  const ages = tasks.map((t) => t.oldestAgeMs).filter((a): a is number => a !== null);
  return {
    stream,
    pending: consumer.num_pending,
    inProgress: consumer.num_ack_pending,
    oldestAgeMs: ages.length > 0 ? Math.max(...ages) : null,
    tasks,
  };
}

/** When the first message on `subject` at or after `seq` was stored (ms), or null if none is. */
async function firstTime(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  seq: number,
): Promise<number | null> {
  // The API's own "first message on this subject from seq" (its type lists only seq and last_by_subj).
  const query = { seq, next_by_subj: subject } as unknown as MsgRequest;
  const m = await jsm.streams.getMessage(stream, query);
  return m ? m.time.getTime() : null;
}

function emptyQueue(service: string, works: TaskDefinition[]): TaskQueueFigures {
  return {
    stream: taskStreamName(service),
    pending: 0,
    inProgress: 0,
    oldestAgeMs: null,
    tasks: [...new Set(works.map((t) => t.name))]
      .sort()
      .map((name) => ({ task: taskLabel({ service, name }), depth: 0, oldestAgeMs: null })),
  };
}

/** Submitted tasks still waiting for their result (read through the partial index on pending rows). */
async function pendingSent(store: Store<Record<string, unknown>>): Promise<number> {
  const row = await (store.db as Db<Record<string, unknown>>)
    .select({ n: count() })
    .from(tasksSent)
    // A literal, not a bound value: only then may SQLite read the partial index.
    .where(sql`${tasksSent.status} = 'pending'`)
    .get();
  return row?.n ?? 0;
}
