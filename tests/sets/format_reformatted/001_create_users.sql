-- the users
create table users (
    id INTEGER PRIMARY KEY,   -- key
    email TEXT NOT NULL UNIQUE
);
