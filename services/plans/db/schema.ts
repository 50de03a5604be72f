/**
 * The plans service's own tables. The schedule is stored as generated, so
 * later changes to the method don't rewrite old plans.
 */
import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const plans = sqliteTable(
  "plans",
  {
    id: text("id").primaryKey(),
    owner: text("owner").notNull(),
    name: text("name").notNull(),
    raceDate: text("race_date").notNull(),
    raceDistanceM: real("race_distance_m").notNull(),
    goalTimeS: integer("goal_time_s").notNull(),
    /** JSON `PlanWeek[]`. */
    weeks: text("weeks").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("plans_owner_idx").on(t.owner, t.createdAt)],
);

export type PlanRow = typeof plans.$inferSelect;

/**
 * The latest season report asked for each plan: pending while its task
 * `stats/report.season` is out, then ready with the figures stats sent back
 * (or failed). Asking again after it ended replaces it.
 */
export const planReports = sqliteTable("plan_reports", {
  planId: text("plan_id").primaryKey(),
  owner: text("owner").notNull(),
  /** The task that computes it: a result for an older task of the plan is ignored. */
  taskId: text("task_id").notNull().unique(),
  status: text("status", { enum: ["pending", "ready", "failed"] }).notNull(),
  /** JSON `SeasonReport` once ready. */
  body: text("body"),
  error: text("error"),
  requestedAt: text("requested_at").notNull(),
  finishedAt: text("finished_at"),
});

export type PlanReportRow = typeof planReports.$inferSelect;
