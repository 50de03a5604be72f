ALTER TABLE `runs_seen` ADD `best_5k` real;--> statement-breakpoint
ALTER TABLE `runs_seen` ADD `best_10k` real;--> statement-breakpoint
ALTER TABLE `runs_seen` ADD `best_half` real;--> statement-breakpoint
ALTER TABLE `runs_seen` ADD `best_marathon` real;