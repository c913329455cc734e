-- Rewrites every row: slow on a big table, instant on the empty validation database.
CREATE TABLE items_log (note TEXT NOT NULL);
INSERT INTO items_log VALUES ('rewrite started');
UPDATE items SET payload = upper(payload) || lower(payload);
CREATE INDEX items_payload ON items (payload);
