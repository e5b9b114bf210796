package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SQL of the jobs, gate policies and gate records tables.

const jobColumns = `id, model, algorithm, params, data, reason, status, progress, message, error,
	attempts, version, created_at, updated_at, created_by`

func scanJob(row interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var params, data string
	var created, updated int64
	err := row.Scan(&j.ID, &j.Model, &j.Algorithm, &params, &data, &j.Reason, &j.Status, &j.Progress, &j.Message,
		&j.Error, &j.Attempts, &j.Version, &created, &updated, &j.CreatedBy)
	if err != nil {
		return j, err
	}
	j.CreatedAt, j.UpdatedAt = fromMicros(created), fromMicros(updated)
	return j, errors.Join(decodeJSON(params, &j.Params), decodeJSON(data, &j.Data))
}

func getJob(ctx context.Context, q querier, id string) (Job, error) {
	j, err := scanJob(q.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM registry_jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("job %s: %w", id, ErrJobNotFound)
	}
	if err != nil {
		return j, fmt.Errorf("get job %s: %w", id, err)
	}
	return j, nil
}

func insertJob(ctx context.Context, q querier, j Job) error {
	_, err := q.ExecContext(ctx, `INSERT INTO registry_jobs (`+jobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		j.ID, j.Model, j.Algorithm, encodeJSON(j.Params), encodeJSON(j.Data), j.Reason, j.Status, j.Progress,
		j.Message, j.Error, j.Attempts, j.Version, micros(j.CreatedAt), micros(j.UpdatedAt), j.CreatedBy)
	if err != nil {
		return fmt.Errorf("insert job %s: %w", j.ID, err)
	}
	return nil
}

func updateJob(ctx context.Context, q querier, j Job) error {
	_, err := q.ExecContext(ctx, `UPDATE registry_jobs SET status = $2, progress = $3, message = $4, error = $5,
		attempts = $6, version = $7, updated_at = $8 WHERE id = $1`,
		j.ID, j.Status, j.Progress, j.Message, j.Error, j.Attempts, j.Version, micros(j.UpdatedAt))
	if err != nil {
		return fmt.Errorf("update job %s: %w", j.ID, err)
	}
	return nil
}

func listJobs(ctx context.Context, q querier, req ListJobsRequest) ([]Job, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+jobColumns+` FROM registry_jobs
		WHERE ($1 = '' OR model = $1) AND ($2 = '' OR status = $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, req.Model, req.Status, req.Limit)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// versionByJob returns the version a job registered, or sql.ErrNoRows.
func versionByJob(ctx context.Context, q querier, model, jobID string) (Version, error) {
	return scanVersion(q.QueryRowContext(ctx,
		`SELECT `+versionColumns+` FROM registry_versions WHERE model = $1 AND job_id = $2`, model, jobID))
}

func getGatePolicy(ctx context.Context, q querier, model string) (GatePolicy, error) {
	p := GatePolicy{Model: model}
	var body string
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT policy, revision, updated_at, updated_by FROM registry_gate_policies
		WHERE model = $1`, model).Scan(&body, &p.Revision, &updated, &p.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := getModel(ctx, q, model); err != nil {
			return p, err
		}
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("get gate policy of %q: %w", model, err)
	}
	rev, by := p.Revision, p.UpdatedBy
	if err := decodeJSON(body, &p); err != nil {
		return p, err
	}
	p.Model, p.Revision, p.UpdatedBy, p.UpdatedAt = model, rev, by, fromMicros(updated)
	return p, nil
}

func putGatePolicy(ctx context.Context, q querier, p GatePolicy) error {
	_, err := q.ExecContext(ctx, `INSERT INTO registry_gate_policies (model, policy, revision, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model) DO UPDATE SET policy = excluded.policy,
		revision = excluded.revision, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		p.Model, encodeJSON(p), p.Revision, micros(p.UpdatedAt), p.UpdatedBy)
	if err != nil {
		return fmt.Errorf("put gate policy of %q: %w", p.Model, err)
	}
	return nil
}

func getGateRecord(ctx context.Context, q querier, model string, version int64) (GateRecord, bool, error) {
	var body string
	err := q.QueryRowContext(ctx, `SELECT record FROM registry_gate_records WHERE model = $1 AND version = $2`,
		model, version).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return GateRecord{}, false, nil
	}
	if err != nil {
		return GateRecord{}, false, fmt.Errorf("get gate record of %q version %d: %w", model, version, err)
	}
	var r GateRecord
	return r, true, decodeJSON(body, &r)
}

func putGateRecord(ctx context.Context, q querier, r GateRecord) error {
	_, err := q.ExecContext(ctx, `INSERT INTO registry_gate_records (model, version, record) VALUES ($1, $2, $3)
		ON CONFLICT (model, version) DO UPDATE SET record = excluded.record`, r.Model, r.Version, encodeJSON(r))
	if err != nil {
		return fmt.Errorf("put gate record of %q version %d: %w", r.Model, r.Version, err)
	}
	return nil
}
