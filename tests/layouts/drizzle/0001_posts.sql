CREATE TABLE `posts` (`id` integer PRIMARY KEY NOT NULL, `tag` text REFERENCES `labels`(`name`));--> statement-breakpoint
INSERT INTO `labels` VALUES ('news');--> statement-breakpoint
CREATE INDEX `posts_tag` ON `posts` (`tag`);
