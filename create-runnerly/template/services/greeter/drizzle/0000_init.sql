CREATE TABLE `greetings` (
	`name` text PRIMARY KEY NOT NULL,
	`times` integer NOT NULL
);
