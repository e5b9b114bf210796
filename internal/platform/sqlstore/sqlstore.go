package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrTxPanic marks the error InTx returns when its function panicked.
var ErrTxPanic = errors.New("transaction function panicked")

// DB is an open SQL database and its dialect. It is safe for concurrent use,
// like the embedded *sql.DB. Close releases it.
type DB struct {
	*sql.DB
	Dialect Dialect

	pool *pgxpool.Pool // PostgreSQL only
}

// Open validates cfg and opens the database it names, creating dataDir and
// the SQLite file where needed. It pings the database before returning, so
// an unreachable server fails here (within ctx).
func Open(ctx context.Context, cfg Config, dataDir string) (*DB, error) {
	dialect, dsn, err := parseURL(cfg.URL, dataDir)
	if err != nil {
		return nil, err
	}
	var d *DB
	switch dialect {
	case SQLite:
		d, err = openSQLite(cfg.URL, dsn, dataDir)
	case Postgres:
		d, err = openPostgres(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := d.PingContext(ctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("ping %s database: %w", dialect, err)
	}
	return d, nil
}

func openSQLite(rawURL, dsn, dataDir string) (*DB, error) {
	if rawURL == "" {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// One connection: see the package documentation.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return &DB{DB: db, Dialect: SQLite}, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres pool: %w", err)
	}
	return &DB{DB: stdlib.OpenDBFromPool(pool), Dialect: Postgres, pool: pool}, nil
}

// Migrate applies the pending migrations of one module. migrations holds the
// folders "sqlite" and "postgres" of goose SQL files (NNN_name.sql); the one
// for the open dialect is applied, and versionTable records what was applied
// (one table per module, e.g. "registry_db_version"). It is idempotent; on
// PostgreSQL concurrent callers serialise on an advisory lock.
func (d *DB) Migrate(ctx context.Context, migrations fs.FS, versionTable string) error {
	sub, err := fs.Sub(migrations, string(d.Dialect))
	if err != nil {
		return fmt.Errorf("migrations for %s: %w", d.Dialect, err)
	}
	opts := []goose.ProviderOption{goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true)}
	gooseDialect := goose.DialectSQLite3
	if d.Dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect, d.DB, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrations %q: %w", versionTable, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %q: %w", versionTable, err)
	}
	return nil
}

// InTx runs fn in a transaction: it commits when fn returns nil and rolls
// back when fn returns an error or panics. A panic is returned as an error
// wrapping ErrTxPanic (and the panic value when it is an error), with the
// stack, and is not re-raised. InTx retries nothing. Inside fn use only tx:
// on SQLite a query on d itself would wait forever for the one connection.
func (d *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			err = panicError(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

func panicError(p any) error {
	if perr, ok := p.(error); ok {
		return fmt.Errorf("%w: %w\n%s", ErrTxPanic, perr, debug.Stack())
	}
	return fmt.Errorf("%w: %v\n%s", ErrTxPanic, p, debug.Stack())
}

// IsUniqueViolation reports whether err (or an error it wraps) is a unique
// or primary-key constraint violation, on either backend.
func IsUniqueViolation(err error) bool {
	if serr, ok := errors.AsType[*sqlite.Error](err); ok {
		code := serr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "23505"
	}
	return false
}

// Ready pings the database.
func (d *DB) Ready(ctx context.Context) error {
	if err := d.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", d.Dialect, err)
	}
	return nil
}

// Close closes the database and, on PostgreSQL, its pool. It waits for
// queries in progress to finish.
func (d *DB) Close() error {
	err := d.DB.Close()
	if d.pool != nil {
		d.pool.Close()
	}
	if err != nil {
		return fmt.Errorf("close %s database: %w", d.Dialect, err)
	}
	return nil
}
