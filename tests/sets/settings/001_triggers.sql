PRAGMA recursive_triggers = ON;
PRAGMA legacy_alter_table = ON;
CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
