-- A short free-text biography; existing users get an empty one.
ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT '';
