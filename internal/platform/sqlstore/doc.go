// Package sqlstore is Plinth's SQL layer: one *sql.DB over SQLite (the
// embedded default, a file in the data directory) or PostgreSQL (production),
// with per-module migrations and a transaction helper.
//
// # One SQL text, two databases
//
// Queries use $1, $2, ... placeholders on both backends (the SQLite driver,
// modernc.org/sqlite, accepts them, out of order and reused). DDL differs
// (BIGSERIAL against INTEGER PRIMARY KEY, BYTEA against BLOB), so each module
// keeps two migration folders, "sqlite" and "postgres", with the same goose
// version numbers, and [DB.Migrate] picks the one for the open dialect.
// Each module records its versions in a table of its own, so modules migrate
// independently in one database.
//
// # SQLite
//
// The SQLite database runs in WAL mode with synchronous=NORMAL (a committed
// transaction survives a process crash; a power loss can lose the last
// transactions but never corrupts the file), a 5 s busy timeout for other
// processes holding the lock, and foreign keys enforced. The pool holds ONE
// connection: SQLite admits one writer at a time, and with several
// connections a transaction that upgrades from read to write fails with
// SQLITE_BUSY instead of waiting; one connection turns that into an orderly
// queue inside the process. The consequence for callers: inside [DB.InTx]
// use only the *sql.Tx, since a query on the DB itself would wait for the
// connection the transaction holds, forever.
//
// # PostgreSQL
//
// PostgreSQL goes through a pgx connection pool (pgxpool) wrapped as a
// *sql.DB (pgx's stdlib.OpenDBFromPool). Pool settings such as
// pool_max_conns and runtime parameters such as search_path are taken from
// the URL. Migrations take a PostgreSQL advisory lock, so processes starting
// together migrate one after the other.
package sqlstore
