CREATE TABLE `plans` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`name` text NOT NULL,
	`race_date` text NOT NULL,
	`race_distance_m` real NOT NULL,
	`goal_time_s` integer NOT NULL,
	`weeks` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `plans_owner_idx` ON `plans` (`owner`,`created_at`);