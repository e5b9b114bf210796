package monitor

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the tests' "now".
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testConfig is the default configuration: one-minute buckets over an
// hour, 30 minutes of lateness, a 2 minute join window.
func testConfig() Config {
	return Config{BucketWidth: time.Minute, Buckets: 60, Lateness: 30 * time.Minute, JoinWindow: 2 * time.Minute,
		MaxPending: 1000, MaxPairs: 6000, EvalInterval: time.Hour, WebhookRetries: 2, WebhookBackoff: time.Millisecond,
		RetrainCooldown: 6 * time.Hour, Instance: "test"}
}

type fixture struct {
	svc   *Service
	clock *clock
	reg   *prometheus.Registry
}

// newFixture builds a service at t0 with rules YAML (empty: built-in).
func newFixture(t *testing.T, cfg Config, rulesYAML string, b *bus.Bus, registry Registry) *fixture {
	t.Helper()
	rules, err := ParseRules([]byte(rulesYAML))
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	f := &fixture{clock: newClock(t0), reg: prometheus.NewRegistry()}
	f.svc, err = New(cfg, b, registry, slog.New(slog.NewTextHandler(io.Discard, nil)), f.reg, WithClock(f.clock.Now), WithRules(rules))
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	return f
}

func (f *fixture) predict(pls ...wire.PredictionLog) {
	for _, pl := range pls {
		f.svc.handlePrediction(context.Background(), pl)
	}
}

func (f *fixture) label(fbs ...wire.Feedback) {
	for _, fb := range fbs {
		f.svc.handleFeedback(fb)
	}
}

func (f *fixture) stats(t *testing.T, model string, version int64) VersionStats {
	t.Helper()
	st, err := f.svc.Status(context.Background(), model)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range st.Versions {
		if v.Version == version {
			return v
		}
	}
	t.Fatalf("no stats for %s v%d in %+v", model, version, st)
	return VersionStats{}
}

// scored is a champion prediction of fraud v1 made ago before t0.
func scored(id, entity string, version int64, ago time.Duration, score float64, latency time.Duration) wire.PredictionLog {
	return wire.PredictionLog{ID: id, Model: "fraud", Version: version, Arm: wire.ArmChampion, Entity: entity,
		Output: []float64{score}, LatencyUS: latency.Microseconds(), At: t0.Add(-ago)}
}

func byID(id, predID string, label float64) wire.Feedback {
	return wire.Feedback{ID: id, Model: "fraud", PredictionID: predID, Label: label, At: t0}
}

func byEntity(id, entity string, eventAgo time.Duration, label float64) wire.Feedback {
	return wire.Feedback{ID: id, Model: "fraud", Entity: entity, EventTime: t0.Add(-eventAgo), Label: label, At: t0}
}
