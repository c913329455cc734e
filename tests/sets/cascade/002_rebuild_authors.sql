-- SQLite's ALTER TABLE cannot add a CHECK constraint: rebuild the table.
-- With foreign keys on, DROP TABLE authors would delete every book (ON DELETE CASCADE);
-- the runner turns enforcement off around the migration, so nothing cascades.
CREATE TABLE authors_new (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) > 0)
);
INSERT INTO authors_new (id, name) SELECT id, name FROM authors;
DROP TABLE authors;
ALTER TABLE authors_new RENAME TO authors;
