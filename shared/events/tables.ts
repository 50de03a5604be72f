/**
 * Kit-owned tables for events, created beside each service's own tables:
 * the outbox (events committed with the state change that caused them), the
 * relay lease (one instance publishes at a time), the inbox (event ids a
 * consumer has applied) and dead letters (events a consumer gave up on).
 */
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const outbox = sqliteTable("_mesh_outbox", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  eventId: text("event_id").notNull().unique(),
  subject: text("subject").notNull(),
  aggregate: text("aggregate").notNull(),
  body: text("body").notNull(),
  headers: text("headers").notNull(),
  createdAt: integer("created_at").notNull(),
  sentAt: integer("sent_at"),
});

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

export const EVENTS_DDL = [
  `CREATE TABLE IF NOT EXISTS _mesh_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, subject TEXT NOT NULL,
    aggregate TEXT NOT NULL, body TEXT NOT NULL, headers TEXT NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER)`,
  "CREATE INDEX IF NOT EXISTS _mesh_outbox_unsent ON _mesh_outbox (seq) WHERE sent_at IS NULL",
  "CREATE TABLE IF NOT EXISTS _mesh_relay_lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL)",
  `CREATE TABLE IF NOT EXISTS _mesh_inbox (
    consumer TEXT NOT NULL, event_id TEXT NOT NULL, applied_at INTEGER NOT NULL, PRIMARY KEY (consumer, event_id))`,
  `CREATE TABLE IF NOT EXISTS _mesh_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, consumer TEXT NOT NULL, event_id TEXT NOT NULL, subject TEXT NOT NULL,
    body TEXT NOT NULL, error TEXT NOT NULL, deliveries INTEGER NOT NULL, failed_at INTEGER NOT NULL, replayed_at INTEGER)`,
];
