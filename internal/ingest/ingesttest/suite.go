// Package ingesttest is the behaviour suite of ingest.API. Every
// implementation (the in-process Service, the gRPC client) must pass it
// unchanged on every bus: that is the contract test.
package ingesttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// Now is the clock the factory must give the service.
var Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// MaxBatch is the batch limit the factory must configure.
const MaxBatch = 10

// Factory returns a fresh service over the streams of
// internal/ingest/testdata/streams.yaml, with clock Now, batch limit
// MaxBatch and default limits otherwise, and a function that returns the
// messages published so far on a stream (their data, in order).
type Factory func(t *testing.T) (ingest.API, func(stream string, n int) []string)

// Run runs the whole suite.
func Run(t *testing.T, newAPI Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, ingest.API, func(string, int) []string)
	}{
		{"Batch", testBatch},
		{"Dedup", testDedup},
		{"Errors", testErrors},
		{"NoIDStream", testNoID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, published := newAPI(t)
			tt.fn(t, api, published)
		})
	}
}

func txn(id, card string, ts time.Time, amount string) []byte {
	return fmt.Appendf(nil, `{"txn_id":%q,"card_id":%q,"ts":%q,"amount":%s}`, id, card, ts.Format(time.RFC3339Nano), amount)
}

func testBatch(t *testing.T, api ingest.API, published func(string, int) []string) {
	events := [][]byte{
		txn("t1", "c1", Now.Add(-time.Minute), "12.5"),
		[]byte(`{"txn_id":"t2","card_id":"c1","ts":"2026-03-01T11:00:00Z","amount":"12"}`),
		txn("t3", "c2", Now.Add(-48*time.Hour*5), "1"),
		txn("t4", "c2", Now.Add(time.Hour), "1"),
		[]byte(`{"txn_id":"t5","card_id":"c3","ts":1772362800000,"amount":3,"colour":"red"}`),
		[]byte(`{"txn_id":"t6","ts":1772362800000,"amount":3}`),
		[]byte(`[1,2]`),
		[]byte(`{"txn_id":"t8","card_id":"","ts":1772362800000,"amount":3}`),
		[]byte(`{"txn_id":"t9","card_id":"c9","ts":1772362800000,"amount":3,"online":true,"items":2,"merchant":null}`),
		[]byte(`{"txn_id":"t10","card_id":"c9","ts":1772362800000,"amount":3,"items":2.5}`),
	}
	res, err := api.Ingest(context.Background(), "transactions", events)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	want := ingest.Result{Accepted: 2, Rejected: []ingest.Rejection{
		{Index: 1, Field: "amount", Reason: `want a number, got "12"`},
		{Index: 2, Field: "ts", Reason: "event time 2026-02-19T12:00:00Z is more than 168h0m0s in the past"},
		{Index: 3, Field: "ts", Reason: "event time 2026-03-01T13:00:00Z is more than 5m0s in the future"},
		{Index: 4, Field: "colour", Reason: `unknown field (the stream "transactions" does not declare it)`},
		{Index: 5, Field: "card_id", Reason: "required"},
		{Index: 6, Field: "body", Reason: "event is not a JSON object"},
		{Index: 7, Field: "card_id", Reason: "entity key must not be empty"},
		{Index: 9, Field: "items", Reason: "want a integer, got 2.5"},
	}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	got := published("transactions", 2)
	if diff := cmp.Diff([]string{string(events[0]), string(events[8])}, got); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

func testDedup(t *testing.T, api ingest.API, published func(string, int) []string) {
	ctx := context.Background()
	a, b := txn("d1", "c1", Now, "1"), txn("d2", "c1", Now, "2")
	if _, err := api.Ingest(ctx, "transactions", [][]byte{a}); err != nil {
		t.Fatal(err)
	}
	res, err := api.Ingest(ctx, "transactions", [][]byte{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ingest.Result{Accepted: 2, Duplicates: 1, Rejected: []ingest.Rejection{}}, res); diff != "" {
		t.Errorf("repeat (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{string(a), string(b)}, published("transactions", 2)); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

func testErrors(t *testing.T, api ingest.API, _ func(string, int) []string) {
	ctx := context.Background()
	_, err := api.Ingest(ctx, "nope", [][]byte{[]byte(`{}`)})
	if !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("unknown stream: got %v, want not found", err)
	}
	many := make([][]byte, MaxBatch+1)
	for i := range many {
		many[i] = txn(fmt.Sprint(i), "c", Now, "1")
	}
	_, err = api.Ingest(ctx, "transactions", many)
	if !errors.Is(err, problem.ErrTooLarge) {
		t.Errorf("batch over the limit: got %v, want too large", err)
	}
}

func testNoID(t *testing.T, api ingest.API, published func(string, int) []string) {
	ev := []byte(`{"user_id":7,"page":"/","extra":{"x":1}}`)
	res, err := api.Ingest(context.Background(), "clicks", [][]byte{ev, ev})
	if err != nil || res.Accepted != 2 || res.Duplicates != 0 {
		t.Fatalf("Ingest = %+v, %v; want 2 accepted, no duplicates (no id field)", res, err)
	}
	if got := published("clicks", 2); len(got) != 2 {
		t.Errorf("published %d, want 2", len(got))
	}
}
