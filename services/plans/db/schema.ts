/** The plans service's own table. The schedule is stored as generated, so later changes to the method don't rewrite old plans. */
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
