// Package featurestest is the behaviour suite of features.API. Every
// implementation (the in-process Service, the gRPC client) must pass it
// unchanged, on every bus and online store: that is the contract test.
package featurestest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/plinthai/plinth/internal/features"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// Factory returns a fresh, running service over the views of
// internal/features/testdata/views.yaml, with the default lookup limit
// (1000 entities) and a short offline flush interval, and a function that
// ingests transactions (JSON objects of the "transactions" stream of
// internal/ingest/testdata/streams.yaml) through the bus.
type Factory func(t *testing.T) (features.API, func(events ...string))

// Run runs the whole suite.
func Run(t *testing.T, newAPI Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, features.API, func(...string))
	}{
		{"Lookup", testLookup},
		{"LookupErrors", testLookupErrors},
		{"TrainingSet", testTrainingSet},
		{"TrainingSetErrors", testTrainingSetErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, send := newAPI(t)
			tt.fn(t, api, send)
		})
	}
}

func txn(id, card string, ago time.Duration, amount float64) string {
	return fmt.Sprintf(`{"txn_id":%q,"card_id":%q,"ts":%q,"amount":%g,"merchant":"m-%s","country":"FR"}`,
		id, card, time.Now().Add(-ago).UTC().Format(time.RFC3339Nano), amount, id)
}

// feed sends three transactions of card a and one of card b, and waits
// until the lookup sees them all.
func feed(t *testing.T, api features.API, send func(...string)) {
	t.Helper()
	send(txn("t1", "a", 3*time.Minute, 1), txn("t2", "a", 2*time.Minute, 2), txn("t3", "b", 2*time.Minute, 8), txn("t4", "a", time.Minute, 4))
	deadline := time.Now().Add(15 * time.Second)
	for {
		fv, err := api.Lookup(context.Background(), "card", []string{"a", "b"})
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if c := col(t, fv.Names, "txn_count_1h"); fv.Values[c] == 3 && fv.Values[len(fv.Names)+c] == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events not visible after 15 s: %v", fv.Values)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

func col(t *testing.T, names []string, name string) int {
	t.Helper()
	i := slices.Index(names, name)
	if i < 0 {
		t.Fatalf("no feature %q in %v", name, names)
	}
	return i
}

var nan = math.NaN()

func testLookup(t *testing.T, api features.API, send func(...string)) {
	feed(t, api, send)
	fv, err := api.Lookup(context.Background(), "card", []string{"a", "nobody", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if fv.View != "card" || len(fv.Values) != 3*len(fv.Names) || !cmp.Equal(fv.Entities, []string{"a", "nobody", "b"}) {
		t.Fatalf("answer shape: view %q, %d names, %d values, entities %v", fv.View, len(fv.Names), len(fv.Values), fv.Entities)
	}
	if diff := cmp.Diff([]bool{true, false, true}, fv.Found); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
	w := len(fv.Names)
	pick := func(i int, names ...string) []float64 {
		var out []float64
		for _, n := range names {
			out = append(out, fv.Values[i*w+col(t, fv.Names, n)])
		}
		return out
	}
	names := []string{"txn_count_10m", "amount_sum_1h", "amount_max_7d", "merchants_24h", "last_amount"}
	got := [][]float64{pick(0, names...), pick(1, names...), pick(2, names...)}
	want := [][]float64{{3, 7, 4, 3, 4}, {nan, nan, nan, nan, nan}, {1, 8, 8, 1, 8}}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("features %v of a, nobody, b (-want +got):\n%s", names, diff)
	}
}

func testLookupErrors(t *testing.T, api features.API, _ func(...string)) {
	ctx := context.Background()
	if _, err := api.Lookup(ctx, "nope", []string{"a"}); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("unknown view: got %v, want not found", err)
	}
	if _, err := api.Lookup(ctx, "card", nil); problem.FieldOf(err) != "entities" {
		t.Errorf("no entities: got %v, want a field error on entities", err)
	}
	many := strings.Split(strings.Repeat("x,", 1000)+"x", ",")
	if _, err := api.Lookup(ctx, "card", many); !errors.Is(err, problem.ErrTooLarge) || problem.FieldOf(err) != "entities" {
		t.Errorf("1001 entities: got %v, want too large on entities", err)
	}
}

// testTrainingSet: a label after the events sees them all; a label before
// them sees nothing, though the offline log holds them now.
func testTrainingSet(t *testing.T, api features.API, send func(...string)) {
	start := time.Now().Add(-time.Hour)
	feed(t, api, send)
	labels := []features.Label{{Entity: "a", Time: time.Now().Add(time.Second), Value: 1}, {Entity: "a", Time: start}, {Entity: "b", Time: time.Now().Add(time.Second)}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		ts, err := api.TrainingSet(context.Background(), "card", labels)
		if err != nil {
			t.Fatalf("TrainingSet: %v", err)
		}
		c, w := col(t, ts.Names, "txn_count_1h"), len(ts.Names)
		got := []float64{ts.Values[c], ts.Values[w+c], ts.Values[2*w+c]}
		if cmp.Equal(got, []float64{3, nan, 1}, cmpopts.EquateNaNs()) {
			if ts.View != "card" || len(ts.Labels) != 3 || ts.Labels[0].Value != 1 || !ts.Labels[1].Time.Equal(start) {
				t.Errorf("answer: view %q, labels %+v", ts.View, ts.Labels)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("1h counts %v, want [3 NaN 1] (the offline log written)", got)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}

func testTrainingSetErrors(t *testing.T, api features.API, _ func(...string)) {
	ctx := context.Background()
	if _, err := api.TrainingSet(ctx, "nope", []features.Label{{Entity: "a", Time: time.Now()}}); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("unknown view: got %v, want not found", err)
	}
	for _, tt := range []struct {
		labels []features.Label
		field  string
	}{{nil, "labels"}, {[]features.Label{{Entity: "", Time: time.Now()}}, "labels[0].entity"}, {[]features.Label{{Entity: "a"}}, "labels[0].time"}} {
		if _, err := api.TrainingSet(ctx, "card", tt.labels); problem.FieldOf(err) != tt.field {
			t.Errorf("TrainingSet(%v) = %v, want a field error on %s", tt.labels, err, tt.field)
		}
	}
}
