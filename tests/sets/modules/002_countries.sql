CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO countries (code, name) SELECT code, name FROM imports;
DROP TABLE imports;
