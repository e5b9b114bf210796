-- +goose Up
CREATE TABLE tags (
    item_id INTEGER NOT NULL REFERENCES items(id),
    tag     TEXT NOT NULL,
    PRIMARY KEY (item_id, tag)
);

-- +goose Down
DROP TABLE tags;
