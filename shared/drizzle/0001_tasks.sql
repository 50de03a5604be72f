CREATE TABLE `_mesh_tasks_sent` (
	`id` text PRIMARY KEY NOT NULL,
	`key` text,
	`owner` text NOT NULL,
	`task` text NOT NULL,
	`version` integer NOT NULL,
	`callback` text NOT NULL,
	`input` text NOT NULL,
	`attempt` integer NOT NULL,
	`status` text NOT NULL,
	`deadline` integer,
	`submitted_at` integer NOT NULL,
	`finished_at` integer,
	`output` text,
	`error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `_mesh_tasks_sent_key_unique` ON `_mesh_tasks_sent` (`key`);--> statement-breakpoint
CREATE INDEX `_mesh_tasks_sent_pending` ON `_mesh_tasks_sent` (`deadline`) WHERE status = 'pending';--> statement-breakpoint
CREATE TABLE `_mesh_tasks_worked` (
	`id` text NOT NULL,
	`attempt` integer NOT NULL,
	`task` text NOT NULL,
	`requester` text NOT NULL,
	`status` text NOT NULL,
	`deliveries` integer NOT NULL,
	`error` text,
	`input` text NOT NULL,
	`finished_at` integer NOT NULL,
	PRIMARY KEY(`id`, `attempt`)
);
