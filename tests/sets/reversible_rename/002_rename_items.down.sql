ALTER TABLE products RENAME COLUMN title TO label;
ALTER TABLE products RENAME TO items;
