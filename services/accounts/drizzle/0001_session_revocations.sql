CREATE TABLE `session_revocations` (
	`family_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`revoked_at` integer NOT NULL,
	`until` integer NOT NULL,
	`stored_at` integer
);
--> statement-breakpoint
CREATE INDEX `session_revocations_pending_idx` ON `session_revocations` (`stored_at`);