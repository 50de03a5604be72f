CREATE TABLE `asks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`n` integer NOT NULL,
	`task_id` text
);
--> statement-breakpoint
CREATE TABLE `outcomes` (
	`task_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`output` text,
	`error` text,
	`calls` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `worked` (
	`task_id` text PRIMARY KEY NOT NULL,
	`n` integer NOT NULL,
	`times` integer NOT NULL
);
