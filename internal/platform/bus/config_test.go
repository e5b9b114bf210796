package bus_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/platform/bus"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  bus.Config
		want []string // substrings of the error, in order; nil means valid
	}{
		{name: "zero value", cfg: bus.Config{}},
		{name: "external", cfg: bus.Config{URL: "nats://127.0.0.1:4222"}},
		{name: "cluster", cfg: bus.Config{URL: "nats://a:4222, nats://b:4222,tls://c:4222"}},
		{name: "listen free port", cfg: bus.Config{Listen: "127.0.0.1:0"}},
		{name: "prefix", cfg: bus.Config{StreamPrefix: "t_1-a"}},
		{name: "bad scheme", cfg: bus.Config{URL: "http://x:1"}, want: []string{"scheme"}},
		{name: "no host", cfg: bus.Config{URL: "nats://"}, want: []string{"no host"}},
		{name: "bad listen", cfg: bus.Config{Listen: "localhost"}, want: []string{"nats.listen"}},
		{name: "bad port", cfg: bus.Config{Listen: ":70000"}, want: []string{"port must be"}},
		{name: "bad prefix", cfg: bus.Config{StreamPrefix: "a.b"}, want: []string{"stream-prefix"}},
		{
			name: "every problem at once",
			cfg:  bus.Config{URL: "ftp://x", Listen: "nope", SyncAlways: true, StreamPrefix: "a b"},
			want: []string{"scheme", "nats.listen: applies only", "sync-always", "nats.listen", "stream-prefix"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got nil error, want one mentioning %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems (%v), want %d", len(lines), err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("problem %d: got %q, want it to mention %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestConfigFlags(t *testing.T) {
	var cfg bus.Config
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if diff := cmp.Diff(bus.Config{}, cfg); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	err := fs.Parse([]string{"--nats.url=nats://h:1", "--nats.listen=127.0.0.1:0", "--nats.sync-always", "--nats.stream-prefix=p"})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := bus.Config{URL: "nats://h:1", Listen: "127.0.0.1:0", SyncAlways: true, StreamPrefix: "p"}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
}
