COMMIT;
--> statement-breakpoint
ALTER TABLE `tags` RENAME TO `labels`;
--> statement-breakpoint
BEGIN;