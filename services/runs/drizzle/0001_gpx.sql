ALTER TABLE `runs` ADD `source` text DEFAULT 'manual' NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `elevation_gain_m` real;--> statement-breakpoint
ALTER TABLE `runs` ADD `splits` text;