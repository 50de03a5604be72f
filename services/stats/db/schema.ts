/** The stats service's own tables: a projection of runs and totals built from run events. */
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Each run as the last event described it (to undo its totals on update or delete). */
export const runsSeen = sqliteTable(
  "runs_seen",
  {
    runId: text("run_id").primaryKey(),
    user: text("user").notNull(),
    distanceM: real("distance_m").notNull(),
    durationS: integer("duration_s").notNull(),
    startedAt: text("started_at").notNull(),
    /** UTC calendar day, `YYYY-MM-DD` (for streaks). */
    day: text("day").notNull(),
    /** Fastest time (s) for each race distance within this run, when it is long enough. */
    best5k: real("best_5k"),
    best10k: real("best_10k"),
    bestHalf: real("best_half"),
    bestMarathon: real("best_marathon"),
  },
  (t) => [index("runs_seen_user_day_idx").on(t.user, t.day)],
);

/** Totals per user and period: `week` rows keyed `2026-W47`, `month` rows keyed `2026-11`. */
export const totals = sqliteTable(
  "totals",
  {
    user: text("user").notNull(),
    period: text("period", { enum: ["week", "month"] }).notNull(),
    key: text("key").notNull(),
    distanceM: real("distance_m").notNull(),
    durationS: integer("duration_s").notNull(),
    runs: integer("runs").notNull(),
  },
  (t) => [primaryKey({ columns: [t.user, t.period, t.key] })],
);

/** Monthly reports asked for by callers, each computed by its task `stats/report.monthly`. */
export const reports = sqliteTable("reports", {
  id: text("id").primaryKey(),
  user: text("user").notNull(),
  month: text("month").notNull(),
  status: text("status", { enum: ["pending", "ready"] }).notNull(),
  /** The task computing it (null for a report asked for before reports ran on tasks, until start-up submits one). */
  taskId: text("task_id"),
  body: text("body"),
  requestedAt: integer("requested_at").notNull(),
  readyAt: integer("ready_at"),
});
