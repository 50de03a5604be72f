/** Tables of the task fixture services: what the worker did, what the requester's callbacks saw. */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Written by the worker's handler in the task's transaction; `times` counts effects (must stay 1). */
export const worked = sqliteTable("worked", {
  taskId: text("task_id").primaryKey(),
  n: integer("n").notNull(),
  times: integer("times").notNull(),
});

/** Written by the requester's callback; `calls` counts callbacks (must stay 1 per attempt). */
export const outcomes = sqliteTable("outcomes", {
  taskId: text("task_id").primaryKey(),
  status: text("status").notNull(),
  output: text("output"),
  error: text("error"),
  calls: integer("calls").notNull(),
});

/** A requester's own rows, written in the same transaction as a submission (or rolled back with it). */
export const asks = sqliteTable("asks", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  n: integer("n").notNull(),
  taskId: text("task_id"),
});
