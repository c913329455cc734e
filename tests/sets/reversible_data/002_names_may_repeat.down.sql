DROP TABLE audit;
CREATE UNIQUE INDEX users_name ON users (name);
