package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
)

func TestDB(t *testing.T) {
	suite := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"Migrate", testMigrate},
		{"MigrateModulesIndependently", testMigrateModules},
		{"Placeholders", testPlaceholders},
		{"InTxCommit", testInTxCommit},
		{"InTxRollback", testInTxRollback},
		{"InTxPanic", testInTxPanic},
		{"UniqueViolation", testUniqueViolation},
		{"ConcurrentTx", testConcurrentTx},
		{"Ready", testReady},
	}
	for _, be := range sqltest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, be.Open(t)) })
			}
		})
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func migrate(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	if err := db.Migrate(testCtx(t), os.DirFS("testdata/migrations"), "items_db_version"); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

func count(t *testing.T, q sqlQuerier, table string) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(testCtx(t), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

type sqlQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func testMigrate(t *testing.T, db *sqlstore.DB) {
	migrate(t, db)
	migrate(t, db) // idempotent
	if got := count(t, db, "tags"); got != 0 {
		t.Errorf("got %d tags, want 0", got)
	}
	var version int
	err := db.QueryRowContext(testCtx(t), "SELECT max(version_id) FROM items_db_version").Scan(&version)
	if err != nil || version != 2 {
		t.Errorf("got version %d (%v), want 2", version, err)
	}
}

func testMigrateModules(t *testing.T, db *sqlstore.DB) {
	migrate(t, db)
	if err := db.Migrate(testCtx(t), os.DirFS("testdata/other"), "notes_db_version"); err != nil {
		t.Fatalf("migrate other module: %v", err)
	}
	var version int
	err := db.QueryRowContext(testCtx(t), "SELECT max(version_id) FROM notes_db_version").Scan(&version)
	if err != nil || version != 1 {
		t.Errorf("got notes version %d (%v), want 1", version, err)
	}
	if got := count(t, db, "notes"); got != 0 {
		t.Errorf("got %d notes, want 0", got)
	}
}

func testPlaceholders(t *testing.T, db *sqlstore.DB) {
	migrate(t, db)
	ctx := testCtx(t)
	if _, err := db.ExecContext(ctx, "INSERT INTO items (name, data) VALUES ($2, $1)", []byte{1, 2}, "a"); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var name string
	var data []byte
	err := db.QueryRowContext(ctx, "SELECT name, data FROM items WHERE name = $1 OR name = $1 || 'x'", "a").Scan(&name, &data)
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	if diff := cmp.Diff([]byte{1, 2}, data); name != "a" || diff != "" {
		t.Errorf("got %q %v, want %q [1 2]", name, data, "a")
	}
}

func insertItem(ctx context.Context, tx *sql.Tx, name string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO items (name) VALUES ($1)", name)
	return err
}

func testInTxCommit(t *testing.T, db *sqlstore.DB) {
	migrate(t, db)
	ctx := testCtx(t)
	err := db.InTx(ctx, func(tx *sql.Tx) error { return insertItem(ctx, tx, "a") })
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got := count(t, db, "items"); got != 1 {
		t.Errorf("got %d items, want 1", got)
	}
}

func testInTxRollback(t *testing.T, db *sqlstore.DB) {
	migrate(t, db)
	ctx := testCtx(t)
	boom := errors.New("boom")
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := insertItem(ctx, tx, "a"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if got := count(t, db, "items"); got != 0 {
		t.Errorf("got %d items after rollback, want 0", got)
	}
}

func testInTxPanic(t *testing.T, db *sqlstore.DB) {
	migrate(t, db)
	ctx := testCtx(t)
	cause := errors.New("cause")
	tests := []struct {
		name  string
		value any
		want  []error
	}{
		{"error value", cause, []error{sqlstore.ErrTxPanic, cause}},
		{"string value", "oops", []error{sqlstore.ErrTxPanic}},
	}
	for _, tt := range tests {
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if err := insertItem(ctx, tx, "a"); err != nil {
				return err
			}
			panic(tt.value)
		})
		for _, w := range tt.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: got %v, want it to wrap %v", tt.name, err, w)
			}
		}
	}
	// The connection went back to the pool: the DB still works.
	if got := count(t, db, "items"); got != 0 {
		t.Errorf("got %d items after panics, want 0", got)
	}
}

func testUniqueViolation(t *testing.T, db *sqlstore.DB) {
	migrate(t, db)
	ctx := testCtx(t)
	exec := func(q string, args ...any) error {
		_, err := db.ExecContext(ctx, q, args...)
		return err
	}
	if err := exec("INSERT INTO items (id, name) VALUES (1, 'a')"); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if err := exec("INSERT INTO tags (item_id, tag) VALUES (1, 'x')"); err != nil {
		t.Fatalf("insert tag: %v", err)
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"unique column", exec("INSERT INTO items (id, name) VALUES (2, 'a')"), true},
		{"primary key", exec("INSERT INTO tags (item_id, tag) VALUES (1, 'x')"), true},
		{"foreign key", exec("INSERT INTO tags (item_id, tag) VALUES (99, 'x')"), false},
		{"not null", exec("INSERT INTO items (id) VALUES (3)"), false},
		{"nil", nil, false},
		{"other", errors.New("x"), false},
	}
	for _, tt := range tests {
		if tt.name != "nil" && tt.name != "other" && tt.err == nil {
			t.Errorf("%s: got no error from the database, want one", tt.name)
		}
		if got := sqlstore.IsUniqueViolation(tt.err); got != tt.want {
			t.Errorf("%s: IsUniqueViolation(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func testConcurrentTx(t *testing.T, db *sqlstore.DB) {
	migrate(t, db)
	ctx := testCtx(t)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				errs <- db.InTx(ctx, func(tx *sql.Tx) error {
					var n int
					if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil {
						return err
					}
					return insertItem(ctx, tx, string(rune('a'+w))+string(rune('a'+i)))
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent InTx: %v", err)
		}
	}
	if got := count(t, db, "items"); got != workers*each {
		t.Errorf("got %d items, want %d", got, workers*each)
	}
}

func testReady(t *testing.T, db *sqlstore.DB) {
	if err := db.Ready(testCtx(t)); err != nil {
		t.Errorf("got Ready %v, want nil", err)
	}
}

func TestSQLitePragmas(t *testing.T) {
	db := sqltest.SQLite(t)
	ctx := testCtx(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"},
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("pragma %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("pragma %s: got %q, want %q", tt.pragma, got, tt.want)
		}
	}
	if db.Dialect != sqlstore.SQLite {
		t.Errorf("got dialect %q, want %q", db.Dialect, sqlstore.SQLite)
	}
}

func TestOpenUnreachablePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := sqlstore.Open(ctx, sqlstore.Config{URL: "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"}, "")
	if err == nil {
		db.Close()
		t.Fatalf("got nil error, want a ping failure")
	}
}
