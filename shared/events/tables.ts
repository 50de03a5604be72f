/**
 * Kit-owned tables for events, in every store beside the service's own
 * tables and created by the kit's migrations (shared/drizzle): the outbox (events committed with the state change that caused them), the
 * relay lease (one instance publishes at a time), the inbox (event ids a
 * consumer has applied) and dead letters (events a consumer gave up on).
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const outbox = sqliteTable(
  "_mesh_outbox",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    eventId: text("event_id").notNull().unique(),
    subject: text("subject").notNull(),
    aggregate: text("aggregate").notNull(),
    body: text("body").notNull(),
    headers: text("headers").notNull(),
    createdAt: integer("created_at").notNull(),
    sentAt: integer("sent_at"),
  },
  // What the relay reads: the unsent events in order.
  (t) => [index("_mesh_outbox_unsent").on(t.seq).where(sql`sent_at IS NULL`)],
);

export const relayLease = sqliteTable("_mesh_relay_lease", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  until: integer("until").notNull(),
});

export const inbox = sqliteTable(
  "_mesh_inbox",
  {
    consumer: text("consumer").notNull(),
    eventId: text("event_id").notNull(),
    appliedAt: integer("applied_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

export const deadLetters = sqliteTable("_mesh_dead_letters", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  consumer: text("consumer").notNull(),
  eventId: text("event_id").notNull(),
  subject: text("subject").notNull(),
  body: text("body").notNull(),
  error: text("error").notNull(),
  deliveries: integer("deliveries").notNull(),
  failedAt: integer("failed_at").notNull(),
  replayedAt: integer("replayed_at"),
});
