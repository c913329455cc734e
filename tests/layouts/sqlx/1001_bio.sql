-- written for Postgres
ALTER TABLE users ADD COLUMN IF NOT EXISTS bio TEXT;
