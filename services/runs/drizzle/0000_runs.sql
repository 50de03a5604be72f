CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`distance_m` real NOT NULL,
	`duration_s` integer NOT NULL,
	`started_at` text NOT NULL,
	`kind` text NOT NULL,
	`notes` text DEFAULT '' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runs_owner_started_idx` ON `runs` (`owner`,`started_at`,`id`);