-- Passes the build (the validation database is empty) but fails on real data
-- when two users share an email.
CREATE TABLE audit (note TEXT NOT NULL);
INSERT INTO audit VALUES ('emails made unique');
CREATE UNIQUE INDEX users_email ON users (email);
