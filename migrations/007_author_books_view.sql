-- One row per author with their book count and latest year.
CREATE VIEW author_books AS
SELECT users.id AS author_id,
       users.name AS author,
       count(books.id) AS books,
       max(books.year) AS latest_year
FROM users
LEFT JOIN books ON books.author_id = users.id
GROUP BY users.id
