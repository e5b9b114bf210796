package sqlstore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

func TestParseURL(t *testing.T) {
	const pragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(ON)&_time_format=sqlite"
	tests := []struct {
		url, dataDir string
		wantDialect  Dialect
		wantDSN      string
		wantErr      bool
	}{
		{url: "", dataDir: "/d", wantDialect: SQLite, wantDSN: "file:/d/plinth.db?" + pragmas},
		{url: "", dataDir: "", wantErr: true},
		{url: "sqlite:///abs/x.db", wantDialect: SQLite, wantDSN: "file:/abs/x.db?" + pragmas},
		{url: "sqlite://rel.db", wantDialect: SQLite, wantDSN: "file:rel.db?" + pragmas},
		{url: "sqlite://", wantErr: true},
		{
			url:         "file:x.db?_pragma=busy_timeout(100)&_time_format=sqlite",
			wantDialect: SQLite,
			wantDSN:     "file:x.db?_pragma=busy_timeout(100)&_time_format=sqlite&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)",
		},
		{url: "postgres://u@h:5432/db?sslmode=disable", wantDialect: Postgres, wantDSN: "postgres://u@h:5432/db?sslmode=disable"},
		{url: "postgresql://u@h/db", wantDialect: Postgres, wantDSN: "postgresql://u@h/db"},
		{url: "postgres://u@h:bad port/db", wantErr: true},
		{url: "mysql://h/db", wantErr: true},
		{url: "/plain/path.db", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			dialect, dsn, err := parseURL(tt.url, tt.dataDir)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if dialect != tt.wantDialect || dsn != tt.wantDSN {
				t.Errorf("got %q %q, want %q %q", dialect, dsn, tt.wantDialect, tt.wantDSN)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	var cfg Config
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := cfg.Validate(); err != nil {
		t.Errorf("default config: got %v, want valid", err)
	}
	if err := fs.Parse([]string{"--db.url=postgres://h/db"}); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if diff := cmp.Diff(Config{URL: "postgres://h/db"}, cfg); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	if err := (&Config{URL: "redis://h"}).Validate(); err == nil {
		t.Errorf("redis url: got valid, want an error")
	}
}
