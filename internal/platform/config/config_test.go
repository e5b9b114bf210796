package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

type sample struct {
	Addr    string
	Timeout time.Duration
	Targets []string
	Debug   bool
}

func newFlags(s *sample) *pflag.FlagSet {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.StringVar(&s.Addr, "server.http-addr", ":8080", "")
	fs.DurationVar(&s.Timeout, "server.shutdown-timeout", 5*time.Second, "")
	fs.StringSliceVar(&s.Targets, "target", []string{"all"}, "")
	fs.BoolVar(&s.Debug, "log.debug", false, "")
	fs.String("config.file", "", "")
	return fs
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "plinth.yaml")
	if err := os.WriteFile(yml, []byte("server:\n  http-addr: \":1111\"\n  shutdown-timeout: 9s\ntarget: [registry, inference]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		env  []string
		args []string
		want sample
	}{
		{"defaults", "", nil, nil, sample{":8080", 5 * time.Second, []string{"all"}, false}},
		{"file over defaults", yml, nil, nil, sample{":1111", 9 * time.Second, []string{"registry", "inference"}, false}},
		{"env over file", yml, []string{"PLINTH_SERVER_HTTP_ADDR=:2222", "PLINTH_TARGET=features", "HOME=/root"}, nil,
			sample{":2222", 9 * time.Second, []string{"features"}, false}},
		{"flags over env", yml, []string{"PLINTH_SERVER_HTTP_ADDR=:2222", "PLINTH_LOG_DEBUG=true"}, []string{"--server.http-addr=:3333", "--target=monitor"},
			sample{":3333", 9 * time.Second, []string{"monitor"}, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got sample
			fs := newFlags(&got)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := Apply(fs, tt.file, tt.env, "config.file"); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnknownAndBadValuesAllReported(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(yml, []byte("server:\n  htp-addr: x\n  shutdown-timeout: soon\n"), 0o600)
	var s sample
	fs := newFlags(&s)
	err := Apply(fs, yml, []string{"PLINTH_NOPE=1"}, "config.file")
	if err == nil {
		t.Fatal("got nil error")
	}
	for _, want := range []string{`unknown option "server.htp-addr"`, "PLINTH_NOPE", "server.shutdown-timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestDumpRoundTrips(t *testing.T) {
	var s sample
	fs := newFlags(&s)
	_ = fs.Parse([]string{"--target=a,b", "--server.http-addr=:7"})
	out, err := Dump(fs, "config.file")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dump.yaml")
	_ = os.WriteFile(path, out, 0o600)
	var again sample
	fs2 := newFlags(&again)
	if err := Apply(fs2, path, nil, "config.file"); err != nil {
		t.Fatalf("Apply(dump): %v\n%s", err, out)
	}
	if diff := cmp.Diff(s, again); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("server.http-addr"); got != "PLINTH_SERVER_HTTP_ADDR" {
		t.Errorf("got %s, want PLINTH_SERVER_HTTP_ADDR", got)
	}
}

func TestDecodeStrict(t *testing.T) {
	var v struct {
		Name string `yaml:"name"`
	}
	if err := DecodeStrict([]byte("name: a\n"), &v); err != nil || v.Name != "a" {
		t.Errorf("decode = %+v, %v", v, err)
	}
	if err := DecodeStrict([]byte("name: a\nnmae: b\n"), &v); err == nil || !strings.Contains(err.Error(), "nmae") {
		t.Errorf("misspelt field: %v, want an error naming it", err)
	}
	if err := DecodeStrict([]byte("# nothing\n"), &v); !errors.Is(err, io.EOF) {
		t.Errorf("no document: %v, want io.EOF", err)
	}
}

func TestDeclarationFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.yaml", "a.yaml", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := DeclarationFiles(dir, "views")
	if want := []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")}; err != nil || !slices.Equal(got, want) {
		t.Errorf("directory: %v, %v; want %v", got, err, want)
	}
	if got, err := DeclarationFiles(filepath.Join(dir, "b.yaml"), "views"); err != nil || len(got) != 1 {
		t.Errorf("one file: %v, %v", got, err)
	}
	if _, err := DeclarationFiles(filepath.Join(dir, "none.yaml"), "views"); err == nil || !strings.Contains(err.Error(), "read views") {
		t.Errorf("missing: %v, want read views: …", err)
	}
}
