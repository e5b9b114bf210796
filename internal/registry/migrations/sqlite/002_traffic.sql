-- +goose Up
-- The model's traffic split between its champion and challenger aliases.
ALTER TABLE registry_models ADD COLUMN traffic TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE registry_models DROP COLUMN traffic;
