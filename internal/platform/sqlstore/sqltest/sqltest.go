// Package sqltest opens databases for tests: SQLite in a temporary directory,
// and PostgreSQL (PLINTH_TEST_POSTGRES_URL) in a fresh schema that is dropped
// when the test ends, so tests can share one server.
package sqltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// DefaultPostgresURL is the test server used when PLINTH_TEST_POSTGRES_URL is
// unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// reachTimeout is how long a test waits for PostgreSQL before it skips.
const reachTimeout = 2 * time.Second

// Backend opens one kind of database for a test.
type Backend struct {
	Name string
	Open func(testing.TB) *sqlstore.DB
}

// Backends lists SQLite and PostgreSQL, for behaviour suites that run
// against both.
func Backends() []Backend {
	return []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}
}

// SQLite opens the default SQLite database in a fresh temporary directory;
// it is closed when the test ends.
func SQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	return open(t, sqlstore.Config{}, t.TempDir())
}

// Postgres opens the test PostgreSQL server with search_path set to a fresh
// schema, dropped (with everything in it) when the test ends. It skips the
// test when the server cannot be reached within 2 s.
func Postgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	rawURL := PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Fatalf("connect to postgres: %v", err)
	}
	schema := "t_" + randomHex(t)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		_ = admin.Close(ctx)
	})
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return open(t, sqlstore.Config{URL: u.String()}, "")
}

// PostgresURL returns the test server's URL, skipping the test when it
// cannot be reached within 2 s.
func PostgresURL(t testing.TB) string {
	t.Helper()
	rawURL := os.Getenv("PLINTH_TEST_POSTGRES_URL")
	if rawURL == "" {
		rawURL = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Skipf("PostgreSQL not reachable (set PLINTH_TEST_POSTGRES_URL): %v", err)
	}
	_ = conn.Close(ctx)
	return rawURL
}

func open(t testing.TB, cfg sqlstore.Config, dataDir string) *sqlstore.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sqlstore.Open(ctx, cfg, dataDir)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close database: %v", err)
		}
	})
	return db
}

func randomHex(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b[:])
}
