CREATE UNIQUE INDEX tags_name ON tags (name);
