package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// errJobVersionExists means a concurrent CreateVersion of the same job won
// the race; the loser returns the winner's version.
var errJobVersionExists = errors.New("job registered a version meanwhile")

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return "{}"
	}
	return string(b)
}

// decodeJSON decodes stored JSON; "{}" leaves v at its zero value, so an
// empty map reads back as nil, as it was written.
func decodeJSON(s string, v any) error {
	if s == "" || s == "{}" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode stored json: %w", err)
	}
	return nil
}

const modelColumns = `name, description, tags, latest_version, created_at, updated_at, created_by, traffic`

func scanModel(row interface{ Scan(...any) error }) (Model, error) {
	var m Model
	var tags, traffic string
	var created, updated int64
	if err := row.Scan(&m.Name, &m.Description, &tags, &m.LatestVersion, &created, &updated, &m.CreatedBy, &traffic); err != nil {
		return m, err
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return m, errors.Join(decodeJSON(tags, &m.Tags), decodeJSON(traffic, &m.Traffic))
}

func getModel(ctx context.Context, q querier, name string) (Model, error) {
	m, err := scanModel(q.QueryRowContext(ctx, `SELECT `+modelColumns+` FROM registry_models WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("model %q: %w", name, ErrModelNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("get model %q: %w", name, err)
	}
	m.Aliases, err = modelAliases(ctx, q, name)
	return m, err
}

func modelAliases(ctx context.Context, q querier, model string) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, version FROM registry_aliases WHERE model = $1`, model)
	if err != nil {
		return nil, fmt.Errorf("list aliases of %q: %w", model, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	if len(out) == 0 {
		out = nil
	}
	return out, rows.Err()
}

const versionColumns = `model, version, description, artifact_sha256, artifact_size, format, uri,
	metrics, tags, lineage, status, created_at, created_by`

func scanVersion(row interface{ Scan(...any) error }) (Version, error) {
	var v Version
	var metrics, tags, lineage string
	var created int64
	err := row.Scan(&v.Model, &v.Version, &v.Description, &v.ArtifactSHA256, &v.ArtifactSize, &v.Format, &v.URI,
		&metrics, &tags, &lineage, &v.Status, &created, &v.CreatedBy)
	if err != nil {
		return v, err
	}
	v.CreatedAt = fromMicros(created)
	return v, errors.Join(decodeJSON(metrics, &v.Metrics), decodeJSON(tags, &v.Tags), decodeJSON(lineage, &v.Lineage))
}

func getVersion(ctx context.Context, q querier, model string, version int64) (Version, error) {
	v, err := scanVersion(q.QueryRowContext(ctx,
		`SELECT `+versionColumns+` FROM registry_versions WHERE model = $1 AND version = $2`, model, version))
	if errors.Is(err, sql.ErrNoRows) {
		if _, merr := getModel(ctx, q, model); merr != nil {
			return v, merr
		}
		return v, fmt.Errorf("model %q version %d: %w", model, version, ErrVersionNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("get model %q version %d: %w", model, version, err)
	}
	return v, nil
}

func insertVersion(ctx context.Context, q querier, v Version) error {
	_, err := q.ExecContext(ctx, `INSERT INTO registry_versions (`+versionColumns+`, job_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		v.Model, v.Version, v.Description, v.ArtifactSHA256, v.ArtifactSize, v.Format, v.URI,
		encodeJSON(v.Metrics), encodeJSON(v.Tags), encodeJSON(v.Lineage), v.Status, micros(v.CreatedAt), v.CreatedBy,
		v.Lineage.JobID)
	if sqlstore.IsUniqueViolation(err) && v.Lineage.JobID != "" {
		return fmt.Errorf("version of %q for job %s: %w", v.Model, v.Lineage.JobID, errJobVersionExists)
	}
	if err != nil {
		return fmt.Errorf("insert version %d of %q: %w", v.Version, v.Model, err)
	}
	return nil
}

func getAlias(ctx context.Context, q querier, model, name string) (Alias, error) {
	a := Alias{Model: model, Name: name}
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT version, revision, updated_at, updated_by
		FROM registry_aliases WHERE model = $1 AND name = $2`, model, name).
		Scan(&a.Version, &a.Revision, &updated, &a.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		if _, merr := getModel(ctx, q, model); merr != nil {
			return a, merr
		}
		return a, fmt.Errorf("model %q alias %q: %w", model, name, ErrAliasNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("get alias %q of %q: %w", name, model, err)
	}
	a.UpdatedAt = fromMicros(updated)
	return a, nil
}

func audit(ctx context.Context, q querier, e AuditEntry) error {
	_, err := q.ExecContext(ctx, `INSERT INTO registry_audit (at, actor, action, model, version, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`, micros(e.At), e.Actor, e.Action, e.Model, e.Version, e.Detail)
	if err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

func listAudit(ctx context.Context, q querier, model string, afterID int64, limit int) ([]AuditEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, at, actor, action, model, version, detail FROM registry_audit
		WHERE ($1 = '' OR model = $1) AND id > $2 ORDER BY id LIMIT $3`, model, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Model, &e.Version, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
