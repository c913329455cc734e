-- migrate:allow tighten-column books.year -- 2.4 writes the year as an integer
CREATE TABLE books_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year INTEGER);
INSERT INTO books_new (id, title, year) SELECT id, title, CAST(year AS INTEGER) FROM books;
DROP TABLE books;
ALTER TABLE books_new RENAME TO books;
