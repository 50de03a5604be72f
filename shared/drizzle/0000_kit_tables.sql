-- The kit's tables as the kit created them by hand before it had migrations
-- (same columns, keys and `_mesh_outbox_unsent`), hence IF NOT EXISTS: on a
-- database made then, with rows in them, this migration keeps the tables
-- and their rows as they are and records itself as applied. The unique index
-- below is new everywhere (that older table has the same constraint inline)
-- and is created without IF NOT EXISTS on purpose: of two instances applying
-- this migration at once, the second fails there, rolls back, and on its
-- retry finds the migration recorded, instead of recording it twice.
CREATE TABLE IF NOT EXISTS `_mesh_dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`consumer` text NOT NULL,
	`event_id` text NOT NULL,
	`subject` text NOT NULL,
	`body` text NOT NULL,
	`error` text NOT NULL,
	`deliveries` integer NOT NULL,
	`failed_at` integer NOT NULL,
	`replayed_at` integer
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `_mesh_inbox` (
	`consumer` text NOT NULL,
	`event_id` text NOT NULL,
	`applied_at` integer NOT NULL,
	PRIMARY KEY(`consumer`, `event_id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `_mesh_outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`subject` text NOT NULL,
	`aggregate` text NOT NULL,
	`body` text NOT NULL,
	`headers` text NOT NULL,
	`created_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `_mesh_outbox_event_id_unique` ON `_mesh_outbox` (`event_id`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `_mesh_outbox_unsent` ON `_mesh_outbox` (`seq`) WHERE sent_at IS NULL;--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `_mesh_relay_lease` (
	`name` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`until` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `_mesh_idempotency` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`status` integer NOT NULL,
	`headers` text NOT NULL,
	`body` blob NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
