-- Keep `updated_at` current. The trigger body holds semicolons of its own.
ALTER TABLE users ADD COLUMN updated_at TEXT;

CREATE TRIGGER users_touch AFTER UPDATE OF name, email, bio ON users
BEGIN
    UPDATE users SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
