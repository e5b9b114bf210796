-- +goose Up
-- Times are Unix microseconds (UTC) in BIGINT, maps are JSON text, so the
-- same queries serve SQLite and PostgreSQL.
CREATE TABLE registry_models (
    name           TEXT PRIMARY KEY,
    description    TEXT NOT NULL DEFAULT '',
    tags           TEXT NOT NULL DEFAULT '{}',
    latest_version BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE registry_artifacts (
    sha256     TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE registry_versions (
    model           TEXT NOT NULL REFERENCES registry_models (name),
    version         BIGINT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    artifact_sha256 TEXT NOT NULL DEFAULT '',
    artifact_size   BIGINT NOT NULL DEFAULT 0,
    format          TEXT NOT NULL,
    uri             TEXT NOT NULL DEFAULT '',
    metrics         TEXT NOT NULL DEFAULT '{}',
    tags            TEXT NOT NULL DEFAULT '{}',
    lineage         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model, version)
);

CREATE TABLE registry_aliases (
    model      TEXT NOT NULL REFERENCES registry_models (name),
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    revision   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model, name),
    FOREIGN KEY (model, version) REFERENCES registry_versions (model, version)
);

CREATE TABLE registry_audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    model   TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX registry_audit_model ON registry_audit (model, id);

-- +goose Down
DROP TABLE registry_audit;
DROP TABLE registry_aliases;
DROP TABLE registry_versions;
DROP TABLE registry_artifacts;
DROP TABLE registry_models;
