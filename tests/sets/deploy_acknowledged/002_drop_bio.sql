-- migrate:allow drop-column users.bio -- the app stopped reading bio in 2.3
ALTER TABLE users DROP COLUMN bio;
