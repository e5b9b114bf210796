-- +goose Up
CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    subject      TEXT NOT NULL,
    payload      BYTEA NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- One random id per database, part of every message id, so that outboxes in
-- different databases never produce the same message id.
CREATE TABLE outbox_instance (id TEXT NOT NULL PRIMARY KEY);
INSERT INTO outbox_instance (id) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 16));

-- +goose Down
DROP TABLE outbox_instance;
DROP TABLE outbox;
