package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
	"github.com/plinthai/plinth/internal/wire"
)

func TestStreamsEmbedded(t *testing.T) { testStreams(t, bustest.Embedded(t)) }

func TestStreamsExternal(t *testing.T) { testStreams(t, bustest.External(t)) }

// testStreams publishes predictions and labels (some labels first, one
// message twice, one undecodable) and waits until a running monitor has
// joined them; a second monitor started afterwards rebuilds the same
// window from the streams.
func testStreams(t *testing.T, b *bus.Bus) {
	now := time.Now().UTC()
	publish := func(subject, msgID string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Publish(t.Context(), subject, data, msgID, nil); err != nil {
			t.Fatal(err)
		}
	}
	first := runService(t, b)
	for i := range 20 {
		id := fmt.Sprintf("p%d", i)
		fb := wire.Feedback{ID: "f" + id, Model: "fraud", PredictionID: id, Label: float64(i % 2), At: now}
		pl := wire.PredictionLog{ID: id, Model: "fraud", Version: 3, Arm: wire.ArmChampion, Output: []float64{float64(i%2) * 0.5},
			LatencyUS: 1000, At: now.Add(-time.Duration(20-i) * time.Minute)}
		if i%3 == 0 {
			publish(wire.FeedbackSubject("fraud"), "", fb) // the label first
			publish(wire.PredictionSubject("fraud"), "", pl)
		} else {
			publish(wire.PredictionSubject("fraud"), "", pl)
			publish(wire.FeedbackSubject("fraud"), "", fb)
			publish(wire.FeedbackSubject("fraud"), "", fb) // a second copy
		}
	}
	if _, err := b.Publish(t.Context(), wire.PredictionSubject("fraud"), []byte("{not json"), "", nil); err != nil {
		t.Fatal(err)
	}
	want := VersionStats{Predictions: 20, Samples: 20, Positives: 10}
	waitStats(t, first, want)
	first.stop()
	waitStats(t, runService(t, b), want)
}

type running struct {
	svc  *Service
	stop func()
}

func runService(t *testing.T, b *bus.Bus) *running {
	t.Helper()
	svc, err := New(testConfig(), b, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry(), WithRules(&Rules{Defaults: BuiltinRules()}))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Starting(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Running(ctx) }()
	r := &running{svc: svc}
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Running: %v", err)
		}
	}
	t.Cleanup(r.stop)
	return r
}

// waitStats polls the monitor's status of fraud v3 until it has want's
// counts, for up to 30 s (an in-process consumer may stall for a pull
// expiry now and then).
func waitStats(t *testing.T, r *running, want VersionStats) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got VersionStats
	for time.Now().Before(deadline) {
		st, err := r.svc.Status(t.Context(), "fraud")
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Versions) == 1 {
			got = st.Versions[0]
			if got.Predictions == want.Predictions && got.Samples == want.Samples && got.Positives == want.Positives {
				if got.Quality[MetricROCAUC] != 1 {
					t.Errorf("roc_auc = %v, want 1", got.Quality[MetricROCAUC])
				}
				return
			}
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline, not waiting blind
	}
	t.Fatalf("after 30 s: predictions %d, samples %d, positives %d; want %d, %d, %d",
		got.Predictions, got.Samples, got.Positives, want.Predictions, want.Samples, want.Positives)
}
