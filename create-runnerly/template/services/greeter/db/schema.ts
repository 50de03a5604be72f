/** The greeter service's own tables. */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** How often each name has been greeted. */
export const greetings = sqliteTable("greetings", {
  name: text("name").primaryKey(),
  times: integer("times").notNull(),
});
