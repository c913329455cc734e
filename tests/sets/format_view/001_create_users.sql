CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE VIEW user_domains AS SELECT id, substr(email, instr(email, '@') + 1) FROM users;
