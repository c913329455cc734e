-- migrate:no-transaction
-- Each statement commits on its own, so each must be safe to run again.
CREATE TABLE IF NOT EXISTS items_log (note TEXT NOT NULL);
UPDATE items SET payload = upper(payload);
CREATE INDEX IF NOT EXISTS items_payload ON items (payload);
