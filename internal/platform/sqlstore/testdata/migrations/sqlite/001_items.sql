-- +goose Up
CREATE TABLE items (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    data BLOB
);

-- +goose Down
DROP TABLE items;
