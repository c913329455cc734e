-- Listing a user's books is the most common query.
CREATE INDEX books_author_id ON books (author_id, year);
