-- The "rename the old table first" rebuild. A modern RENAME also rewrites the view
-- to read `stock_old`, which is then dropped ("error in view low_stock"); the legacy
-- behaviour leaves the view on `stock`. The runner restores the setting afterwards.
PRAGMA legacy_alter_table = ON;
ALTER TABLE stock RENAME TO stock_old;
CREATE TABLE stock (id INTEGER PRIMARY KEY, item TEXT NOT NULL, quantity INTEGER NOT NULL);
INSERT INTO stock (id, item, quantity) SELECT id, item, CAST(quantity AS INTEGER) FROM stock_old;
DROP TABLE stock_old;
