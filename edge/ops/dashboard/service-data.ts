/**
 * The figures a kit service adds to its `$SRV.STATS` endpoint `data`: its
 * outbox backlog, its consumers' lag, and its tasks (the queue it works, the
 * tasks it submits; absent from kits before tasks). Foreign ADR-32 services report
 * none (or something else), so every reply is checked and anything that is
 * not this shape is ignored.
 */
import type { ConsumerView, OutboxView, TasksView } from "./types.ts";

export type ServiceData = { outbox: OutboxView | null; consumers: ConsumerView[]; tasks?: TasksView | null };

/**
 * The first endpoint `data` of a STATS reply that has the kit's shape, or null.
 *
 * @example
 * readServiceData([{ name: "http", data: { outbox: null, consumers: [] } }]); // { outbox: null, consumers: [] }
 */
export function readServiceData(endpoints: readonly { data?: unknown }[]): ServiceData | null {
  for (const e of endpoints) {
    const parsed = parse(e.data);
    if (parsed) return parsed;
  }
  return null;
}

function parse(data: unknown): ServiceData | null {
  if (!isRecord(data) || !("outbox" in data) || !Array.isArray(data.consumers)) return null;
  let outbox: OutboxView | null = null;
  if (data.outbox !== null) {
    const o = data.outbox;
    if (!isRecord(o) || !isCount(o.backlog)) return null;
    if (o.oldestAgeMs !== null && !isCount(o.oldestAgeMs)) return null;
    outbox = { backlog: o.backlog, oldestAgeMs: o.oldestAgeMs };
  }
  const consumers: ConsumerView[] = [];
  for (const c of data.consumers) {
    if (!isRecord(c) || typeof c.name !== "string" || typeof c.stream !== "string") return null;
    const { pending, ackPending, redelivered, dead } = c;
    if (![pending, ackPending, redelivered, dead].every(isCount)) return null;
    consumers.push({
      name: c.name,
      stream: c.stream,
      pending: pending as number,
      ackPending: ackPending as number,
      redelivered: redelivered as number,
      dead: dead as number,
    });
  }
  if (data.tasks === undefined || data.tasks === null) return { outbox, consumers };
  const tasks = parseTasks(data.tasks);
  return tasks ? { outbox, consumers, tasks } : null;
}

function parseTasks(t: unknown): TasksView | null {
  if (!isRecord(t) || !Array.isArray(t.submits) || !isCount(t.sentPending)) return null;
  if (!t.submits.every((x) => typeof x === "string")) return null;
  let queue: TasksView["queue"] = null;
  if (t.queue !== null) {
    const q = t.queue;
    if (!isRecord(q) || typeof q.stream !== "string" || !isCount(q.pending) || !isCount(q.inProgress))
      return null;
    if (!isAge(q.oldestAgeMs) || !Array.isArray(q.tasks)) return null;
    const tasks: NonNullable<TasksView["queue"]>["tasks"] = [];
    for (const x of q.tasks) {
      if (!isRecord(x) || typeof x.task !== "string" || !isCount(x.depth) || !isAge(x.oldestAgeMs))
        return null;
      tasks.push({ task: x.task, depth: x.depth, oldestAgeMs: x.oldestAgeMs });
    }
    queue = {
      stream: q.stream,
      pending: q.pending,
      inProgress: q.inProgress,
      oldestAgeMs: q.oldestAgeMs,
      tasks,
    };
  }
  return { queue, submits: t.submits as string[], sentPending: t.sentPending };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isAge(v: unknown): v is number | null {
  return v === null || isCount(v);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}
