/**
 * Kit-owned tables for tasks, created by the kit's migrations (shared/drizzle):
 * the tasks a service submitted (its record of what it asked for and, once
 * the callback ran, how each ended — also the requester's inbox: a result is
 * applied only while its row is pending at the same attempt) and the tasks it
 * worked (the worker's inbox: a redelivered task is not done twice).
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const tasksSent = sqliteTable(
  "_mesh_tasks_sent",
  {
    id: text("id").primaryKey(),
    /** The requester's idempotency key: one submission per key. */
    key: text("key"),
    /** The owner and the task: `stats/report.monthly`. */
    owner: text("owner").notNull(),
    task: text("task").notNull(),
    version: integer("version").notNull(),
    callback: text("callback").notNull(),
    input: text("input").notNull(),
    attempt: integer("attempt").notNull(),
    /** `pending` until the callback ran; then `done`, `failed` or `deadline`. */
    status: text("status").notNull(),
    deadline: integer("deadline"),
    submittedAt: integer("submitted_at").notNull(),
    finishedAt: integer("finished_at"),
    output: text("output"),
    error: text("error"),
  },
  (t) => [
    // One submission per key; a task submitted without a key has no entry (nothing to look up).
    uniqueIndex("_mesh_tasks_sent_key_unique").on(t.key).where(sql`key IS NOT NULL`),
    // What the deadline watch reads: the pending tasks that have a deadline, soonest first.
    // A task without a deadline has no entry (the watch never reads it).
    index("_mesh_tasks_sent_pending").on(t.deadline).where(sql`status = 'pending' AND deadline IS NOT NULL`),
  ],
);

export const tasksWorked = sqliteTable(
  "_mesh_tasks_worked",
  {
    id: text("id").notNull(),
    attempt: integer("attempt").notNull(),
    task: text("task").notNull(),
    requester: text("requester").notNull(),
    /** `done`, `failed` (dead-lettered after its last delivery, or refused) or `deadline`. */
    status: text("status").notNull(),
    deliveries: integer("deliveries").notNull(),
    error: text("error"),
    input: text("input").notNull(),
    finishedAt: integer("finished_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.id, t.attempt] })],
);
