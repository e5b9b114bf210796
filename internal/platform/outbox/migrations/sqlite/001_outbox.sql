-- +goose Up
-- AUTOINCREMENT: ids are never reused, since they name messages on the bus.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    subject      TEXT NOT NULL,
    payload      BLOB NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',
    created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    published_at TIMESTAMP
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- One random id per database, part of every message id, so that outboxes in
-- different databases never produce the same message id.
CREATE TABLE outbox_instance (id TEXT NOT NULL PRIMARY KEY);
INSERT INTO outbox_instance (id) VALUES (lower(hex(randomblob(8))));

-- +goose Down
DROP TABLE outbox_instance;
DROP TABLE outbox;
