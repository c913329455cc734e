-- A rebuild that only adds a nullable column: nothing to acknowledge.
CREATE TABLE books_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year INTEGER, isbn TEXT);
INSERT INTO books_new (id, title, year) SELECT id, title, year FROM books;
DROP TABLE books;
ALTER TABLE books_new RENAME TO books;
