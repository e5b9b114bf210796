-- +goose Up
-- Rollout sagas: one row per rollout, its state persisted before each step
-- acts. Times are Unix microseconds; the policy is JSON.
CREATE TABLE rollout_sagas (
    id              TEXT PRIMARY KEY,
    model           TEXT NOT NULL,
    version         BIGINT NOT NULL,
    champion        BIGINT NOT NULL DEFAULT 0,
    state           TEXT NOT NULL,
    step_index      BIGINT NOT NULL DEFAULT 0,
    step_started_at BIGINT NOT NULL DEFAULT 0,
    policy          TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    job_id          TEXT NOT NULL DEFAULT '',
    verdict         TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL DEFAULT ''
);
-- One active rollout per model.
CREATE UNIQUE INDEX rollout_sagas_active ON rollout_sagas (model)
    WHERE state NOT IN ('promoted', 'rolled_back', 'failed');
CREATE INDEX rollout_sagas_model ON rollout_sagas (model, created_at);

-- The saga log: a step is written 'started' before it acts and 'done'
-- after, so a controller that resumes knows what may need redoing.
CREATE TABLE rollout_steps (
    saga_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    done_at    BIGINT NOT NULL DEFAULT 0,
    detail     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (saga_id, name)
);

-- The controller lease: one holder at a time, renewed before it expires.
CREATE TABLE rollout_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    epoch      BIGINT NOT NULL
);

-- +goose Down
DROP TABLE rollout_lease;
DROP TABLE rollout_steps;
DROP TABLE rollout_sagas;
