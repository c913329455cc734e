BEGIN;
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
INSERT INTO schema_migrations (version, name, applied_at)
VALUES ('001', 'create_users', datetime('now'));
COMMIT;
