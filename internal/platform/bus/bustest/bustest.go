// Package bustest opens buses for tests: an embedded one in a temporary
// directory, and one on the external NATS server named by
// PLINTH_TEST_NATS_URL, isolated by a random stream prefix. Both are closed,
// and the external one's streams deleted, when the test ends.
package bustest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/platform/bus"
)

// DefaultNATSURL is the external test server used when PLINTH_TEST_NATS_URL
// is unset.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// reachTimeout is how long a test waits for the external server before it
// skips.
const reachTimeout = 2 * time.Second

// Embedded opens an embedded bus with a random stream prefix in a fresh
// temporary directory, with the contract streams created. It is closed when
// the test ends.
func Embedded(t testing.TB) *bus.Bus {
	t.Helper()
	return open(t, bus.Config{StreamPrefix: Prefix(t)}, t.TempDir())
}

// External opens a bus on the external NATS server (PLINTH_TEST_NATS_URL,
// default DefaultNATSURL) with a random stream prefix and the contract
// streams created; its streams are deleted and it is closed when the test
// ends. It skips the test when the server cannot be reached within 2 s.
func External(t testing.TB) *bus.Bus {
	t.Helper()
	url := NATSURL(t)
	return open(t, bus.Config{URL: url, StreamPrefix: Prefix(t)}, "")
}

// NATSURL returns the external test server's URL, skipping the test when it
// cannot be reached within 2 s.
func NATSURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("PLINTH_TEST_NATS_URL")
	if url == "" {
		url = DefaultNATSURL
	}
	nc, err := nats.Connect(url, nats.Timeout(reachTimeout), nats.MaxReconnects(0))
	if err != nil {
		t.Skipf("external NATS at %s not reachable (set PLINTH_TEST_NATS_URL): %v", url, err)
	}
	nc.Close()
	return url
}

// Prefix returns a random stream prefix, unique per call.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random prefix: %v", err)
	}
	return "t" + hex.EncodeToString(b[:])
}

func open(t testing.TB, cfg bus.Config, dataDir string) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := bus.Open(ctx, cfg, dataDir, logger)
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(func() {
		if cfg.URL != "" {
			DeleteStreams(t, b)
		}
		if err := b.Close(); err != nil {
			t.Errorf("close bus: %v", err)
		}
	})
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatalf("ensure streams: %v", err)
	}
	return b
}

// DeleteStreams deletes the contract streams of b (under its prefix),
// ignoring those that do not exist.
func DeleteStreams(t testing.TB, b *bus.Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, sc := range bus.StreamConfigs() {
		name := b.Stream(sc.Name)
		if err := b.JetStream().DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("delete stream %q: %v", name, err)
		}
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
