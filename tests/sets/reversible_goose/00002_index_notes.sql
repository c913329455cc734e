-- +goose Up
CREATE INDEX notes_body ON notes (body);

-- +goose Down
