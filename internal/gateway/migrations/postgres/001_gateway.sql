-- +goose Up
-- Times are Unix microseconds (UTC) in BIGINT, so the same queries serve
-- SQLite and PostgreSQL.
CREATE TABLE gateway_api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    key_hash   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    revoked_at BIGINT NOT NULL DEFAULT 0
);

-- One row per (principal, Idempotency-Key): pending while the first request
-- runs, then the stored response. Rows older than the TTL are deleted.
CREATE TABLE gateway_idempotency (
    principal    TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    headers      TEXT NOT NULL DEFAULT '{}',
    body         BYTEA,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX gateway_idempotency_created ON gateway_idempotency (created_at);

-- +goose Down
DROP TABLE gateway_idempotency;
DROP TABLE gateway_api_keys;
