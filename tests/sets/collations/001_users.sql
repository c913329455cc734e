-- `unicase` is registered by the application (for example with the `unicase` crate).
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL COLLATE unicase);
CREATE UNIQUE INDEX users_email ON users (email COLLATE unicase);
