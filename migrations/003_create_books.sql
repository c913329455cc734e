-- Books written by users. `year` started out as free text.
CREATE TABLE books (
    id        INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title     TEXT NOT NULL,
    year      TEXT
);

INSERT INTO users (name, email) VALUES ('Ada Lovelace', 'ada@example.com');
INSERT INTO books (author_id, title, year)
    VALUES (1, 'Notes on the Analytical Engine', '1843');
