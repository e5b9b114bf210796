-- +goose Up
CREATE TABLE notes (body TEXT NOT NULL);

-- +goose Down
DROP TABLE notes;
