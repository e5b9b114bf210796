package outbox

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// VersionTable records the outbox's migrations.
const VersionTable = "outbox_db_version"

//go:embed migrations
var migrations embed.FS

// Migrate creates or upgrades the outbox tables in db. It is idempotent.
func Migrate(ctx context.Context, db *sqlstore.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("outbox migrations: %w", err)
	}
	if err := db.Migrate(ctx, sub, VersionTable); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// Enqueue adds an event to the outbox inside tx; it is published after tx
// commits, and never if tx rolls back. subject is given without the bus
// prefix (e.g. "models.fraud.version_created"). hdr becomes the message
// headers, with the trace context of ctx added; hdr is not modified. It
// returns the row id.
func Enqueue(ctx context.Context, tx *sql.Tx, subject string, payload []byte, hdr map[string]string) (id int64, err error) {
	if err := checkSubject(subject); err != nil {
		return 0, err
	}
	h := make(map[string]string, len(hdr)+2)
	for k, v := range hdr {
		h[k] = v
	}
	otel.GetTextMapPropagator().Inject(ctx, propagation.MapCarrier(h))
	encoded, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("encode outbox headers: %w", err)
	}
	if payload == nil {
		payload = []byte{}
	}
	err = tx.QueryRowContext(ctx,
		"INSERT INTO outbox (subject, payload, headers) VALUES ($1, $2, $3) RETURNING id",
		subject, payload, string(encoded)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("enqueue outbox event on %q: %w", subject, err)
	}
	return id, nil
}

// checkSubject accepts a publishable NATS subject: dot-separated non-empty
// tokens without whitespace or wildcards.
func checkSubject(subject string) error {
	if subject == "" || strings.ContainsAny(subject, " \t\r\n*>") {
		return fmt.Errorf("outbox subject %q: want dot-separated tokens without spaces or wildcards", subject)
	}
	for tok := range strings.SplitSeq(subject, ".") {
		if tok == "" {
			return fmt.Errorf("outbox subject %q: empty token", subject)
		}
	}
	return nil
}

// decodeHeaders reads a row's stored headers.
func decodeHeaders(s string) (nats.Header, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode outbox headers: %w", err)
	}
	if m == nil {
		return nil, errors.New("decode outbox headers: not a JSON object")
	}
	h := make(nats.Header, len(m))
	for k, v := range m {
		h.Set(k, v)
	}
	return h, nil
}
