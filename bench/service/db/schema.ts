/** The bench service's one table: rows shaped like the runs service's runs. */
import { integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const items = sqliteTable("items", {
  id: text("id").primaryKey(),
  owner: text("owner").notNull(),
  distanceM: real("distance_m").notNull(),
  durationS: integer("duration_s").notNull(),
  startedAt: text("started_at").notNull(),
  kind: text("kind").notNull(),
  notes: text("notes").notNull().default(""),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});
