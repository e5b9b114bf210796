package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
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
	return start(t, svc)
}

// start starts svc and stops it at the end of the test.
func start(t *testing.T, svc *Service) *running {
	t.Helper()
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
				if want.Samples > 0 && got.Quality[MetricROCAUC] != 1 {
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

// TestConsumerBufferIsBounded holds the monitor's lock so that its handler
// blocks on the first of 64 batch messages of about 200 KB each (13 MB):
// the client may buffer no more than consumerFetchBytes of them, not all
// 64. Once released, every prediction is counted.
func TestConsumerBufferIsBounded(t *testing.T) {
	b := bustest.Embedded(t)
	const msgs, perMsg = 64, 1000
	now := time.Now().UTC()
	size := 0
	for m := range msgs {
		pls := make([]wire.PredictionLog, perMsg)
		for i := range pls {
			pls[i] = wire.PredictionLog{ID: fmt.Sprintf("p%d-%d", m, i), Model: "fraud", Version: 3, Output: []float64{0.25},
				Features:  map[string]float64{"amount": 12.5, "hour": 3, "merchant_risk": 0.125, "distance_km": 4.75},
				LatencyUS: 1000, At: now.Add(-time.Minute)}
		}
		data, err := json.Marshal(pls)
		if err != nil {
			t.Fatal(err)
		}
		size = len(data)
		if _, err := b.Publish(t.Context(), wire.PredictionSubject("fraud"), data, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	if size < 150<<10 || size > 300<<10 {
		t.Fatalf("a message is %d B, want about 200 KB", size)
	}
	svc, err := New(testConfig(), b, nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	svc.mu.Lock()
	locked := true
	defer func() {
		if locked {
			svc.mu.Unlock()
		}
	}()
	r := start(t, svc)
	info := func() *jetstream.ConsumerInfo {
		c, err := b.JetStream().Consumer(t.Context(), b.Stream(bus.StreamPredictions), "monitor-test-predictions")
		if err != nil {
			t.Fatal(err)
		}
		ci, err := c.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return ci
	}
	// Wait until delivery has stopped: the same count for half a second.
	last, since := uint64(0), time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Since(since) < 500*time.Millisecond; {
		if time.Now().After(deadline) {
			t.Fatal("delivery did not settle in 20 s")
		}
		if d := info().Delivered.Consumer; d != last || d == 0 {
			last, since = d, time.Now()
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline, not waiting blind
	}
	if limit := uint64(consumerFetchBytes/size) + 2; last > limit {
		t.Errorf("%d messages of %d B delivered while the handler was blocked, want at most %d (%d B)", last, size, limit, consumerFetchBytes)
	}
	svc.mu.Unlock()
	locked = false
	waitStats(t, r, VersionStats{Predictions: msgs * perMsg})
}
