package registry

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/registry/migrations"
)

// Notifier is poked after each commit that wrote outbox rows, so the relay
// publishes without waiting for its next poll.
type Notifier interface{ Notify() }

// Service implements API over a SQL store and a blob store. It is safe for
// concurrent use.
type Service struct {
	cfg     Config
	db      *sqlstore.DB
	blobs   *blob.Store
	relay   Notifier
	logger  *slog.Logger
	metrics *metrics
	now     func() time.Time
}

var _ API = (*Service)(nil)

// New returns a registry over db and blobs. relay may be nil.
func New(cfg Config, db *sqlstore.DB, blobs *blob.Store, relay Notifier, logger *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, db: db, blobs: blobs, relay: relay, logger: logger, metrics: m,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}, nil
}

// Starting runs the registry's migrations.
func (s *Service) Starting(ctx context.Context) error {
	if err := s.db.Migrate(ctx, migrations.FS, "registry_db_version"); err != nil {
		return fmt.Errorf("migrate registry: %w", err)
	}
	return nil
}

// Running waits for ctx; the registry has no background work.
func (s *Service) Running(ctx context.Context) error { <-ctx.Done(); return nil }

// Stopping does nothing: the stores belong to their own modules.
func (s *Service) Stopping(context.Context) error { return nil }

// CheckReady pings the SQL store.
func (s *Service) CheckReady(ctx context.Context) error { return s.db.Ready(ctx) }

// record writes the audit row and the outbox event of one change inside tx.
func (s *Service) record(ctx context.Context, tx *sql.Tx, ev Event, detail any) error {
	d := ""
	if detail != nil {
		d = encodeJSON(detail)
	}
	if err := audit(ctx, tx, AuditEntry{At: ev.At, Actor: ev.Actor, Action: ev.Type, Model: ev.Model, Version: ev.Version, Detail: d}); err != nil {
		return err
	}
	return s.publish(ctx, tx, ev)
}

// publish writes the outbox event of one change inside tx, without an
// audit row (for progress reports, which are not changes worth auditing).
func (s *Service) publish(ctx context.Context, tx *sql.Tx, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if _, err := outbox.Enqueue(ctx, tx, Subject(ev.Model, ev.Type), body, nil); err != nil {
		return fmt.Errorf("enqueue %s event: %w", ev.Type, err)
	}
	return nil
}

// change runs fn in a transaction and pokes the relay after commit.
func (s *Service) change(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	err := s.db.InTx(ctx, fn)
	s.metrics.observe(op, err)
	if err == nil && s.relay != nil {
		s.relay.Notify()
	}
	return err
}

func (s *Service) event(ctx context.Context, typ, model string) Event {
	return Event{Type: typ, Model: model, Actor: auth.From(ctx).Subject, At: s.now()}
}

// CreateModel implements API.
func (s *Service) CreateModel(ctx context.Context, req CreateModelRequest) (Model, error) {
	if err := errors.Join(checkName("name", req.Name), checkText("description", req.Description, maxDescription),
		checkTags("tags", req.Tags)); err != nil {
		return Model{}, firstErr(err)
	}
	ev := s.event(ctx, EventModelCreated, req.Name)
	m := Model{Name: req.Name, Description: req.Description, Tags: req.Tags, CreatedAt: ev.At, UpdatedAt: ev.At, CreatedBy: ev.Actor}
	err := s.change(ctx, "create_model", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO registry_models (`+modelColumns+`) VALUES ($1, $2, $3, 0, $4, $4, $5, '{}')`,
			m.Name, m.Description, encodeJSON(m.Tags), micros(m.CreatedAt), m.CreatedBy)
		if sqlstore.IsUniqueViolation(err) {
			return fmt.Errorf("model %q: %w", m.Name, ErrModelExists)
		}
		if err != nil {
			return fmt.Errorf("insert model: %w", err)
		}
		return s.record(ctx, tx, ev, nil)
	})
	return m, err
}

// GetModel implements API.
func (s *Service) GetModel(ctx context.Context, name string) (Model, error) {
	if err := checkName("name", name); err != nil {
		return Model{}, err
	}
	return getModel(ctx, s.db, name)
}

// Defaults and bounds for ListModels pages.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// ListModels implements API.
func (s *Service) ListModels(ctx context.Context, pageSize int, pageToken string) ([]Model, string, error) {
	if pageSize < 0 || pageSize > maxPageSize {
		return nil, "", problem.Field("page_size", "must be between 0 and %d", maxPageSize)
	}
	if pageSize == 0 {
		pageSize = defaultPageSize
	}
	after, err := base64.RawURLEncoding.DecodeString(pageToken)
	if err != nil {
		return nil, "", problem.Field("page_token", "not a token this server issued")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+modelColumns+` FROM registry_models WHERE name > $1 ORDER BY name LIMIT $2`,
		string(after), pageSize+1)
	if err != nil {
		return nil, "", fmt.Errorf("list models: %w", err)
	}
	var out []Model
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			rows.Close()
			return nil, "", err
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > pageSize {
		out = out[:pageSize]
		next = base64.RawURLEncoding.EncodeToString([]byte(out[pageSize-1].Name))
	}
	for i := range out {
		if out[i].Aliases, err = modelAliases(ctx, s.db, out[i].Name); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// UploadArtifact implements API.
func (s *Service) UploadArtifact(ctx context.Context, r io.Reader, wantSHA256 string) (Artifact, error) {
	if wantSHA256 != "" {
		if err := checkSHA("sha256", wantSHA256); err != nil {
			return Artifact{}, err
		}
	}
	sha, size, err := s.blobs.Put(ctx, r, wantSHA256, s.cfg.MaxArtifactBytes)
	switch {
	case errors.Is(err, blob.ErrTooLarge):
		return Artifact{}, problem.FieldKind(problem.ErrTooLarge, "artifact", "larger than the limit of %d bytes", s.cfg.MaxArtifactBytes)
	case errors.Is(err, blob.ErrChecksum):
		return Artifact{}, problem.FieldKind(problem.ErrUnprocessable, "sha256", "content does not match the declared sha256 %s; nothing was stored", wantSHA256)
	case err != nil:
		return Artifact{}, fmt.Errorf("store artifact: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO registry_artifacts (sha256, size, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (sha256) DO NOTHING`, sha, size, micros(s.now()))
	if err != nil {
		return Artifact{}, fmt.Errorf("record artifact: %w", err)
	}
	s.metrics.artifactBytes.Add(float64(size))
	return Artifact{SHA256: sha, Size: size}, nil
}

// OpenArtifact implements API.
func (s *Service) OpenArtifact(ctx context.Context, sha string) (io.ReadCloser, Artifact, error) {
	if err := checkSHA("sha256", sha); err != nil {
		return nil, Artifact{}, err
	}
	rc, size, err := s.blobs.Get(ctx, sha)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, Artifact{}, fmt.Errorf("artifact %s: %w", sha, ErrArtifactNotFound)
	}
	if err != nil {
		return nil, Artifact{}, fmt.Errorf("open artifact %s: %w", sha, err)
	}
	return rc, Artifact{SHA256: sha, Size: size}, nil
}

func firstErr(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) > 0 {
		return j.Unwrap()[0]
	}
	return err
}

func mergeMaps[V any](dst, src map[string]V) map[string]V {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]V{}
	}
	maps.Copy(dst, src)
	return dst
}
