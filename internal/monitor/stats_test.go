package monitor

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plinthai/plinth/internal/wire"
)

// TestClassifierStream feeds a hand-made stream with labels before and
// after their predictions, by id and by entity, redelivered, late and
// unmatched, and checks every figure exactly.
func TestClassifierStream(t *testing.T) {
	f := newFixture(t, testConfig(), "defaults: {precision-k: 2}", nil, nil)
	fast := time.Duration(latencyEdgesUS[60]) * time.Microsecond // a bin edge: its quantile reads exactly
	f.label(byID("f1", "p1", 1))                                 // before its prediction
	f.label(byEntity("f2", "e2", 18*time.Minute, 0))             // before its prediction, by entity
	f.predict(
		scored("p1", "e1", 1, 20*time.Minute, 0.9, fast),
		scored("p2", "e2", 1, 19*time.Minute, 0.8, fast),
		scored("p3", "e3", 1, 15*time.Minute, 0.7, fast),
		scored("p4", "e4", 1, 10*time.Minute, 0.6, fast),
		scored("p4", "e4", 1, 10*time.Minute, 0.6, fast), // redelivered
		scored("p5", "e5", 1, 5*time.Minute, 0.4, 200*time.Millisecond),
		scored("p6", "e6", 1, 31*time.Minute, 0.99, fast), // older than the lateness
		scored("p7", "e7", 1, 8*time.Minute, 0.3, fast),
		wire.PredictionLog{ID: "p8", Model: "fraud", Version: 1, Arm: wire.ArmChampion, Error: "boom", At: t0.Add(-time.Minute)},
		scored("p9", "e9", 1, 90*time.Minute, 0.5, fast), // older than the window
	)
	f.label(
		byID("f3", "p3", 1),
		byID("f3", "p3", 1), // redelivered
		byEntity("f4", "e4", 10*time.Minute-90*time.Second, 0),
		byID("f5", "p5", 0),
		byID("f6", "p6", 0),
		byEntity("f7", "e7", 2*time.Minute, 1), // 6 minutes after p7: outside the join window
		wire.Feedback{ID: "f8", Model: "fraud", Label: 1},
	)

	got := f.stats(t, "fraud", 1)
	want := VersionStats{Model: "fraud", Version: 1, Arm: wire.ArmChampion,
		Predictions: 8, Errors: 1, ErrorRate: 0.125, P50MS: float64(fast.Microseconds()) / 1000, P99MS: 200,
		Samples: 5, Positives: 2,
		// Joined: (0.9,1) (0.8,0) (0.7,1) (0.6,0) (0.4,0). AUC: 5 of 6
		// positive–negative pairs in order. AP: ½·1 + ½·⅔. P@2: ½.
		Quality: map[string]float64{MetricROCAUC: 5.0 / 6, MetricAUPRC: 0.5 + 0.5*2.0/3, MetricPrecisionAtK: 0.5}}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	for outcome, n := range map[string]float64{outcomeJoined: 3, outcomePending: 3, outcomeDuplicate: 1, outcomeLate: 1, outcomeInvalid: 1} {
		if got := testutil.ToFloat64(f.svc.metrics.feedback.WithLabelValues("fraud", outcome)); got != n {
			t.Errorf("feedback %s = %v, want %v", outcome, got, n)
		}
	}
	for outcome, n := range map[string]float64{"counted": 8, outcomeDuplicate: 1, "outside_window": 1} {
		if got := testutil.ToFloat64(f.svc.metrics.predictions.WithLabelValues("fraud", outcome)); got != n {
			t.Errorf("predictions %s = %v, want %v", outcome, got, n)
		}
	}
}

// TestLateLabelLandsInPredictionBucket: a label arriving 25 minutes after
// its prediction counts in the prediction's bucket, and leaves the window
// with it.
func TestLateLabelLandsInPredictionBucket(t *testing.T) {
	f := newFixture(t, testConfig(), "", nil, nil)
	f.clock.Advance(-58*time.Minute - 30*time.Second)
	f.predict(scored("a", "", 1, 58*time.Minute+30*time.Second, 0.9, time.Millisecond))
	f.clock.Advance(25 * time.Minute) // the label comes 25 minutes later, within the lateness
	f.label(byID("fa", "a", 1))
	f.clock.Advance(33*time.Minute + 30*time.Second)
	if got := f.stats(t, "fraud", 1).Samples; got != 1 {
		t.Fatalf("samples = %d, want 1", got)
	}
	f.clock.Advance(time.Minute)
	st, _ := f.svc.Status(t.Context(), "fraud")
	if len(st.Versions) != 0 {
		t.Fatalf("after the window passed: %+v, want no versions", st.Versions)
	}
}

// TestRecommenderStream checks HR@10 and NDCG@10 and that an entity label
// reaches every version that scored the entity (champion and shadow).
func TestRecommenderStream(t *testing.T) {
	f := newFixture(t, testConfig(), "models: {movies: {task: recommender}}", nil, nil)
	rec := func(id, user string, version int64, arm string, items ...string) wire.PredictionLog {
		return wire.PredictionLog{ID: id, Model: "movies", Version: version, Arm: arm, Entity: user, Items: items, At: t0.Add(-10 * time.Minute)}
	}
	consumed := func(id, user string, items ...string) wire.Feedback {
		return wire.Feedback{ID: id, Model: "movies", Entity: user, Items: items, EventTime: t0.Add(-9 * time.Minute), At: t0}
	}
	f.predict(rec("r1", "u1", 1, wire.ArmChampion, "a", "b", "c"), rec("r2", "u2", 1, wire.ArmChampion, "x", "y"),
		rec("s1", "u1", 2, wire.ArmShadow, "a", "c"))
	f.label(consumed("l1", "u1", "c"), consumed("l2", "u2", "z"))
	f.predict(rec("s2", "u2", 2, wire.ArmShadow, "z")) // after its label

	tests := []struct {
		version   int64
		hit, ndcg float64
	}{
		{1, 0.5, 0.25},                   // u1: c at rank 3 → 1/log2(4) = ½; u2: miss
		{2, 1, (1 + 1/math.Log2(3)) / 2}, // u1: c at rank 2 → 1/log2(3); u2: z at rank 1
	}
	for _, tt := range tests {
		got := f.stats(t, "movies", tt.version)
		want := map[string]float64{MetricHRAt10: tt.hit, MetricNDCGAt10: tt.ndcg}
		if diff := cmp.Diff(want, got.Quality, cmpopts.EquateApprox(0, 1e-12)); diff != "" || got.Samples != 2 {
			t.Errorf("v%d: samples %d, quality (-want +got):\n%s", tt.version, got.Samples, diff)
		}
	}
}

// TestPendingIsBounded: predictions past the cap are evicted, oldest
// first, and counted.
func TestPendingIsBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxPending = 3
	f := newFixture(t, cfg, "", nil, nil)
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		f.predict(scored(id, "", 1, time.Duration(10-i)*time.Minute, 0.5, time.Millisecond))
	}
	if got := testutil.ToFloat64(f.svc.metrics.evicted.WithLabelValues("prediction")); got != 2 {
		t.Errorf("evicted = %v, want 2", got)
	}
	f.label(byID("fa", "a", 1), byID("fe", "e", 1))
	if got := f.stats(t, "fraud", 1).Samples; got != 1 {
		t.Errorf("samples = %d, want 1 (a was evicted)", got)
	}
}

func TestQuantile(t *testing.T) {
	bins := make([]uint64, len(latencyEdgesUS)+1)
	bins[latencyBin(1000)] = 98
	bins[latencyBin(50_000)] = 2
	if got, want := quantileMS(bins, 50_000, 0.99), 50.0; got != want {
		t.Errorf("p99 = %v, want %v", got, want)
	}
	p50 := quantileMS(bins, 50_000, 0.5)
	if p50 < 1 || p50 > 1.1 {
		t.Errorf("p50 = %v, want within 10%% above 1 ms", p50)
	}
}

// A PREDICTIONS message may hold an array of logs (the inference service
// sends a batch so) or one log; a log without a model or a time is skipped
// and reported, the others are counted.
func TestPredictionMessages(t *testing.T) {
	f := newFixture(t, testConfig(), "", nil, nil)
	ctx := t.Context()
	one := `{"id":"p1","model":"fraud","version":1,"arm":"champion","output":[0.5],"latency_us":100,"at":"2026-03-01T11:59:00Z"}`
	if err := f.svc.onPrediction(ctx, []byte(one)); err != nil {
		t.Fatalf("one log: %v", err)
	}
	batch := ` [` + strings.ReplaceAll(one, "p1", "p2") + `,{"id":"p3","version":1,"at":"2026-03-01T11:59:00Z"},` +
		strings.ReplaceAll(one, "p1", "p4") + `]`
	if err := f.svc.onPrediction(ctx, []byte(batch)); err == nil || !strings.Contains(err.Error(), "1 of 3") {
		t.Errorf("a batch with a log without a model: %v, want it reported as 1 of 3", err)
	}
	if got := f.stats(t, "fraud", 1).Predictions; got != 3 {
		t.Errorf("counted %d predictions, want 3 (p1, p2, p4)", got)
	}
	for _, bad := range []string{`[`, `{"id":`, `[1]`, `"x"`, ``} {
		if err := f.svc.onPrediction(ctx, []byte(bad)); err == nil {
			t.Errorf("onPrediction(%q) = nil, want an error", bad)
		}
	}
}
