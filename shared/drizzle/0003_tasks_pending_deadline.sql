-- A task submitted without a deadline gets no entry in the index the
-- deadline watch reads (it asks only for pending tasks that have one), so
-- submitting it and finishing it change one B-tree fewer.
DROP INDEX `_mesh_tasks_sent_pending`;--> statement-breakpoint
CREATE INDEX `_mesh_tasks_sent_pending` ON `_mesh_tasks_sent` (`deadline`) WHERE status = 'pending' AND deadline IS NOT NULL;