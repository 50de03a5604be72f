CREATE TABLE `plan_reports` (
	`plan_id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`task_id` text NOT NULL,
	`status` text NOT NULL,
	`body` text,
	`error` text,
	`requested_at` text NOT NULL,
	`finished_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `plan_reports_task_id_unique` ON `plan_reports` (`task_id`);