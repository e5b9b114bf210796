package sqlstore

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// Dialect names the SQL database behind a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DefaultURL is the default of --db.url: empty, a SQLite file in the data
// directory.
const DefaultURL = ""

// sqliteFileName is the SQLite database file inside the data directory.
const sqliteFileName = "plinth.db"

// Config selects the SQL database.
type Config struct {
	// URL is empty for the SQLite file <data dir>/plinth.db;
	// sqlite:///abs/path.db or a modernc DSN file:path.db for another SQLite
	// file; postgres://... or postgresql://... for PostgreSQL.
	URL string `yaml:"url"`
}

// RegisterFlags registers --db.url on fs, writing into c.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.URL, "db.url", DefaultURL,
		"SQL database: postgres://user@host:5432/db?sslmode=disable, sqlite:///path/file.db, or empty for a SQLite file in the data directory")
}

// Validate reports every problem of c at once, joined with errors.Join.
func (c *Config) Validate() error {
	if c.URL == "" {
		return nil
	}
	_, _, err := parseURL(c.URL, "")
	return err
}

// parseURL returns the dialect and the driver DSN for rawURL; for the empty
// URL it is the SQLite file in dataDir.
func parseURL(rawURL, dataDir string) (Dialect, string, error) {
	switch {
	case rawURL == "":
		if dataDir == "" {
			return "", "", errors.New("db.url: empty (SQLite in the data directory), but no data directory is set")
		}
		return SQLite, sqliteDSN("file:" + filepath.Join(dataDir, sqliteFileName)), nil
	case strings.HasPrefix(rawURL, "sqlite://"):
		path := strings.TrimPrefix(rawURL, "sqlite://")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return "", "", fmt.Errorf("db.url: %q: no file path", rawURL)
		}
		return SQLite, sqliteDSN("file:" + path), nil
	case strings.HasPrefix(rawURL, "file:"):
		return SQLite, sqliteDSN(rawURL), nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return "", "", fmt.Errorf("db.url: %w", err)
		}
		return Postgres, rawURL, nil
	default:
		return "", "", errors.New("db.url: scheme must be one of postgres, postgresql, sqlite, file")
	}
}

// sqlitePragmas are set on every SQLite connection unless the DSN sets them.
var sqlitePragmas = []struct{ name, value string }{
	{"journal_mode", "WAL"},
	{"synchronous", "NORMAL"},
	{"busy_timeout", "5000"},
	{"foreign_keys", "ON"},
}

// sqliteDSN adds Plinth's pragmas and time format to a modernc file: DSN,
// keeping any the DSN already sets.
func sqliteDSN(dsn string) string {
	var params []string
	for _, p := range sqlitePragmas {
		if !strings.Contains(dsn, "_pragma="+p.name+"(") {
			params = append(params, "_pragma="+p.name+"("+p.value+")")
		}
	}
	if !strings.Contains(dsn, "_time_format=") {
		params = append(params, "_time_format=sqlite")
	}
	if len(params) == 0 {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + strings.Join(params, "&")
}
