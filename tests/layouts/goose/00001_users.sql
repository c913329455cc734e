
-- +goose Up
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, updated INTEGER);
-- +goose StatementBegin
CREATE TRIGGER users_touch AFTER UPDATE OF name ON users BEGIN
  UPDATE users SET updated = 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE users
