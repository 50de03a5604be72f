/** The runs service's own tables. Only this service reads or writes them. */
import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    owner: text("owner").notNull(),
    distanceM: real("distance_m").notNull(),
    durationS: integer("duration_s").notNull(),
    /** ISO 8601 UTC (`toISOString()`), so text order is time order. */
    startedAt: text("started_at").notNull(),
    kind: text("kind").notNull(),
    notes: text("notes").notNull().default(""),
    /** `manual` or `gpx` (imported from a track). */
    source: text("source").notNull().default("manual"),
    elevationGainM: real("elevation_gain_m"),
    /** JSON `[{ distanceM, elapsedS }]`: cumulative moving time at each km and at the end. */
    splits: text("splits"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("runs_owner_started_idx").on(t.owner, t.startedAt, t.id)],
);

export type RunRow = typeof runs.$inferSelect;
