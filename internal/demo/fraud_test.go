package demo

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/products/fraud"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}

// modelEvents collects a model's MODELS events as they come.
type modelEvents struct {
	mu     sync.Mutex
	events []registry.Event
	at     []time.Time // when each was seen
}

// watch collects model's MODELS events into m until ctx ends.
func (m *modelEvents) watch(ctx context.Context, a *app.App, model string) error {
	b := a.Bus()
	cons, err := b.JetStream().OrderedConsumer(ctx, b.Stream(bus.StreamModels), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.Subject(registry.Subject(model, "*"))}})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var ev registry.Event
		if json.Unmarshal(msg.Data(), &ev) == nil {
			m.mu.Lock()
			m.events, m.at = append(m.events, ev), append(m.at, time.Now())
			m.mu.Unlock()
		}
	})
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, cc.Stop)
	return nil
}

// championMoves lists the versions champion moved to, in order.
func (m *modelEvents) championMoves() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int64
	for _, ev := range m.events {
		if ev.Type == registry.EventAliasMoved && ev.Alias == registry.AliasChampion {
			out = append(out, ev.Version)
		}
	}
	return out
}

// TestFraudLoop runs the demo's loop headless from an empty data directory:
// a retrained version is promoted after the injected drift with no manual
// step, and the bad candidate is rolled back with the champion unchanged.
func TestFraudLoop(t *testing.T) {
	if raceEnabled {
		t.Skip("the fraud loop runs on wall-clock monitor windows, which the race detector's slowdown distorts; .ci/run runs it without -race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var events modelEvents
	var out strings.Builder
	began := time.Now()
	rep, err := RunFraud(ctx, Options{DataDir: t.TempDir(), Out: &out,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Started: func(ctx context.Context, a *app.App) error {
			return events.watch(ctx, a, fraud.Model)
		}})
	took := time.Since(began)
	if err != nil {
		t.Fatalf("RunFraud: %v\n%s", err, out.String())
	}
	t.Logf("fraud loop: drift → retrained champion in %.1fs, whole loop %.1fs", rep.ToPromotion.Seconds(), took.Seconds())
	if rep.First == 0 || rep.Retrained <= rep.First || rep.Bad <= rep.Retrained {
		t.Fatalf("versions first %d, retrained %d, bad %d: want rising", rep.First, rep.Retrained, rep.Bad)
	}
	// The stale candidate looks good on its own (pre-drift) holdout, so its
	// gate passes and the canary must catch it on live traffic.
	if rep.BadGateRefused || rep.BadRollout.State != rollout.StateRolledBack {
		t.Errorf("bad candidate: gate refused %v, rollout %s (%s); want its canary rolled back", rep.BadGateRefused,
			rep.BadRollout.State, rep.BadRollout.Reason)
	}
	if took > 4*time.Minute {
		t.Errorf("loop took %s", took)
	}
	// Champion moved to the first model, then to the retrain, and never
	// again: not during the bad candidate's canary, not after.
	events.checkChampionMoves(t, rep.First, rep.Retrained)
}

// checkChampionMoves fails t unless the versions champion moved to, in
// order, are want within 5 seconds: the MODELS events may lag the run.
func (m *modelEvents) checkChampionMoves(t *testing.T, want ...int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for got := m.championMoves(); !equal(got, want); got = m.championMoves() {
		if time.Now().After(deadline) {
			t.Fatalf("champion moves on MODELS = %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
