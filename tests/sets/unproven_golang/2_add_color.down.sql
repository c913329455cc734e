-- forgot the column
SELECT 1;
