-- SQLite cannot change a column's type with ALTER TABLE, so rebuild the table:
-- create the new shape, copy the rows, drop the old table, rename the new one.
CREATE TABLE books_new (
    id        INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title     TEXT NOT NULL,
    year      INTEGER CHECK (year IS NULL OR year BETWEEN -3000 AND 3000)
);

INSERT INTO books_new (id, author_id, title, year)
    SELECT id, author_id, title, CAST(NULLIF(trim(year), '') AS INTEGER) FROM books;

DROP TABLE books;
ALTER TABLE books_new RENAME TO books;
