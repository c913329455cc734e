UPDATE products SET name = 'x';
