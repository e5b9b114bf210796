-- +goose Up
CREATE TABLE items (
    id   BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    data BYTEA
);

-- +goose Down
DROP TABLE items;
