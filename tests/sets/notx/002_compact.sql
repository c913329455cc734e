-- migrate:no-transaction
-- VACUUM and journal_mode cannot run inside a transaction.
DELETE FROM events WHERE id > 10;
VACUUM;
PRAGMA journal_mode = WAL;
