package rollout

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

const sagaColumns = `id, model, version, champion, state, step_index, step_started_at, policy, reason, job_id,
	verdict, created_at, updated_at, created_by`

func scanSaga(row interface{ Scan(...any) error }) (Rollout, error) {
	var r Rollout
	var started, created, updated int64
	var policy, verdict string
	err := row.Scan(&r.ID, &r.Model, &r.Version, &r.Champion, &r.State, &r.StepIndex, &started, &policy, &r.Reason,
		&r.JobID, &verdict, &created, &updated, &r.CreatedBy)
	if err != nil {
		return r, err
	}
	r.StepStartedAt, r.CreatedAt, r.UpdatedAt = fromMicros(started), fromMicros(created), fromMicros(updated)
	if err := json.Unmarshal([]byte(policy), &r.Policy); err != nil {
		return r, fmt.Errorf("decode policy of rollout %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(verdict), &r.LastVerdict); err != nil {
		return r, fmt.Errorf("decode verdict of rollout %s: %w", r.ID, err)
	}
	return r, nil
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func insertSaga(ctx context.Context, q querier, r Rollout) error {
	_, err := q.ExecContext(ctx, `INSERT INTO rollout_sagas (`+sagaColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.Model, r.Version, r.Champion, r.State, r.StepIndex, micros(r.StepStartedAt), encode(r.Policy), r.Reason,
		r.JobID, encode(r.LastVerdict), micros(r.CreatedAt), micros(r.UpdatedAt), r.CreatedBy)
	if err != nil {
		return fmt.Errorf("insert rollout %s: %w", r.ID, err)
	}
	return nil
}

// updateSaga writes r if the row is still in state from at step
// fromStep; it reports whether it was.
func updateSaga(ctx context.Context, q querier, r Rollout, from string, fromStep int) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE rollout_sagas SET champion = $2, state = $3, step_index = $4,
		step_started_at = $5, reason = $6, verdict = $7, updated_at = $8
		WHERE id = $1 AND state = $9 AND step_index = $10`,
		r.ID, r.Champion, r.State, r.StepIndex, micros(r.StepStartedAt), r.Reason, encode(r.LastVerdict),
		micros(r.UpdatedAt), from, fromStep)
	if err != nil {
		return false, fmt.Errorf("update rollout %s: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func getSaga(ctx context.Context, q querier, id string) (Rollout, error) {
	r, err := scanSaga(q.QueryRowContext(ctx, `SELECT `+sagaColumns+` FROM rollout_sagas WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("rollout %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("get rollout %s: %w", id, err)
	}
	return r, nil
}

func listSagas(ctx context.Context, q querier, where string, args ...any) ([]Rollout, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sagaColumns+` FROM rollout_sagas WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list rollouts: %w", err)
	}
	defer rows.Close()
	var out []Rollout
	for rows.Next() {
		r, err := scanSaga(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// activeSagas lists the sagas that are not final, oldest first.
func activeSagas(ctx context.Context, q querier) ([]Rollout, error) {
	return listSagas(ctx, q, `state NOT IN ('promoted', 'rolled_back', 'failed') ORDER BY created_at, id`)
}

// Step statuses in the saga log.
const (
	stepStarted = "started"
	stepDone    = "done"
)

func stepStatus(ctx context.Context, q querier, sagaID, name string) (string, error) {
	var st string
	err := q.QueryRowContext(ctx, `SELECT status FROM rollout_steps WHERE saga_id = $1 AND name = $2`, sagaID, name).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read step %s of rollout %s: %w", name, sagaID, err)
	}
	return st, nil
}

func startStep(ctx context.Context, q querier, sagaID, name string, at time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO rollout_steps (saga_id, name, status, started_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (saga_id, name) DO NOTHING`, sagaID, name, stepStarted, micros(at))
	if err != nil {
		return fmt.Errorf("log step %s of rollout %s: %w", name, sagaID, err)
	}
	return nil
}

func finishStep(ctx context.Context, q querier, sagaID, name, detail string, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE rollout_steps SET status = $3, done_at = $4, detail = $5
		WHERE saga_id = $1 AND name = $2`, sagaID, name, stepDone, micros(at), detail)
	if err != nil {
		return fmt.Errorf("finish step %s of rollout %s: %w", name, sagaID, err)
	}
	return nil
}

// Step is one entry of a saga's log.
type Step struct {
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"started_at"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	Detail    string    `json:"detail,omitempty"`
}

func listSteps(ctx context.Context, q querier, sagaID string) ([]Step, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, status, started_at, done_at, detail FROM rollout_steps
		WHERE saga_id = $1 ORDER BY started_at, name`, sagaID)
	if err != nil {
		return nil, fmt.Errorf("list steps of rollout %s: %w", sagaID, err)
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var s Step
		var started, done int64
		if err := rows.Scan(&s.Name, &s.Status, &started, &done, &s.Detail); err != nil {
			return nil, err
		}
		s.StartedAt, s.DoneAt = fromMicros(started), fromMicros(done)
		out = append(out, s)
	}
	return out, rows.Err()
}
