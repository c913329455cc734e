-- migrate:allow rename-column users.name -- 2.5 reads full_name
ALTER TABLE users RENAME COLUMN name TO full_name;
