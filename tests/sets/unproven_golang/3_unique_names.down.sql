-- MySQL
ALTER TABLE tags DROP INDEX tags_name;
