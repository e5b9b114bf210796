-- +goose Up
-- A job id registers at most one version of a model: the trainer's
-- redelivered job finds the version it registered before.
ALTER TABLE registry_versions ADD COLUMN job_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX registry_versions_job ON registry_versions (model, job_id) WHERE job_id <> '';

-- Training jobs; the trainer is stateless and reports here.
CREATE TABLE registry_jobs (
    id         TEXT PRIMARY KEY,
    model      TEXT NOT NULL REFERENCES registry_models (name),
    algorithm  TEXT NOT NULL,
    params     TEXT NOT NULL DEFAULT '{}',
    data       TEXT NOT NULL DEFAULT '{}',
    reason     TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    progress   DOUBLE PRECISION NOT NULL DEFAULT 0,
    message    TEXT NOT NULL DEFAULT '',
    error      TEXT NOT NULL DEFAULT '',
    attempts   BIGINT NOT NULL DEFAULT 0,
    version    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX registry_jobs_model ON registry_jobs (model, created_at);

-- Validation gates: one policy per model, one record per evaluated version
-- (the latest evaluation).
CREATE TABLE registry_gate_policies (
    model      TEXT PRIMARY KEY REFERENCES registry_models (name),
    policy     TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE registry_gate_records (
    model   TEXT NOT NULL,
    version BIGINT NOT NULL,
    record  TEXT NOT NULL,
    PRIMARY KEY (model, version),
    FOREIGN KEY (model, version) REFERENCES registry_versions (model, version)
);

-- +goose Down
DROP TABLE registry_gate_records;
DROP TABLE registry_gate_policies;
DROP TABLE registry_jobs;
DROP INDEX registry_versions_job;
ALTER TABLE registry_versions DROP COLUMN job_id;
