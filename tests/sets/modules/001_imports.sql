-- `csv` is a virtual table module the application loads (here rusqlite's csvtab).
CREATE VIRTUAL TABLE imports USING csv(filename='tests/sets/modules/countries.csv', header=yes);
