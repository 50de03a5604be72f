-- A task submitted without an idempotency key gets no entry in the key's
-- unique index: NULL keys never conflicted, and nothing looks them up.
DROP INDEX `_mesh_tasks_sent_key_unique`;--> statement-breakpoint
CREATE UNIQUE INDEX `_mesh_tasks_sent_key_unique` ON `_mesh_tasks_sent` (`key`) WHERE key IS NOT NULL;