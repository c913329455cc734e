ALTER TABLE items RENAME TO products;
ALTER TABLE products RENAME COLUMN label TO title;
