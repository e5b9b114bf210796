// Package onlinetest is the behaviour suite of online.Store. Every backend
// must pass it unchanged.
package onlinetest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/plinthai/plinth/internal/features/online"
	"github.com/plinthai/plinth/internal/features/view"
)

// T0 is the suite's reference time.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// View returns the suite's view: a count and a sum over 1h, a distinct
// count over 24h, a last value, and a TTL of 2 days.
func View(t testing.TB) *view.View {
	t.Helper()
	lateness := view.Duration(10 * time.Minute)
	v, err := view.Compile(view.Def{
		Name: "acct", Source: "txns", Entity: "acct", TTL: view.Duration(48 * time.Hour), AllowedLateness: &lateness,
		Features: []view.FeatureDef{
			{Name: "n_1h", Agg: view.AggCount, Window: view.Duration(time.Hour)},
			{Name: "sum_1h", Agg: view.AggSum, Field: "x", Window: view.Duration(time.Hour)},
			{Name: "kinds_24h", Agg: view.AggDistinct, Field: "kind", Window: view.Duration(24 * time.Hour)},
			{Name: "last_x", Agg: view.AggLast, Field: "x"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Factory returns a fresh, empty store that knows View.
type Factory func(t *testing.T, v *view.View) online.Store

// Run runs the whole suite.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, *view.View, online.Store)
	}{
		{"ApplyLookup", testApplyLookup},
		{"Redelivery", testRedelivery},
		{"ConcurrentWriters", testConcurrentWriters},
		{"WindowRollsAndTTL", testWindowRollsAndTTL},
		{"LateEvents", testLateEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := View(t)
			tt.fn(t, v, newStore(t, v))
		})
	}
}

// Row builds event seq of entity at T0+at.
func Row(t testing.TB, v *view.View, entity string, seq uint64, at time.Duration, x float64, kind string) view.Row {
	t.Helper()
	r, err := v.Extract(fmt.Appendf(nil, `{"acct":%q,"x":%g,"kind":%q}`, entity, x, kind), T0.Add(at), seq, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lookup(t *testing.T, v *view.View, s online.Store, at time.Duration, entities ...string) ([]float64, []bool) {
	t.Helper()
	out, found := make([]float64, len(entities)*v.Width()), make([]bool, len(entities))
	if err := s.Lookup(context.Background(), v, entities, T0.Add(at), out, found); err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	return out, found
}

func apply(t *testing.T, v *view.View, s online.Store, rows []view.Row, at time.Duration) online.Counts {
	t.Helper()
	c, err := s.Apply(context.Background(), v, rows, T0.Add(at))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return c
}

var nan = math.NaN()

func testApplyLookup(t *testing.T, v *view.View, s online.Store) {
	rows := []view.Row{
		Row(t, v, "a", 1, -90*time.Minute, 5, "k1"),
		Row(t, v, "a", 2, -20*time.Minute, 2, "k2"),
		Row(t, v, "b", 3, -10*time.Minute, 7, "k1"),
		Row(t, v, "a", 4, -5*time.Minute, 1, "k2"),
	}
	if got := apply(t, v, s, rows, 0); got != (online.Counts{Applied: 4}) {
		t.Errorf("counts = %+v", got)
	}
	out, found := lookup(t, v, s, 0, "a", "nobody", "b")
	want := []float64{2, 3, 2, 1, nan, nan, nan, nan, 1, 7, 1, 7}
	if diff := cmp.Diff(want, out, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, false, true}, found); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
}

func testRedelivery(t *testing.T, v *view.View, s online.Store) {
	var rows []view.Row
	for i := range 20 {
		rows = append(rows, Row(t, v, fmt.Sprint("e", i%3), uint64(i+1), -time.Duration(20-i)*time.Minute, float64(i), "k"))
	}
	apply(t, v, s, rows, 0)
	before, _ := s.State(context.Background(), v, "e1")
	again := apply(t, v, s, rows[10:], 0)
	if again.Applied != 0 {
		t.Errorf("redelivery applied %d rows again: %+v", again.Applied, again)
	}
	after, _ := s.State(context.Background(), v, "e1")
	if string(before) != string(after) || before == nil {
		t.Errorf("redelivery changed the state (%d -> %d bytes)", len(before), len(after))
	}
	out, _ := lookup(t, v, s, 0, "e0", "e1", "e2")
	if got := out[0] + out[4] + out[8]; got != 20 {
		t.Errorf("total count %v after redelivery, want 20", got)
	}
}

// testConcurrentWriters: writers racing on the same entities (replicas
// sharing a consumer) lose no event and count none twice.
func testConcurrentWriters(t *testing.T, v *view.View, s online.Store) {
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				seq := uint64(w*perWriter + i + 1)
				r := Row(t, v, fmt.Sprint("hot", i%2), seq, -time.Minute, 1, fmt.Sprint("k", seq%5))
				// Each row is delivered twice, to two writers.
				r2 := Row(t, v, r.Entity, seq, -time.Minute, 1, fmt.Sprint("k", seq%5))
				if _, err := s.Apply(context.Background(), v, []view.Row{r, r2}, T0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Apply: %v", err)
	}
	out, _ := lookup(t, v, s, 0, "hot0", "hot1")
	if got := []float64{out[0], out[4], out[2], out[6]}; !cmp.Equal(got, []float64{100, 100, 5, 5}) {
		t.Errorf("counts, distinct kinds = %v, want [100 100 5 5]", got)
	}
}

func testWindowRollsAndTTL(t *testing.T, v *view.View, s online.Store) {
	apply(t, v, s, []view.Row{Row(t, v, "a", 1, -30*time.Minute, 3, "k")}, 0)
	// Looked up once now (cached), then after the hour window passed: the
	// cache must not serve the stale count.
	if out, _ := lookup(t, v, s, 0, "a"); out[0] != 1 {
		t.Errorf("count now = %v, want 1", out[0])
	}
	out, found := lookup(t, v, s, 45*time.Minute, "a")
	if diff := cmp.Diff([]float64{0, 0, 1, 3}, out); diff != "" || !found[0] {
		t.Errorf("after the window (-want +got):\n%s", diff)
	}
	if _, found := lookup(t, v, s, 49*time.Hour, "a"); found[0] {
		t.Error("entity found after its TTL")
	}
}

// testLateEvents: an event later than its entity's watermark but within
// the allowed lateness (10m) lands in the bucket of its own event time, in
// the 1h window but not... and leaves that window when its own hour has
// passed; one beyond the lateness is counted late and changes nothing.
func testLateEvents(t *testing.T, v *view.View, s online.Store) {
	apply(t, v, s, []view.Row{Row(t, v, "a", 1, -5*time.Minute, 1, "k1")}, 0)
	got := apply(t, v, s, []view.Row{
		Row(t, v, "a", 2, -14*time.Minute, 2, "k2"), // 9m behind the watermark: within the lateness
		Row(t, v, "a", 3, -16*time.Minute, 4, "k3"), // 11m behind: late
	}, 0)
	if want := (online.Counts{Applied: 1, Late: 1}); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	// last_x stays the newest event's value: the late one is older.
	out, _ := lookup(t, v, s, 0, "a")
	if diff := cmp.Diff([]float64{2, 3, 2, 1}, out); diff != "" {
		t.Errorf("now (-want +got):\n%s", diff)
	}
	// 50m later the late event (at -14m) has left the hour; the first
	// (at -5m) has not.
	out, _ = lookup(t, v, s, 50*time.Minute, "a")
	if diff := cmp.Diff([]float64{1, 1, 2, 1}, out); diff != "" {
		t.Errorf("50m later (-want +got):\n%s", diff)
	}
}

// View50 returns a view of 50 features over one "txns" stream keyed by
// "acct" (fields x and kind): counts, sums, means, minima, maxima and
// distinct counts over 10m, 1h, 24h and 7d, a last value and a last-5.
// Benchmarks use it for the 50-feature lookup.
func View50(t testing.TB) *view.View {
	t.Helper()
	var feats []view.FeatureDef
	windows := []time.Duration{10 * time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}
	aggs := []string{view.AggCount, view.AggSum, view.AggMean, view.AggMin, view.AggMax, view.AggDistinct}
	for _, w := range windows {
		for _, a := range aggs {
			field := "x"
			if a == view.AggDistinct {
				field = "kind"
			}
			if a == view.AggCount {
				field = ""
			}
			feats = append(feats, view.FeatureDef{Name: fmt.Sprintf("%s_%s_%d", a, field, int(w.Minutes())), Agg: a, Field: field, Window: view.Duration(w)})
		}
	}
	feats = append(feats, view.FeatureDef{Name: "last_x", Agg: view.AggLast, Field: "x"},
		view.FeatureDef{Name: "recent_x", Agg: view.AggLastN, Field: "x", N: 5, Window: view.Duration(24 * time.Hour)})
	for i := len(feats) + 4; i < 50; i++ {
		feats = append(feats, view.FeatureDef{Name: fmt.Sprint("sum_x_life_", i), Agg: view.AggSum, Field: "x"})
	}
	v, err := view.Compile(view.Def{Name: "acct50", Source: "txns", Entity: "acct", TTL: view.Duration(30 * 24 * time.Hour), Features: feats})
	if err != nil {
		t.Fatal(err)
	}
	if v.Width() != 50 {
		t.Fatalf("View50 has %d features", v.Width())
	}
	return v
}
