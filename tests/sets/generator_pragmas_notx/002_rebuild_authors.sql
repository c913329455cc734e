-- migrate:no-transaction
-- Without a transaction the pragmas take effect: enforcement is off for the rebuild,
-- on again after it, and the runner still checks foreign keys and restores the setting.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE authors_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) > 0));
INSERT INTO authors_new (id, name) SELECT id, name FROM authors;
DROP TABLE authors;
ALTER TABLE authors_new RENAME TO authors;
COMMIT;
PRAGMA foreign_keys = ON;
