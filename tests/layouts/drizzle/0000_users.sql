CREATE TABLE `users` (`id` integer PRIMARY KEY NOT NULL);
--> statement-breakpoint
CREATE TABLE `tags` (`name` text PRIMARY KEY NOT NULL);
