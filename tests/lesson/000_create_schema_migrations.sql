-- The SQLite lesson's hand-rolled runner: the bootstrap creates the tracking table
-- and records itself.
BEGIN;
CREATE TABLE IF NOT EXISTS schema_migrations (
    version TEXT PRIMARY KEY,
    name TEXT,
    applied_at TEXT
);
INSERT INTO schema_migrations (version, name, applied_at)
VALUES ('000', 'create_schema_migrations', datetime('now'));
COMMIT;
