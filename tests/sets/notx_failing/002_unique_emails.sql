-- migrate:no-transaction
CREATE TABLE audit (note TEXT NOT NULL);
INSERT INTO audit VALUES ('emails made unique');
CREATE UNIQUE INDEX users_email ON users (email);
