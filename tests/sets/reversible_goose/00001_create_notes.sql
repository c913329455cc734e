-- +goose Up
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);

-- +goose Down
DROP TABLE notes;
