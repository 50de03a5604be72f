CREATE TABLE `reports` (
	`id` text PRIMARY KEY NOT NULL,
	`user` text NOT NULL,
	`month` text NOT NULL,
	`status` text NOT NULL,
	`body` text,
	`requested_at` integer NOT NULL,
	`ready_at` integer
);
--> statement-breakpoint
CREATE TABLE `runs_seen` (
	`run_id` text PRIMARY KEY NOT NULL,
	`user` text NOT NULL,
	`distance_m` real NOT NULL,
	`duration_s` integer NOT NULL,
	`started_at` text NOT NULL,
	`day` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runs_seen_user_day_idx` ON `runs_seen` (`user`,`day`);--> statement-breakpoint
CREATE TABLE `totals` (
	`user` text NOT NULL,
	`period` text NOT NULL,
	`key` text NOT NULL,
	`distance_m` real NOT NULL,
	`duration_s` integer NOT NULL,
	`runs` integer NOT NULL,
	PRIMARY KEY(`user`, `period`, `key`)
);
