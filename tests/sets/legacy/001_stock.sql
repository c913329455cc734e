CREATE TABLE stock (id INTEGER PRIMARY KEY, item TEXT NOT NULL, quantity TEXT NOT NULL);
CREATE VIEW low_stock AS SELECT item, quantity FROM stock WHERE CAST(quantity AS INTEGER) < 5;
