package features

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/problem"
)

var pitT = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// offlineFixture writes hand-made offline records of card c1: each is
// (seq, event time, arrival time, amount), relative to pitT.
func offlineFixture(t *testing.T, blobs *blob.Store) {
	t.Helper()
	type ev struct {
		seq         uint64
		at, arrived time.Duration
		amount      int
	}
	evs := []ev{
		{1, -30 * time.Minute, -30 * time.Minute, 1}, // on time
		{2, -40 * time.Minute, -10 * time.Minute, 2}, // out of order, within the 10m lateness of the watermark (-30m)
		{3, -45 * time.Minute, -8 * time.Minute, 4},  // too late: older than watermark - lateness, dropped as online
		{4, time.Minute, -5 * time.Minute, 8},        // stamped after T: not in a row at T
		{5, 0, 0, 16},                                // exactly at T: in
		{6, -20 * time.Minute, 2 * time.Minute, 32},  // arrived after T: not in a row at T
		{1, -30 * time.Minute, -30 * time.Minute, 1}, // a redelivered copy in another segment
	}
	for i, e := range evs {
		rec := record{Seq: e.seq, ID: fmt.Sprint("id", e.seq), Time: pitT.Add(e.at).UnixNano(), Arrived: pitT.Add(e.arrived).UnixNano(),
			Data: fmt.Appendf(nil, `{"card_id":"c1","amount":%d}`, e.amount)}
		line, _ := json.Marshal(rec)
		key := fmt.Sprintf("offline/card/%s/%020d-%020d-w%d.ndjson", partition(rec.Time), e.seq, e.seq, i)
		if err := blobs.PutKey(context.Background(), key, append(line, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	// An unrelated view's segment must not be read.
	_ = blobs.PutKey(context.Background(), "offline/other/"+partition(pitT.UnixNano())+"/x.ndjson", []byte("not json\n"))
}

func TestTrainingSetPointInTime(t *testing.T) {
	blobs, err := blob.Open(context.Background(), blob.Config{URL: "mem://"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer blobs.Close()
	offlineFixture(t, blobs)
	cfg := DefaultConfig()
	cfg.ViewsFile = "testdata/views.yaml"
	svc, err := New(cfg, Deps{Blobs: blobs}, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	labels := []Label{
		{Entity: "c1", Time: pitT, Value: 1},
		{Entity: "c1", Time: pitT.Add(10 * time.Minute)},
		{Entity: "c2", Time: pitT},
		{Entity: "c1", Time: pitT.Add(-25 * time.Minute)},
		{Entity: "c1", Time: pitT.Add(-35 * time.Minute)},
	}
	ts, err := svc.TrainingSet(context.Background(), "card", labels)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := svc.View("card")
	col := func(name string) int {
		for i, n := range v.Names() {
			if n == name {
				return i
			}
		}
		t.Fatalf("no feature %s", name)
		return 0
	}
	nan := math.NaN()
	var got [][]float64
	for i := range labels {
		row := ts.Values[i*v.Width() : (i+1)*v.Width()]
		got = append(got, []float64{row[col("txn_count_1h")], row[col("amount_sum_1h")], row[col("last_amount")]})
	}
	want := [][]float64{
		{3, 19, 16},     // seqs 1, 2, 5: not 3 (late), 4 (after T), 6 (arrived after T)
		{4, 27, 8},      // by T+10m seq 4 counts; seq 6 arrived but is now too late
		{nan, nan, nan}, // an entity with no events
		{1, 1, 1},       // only seq 1 had arrived
		{nan, nan, nan}, // nothing had arrived
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("training set (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		labels []Label
		field  string
	}{{nil, "labels"}, {[]Label{{Entity: "", Time: pitT}}, "labels[0].entity"}, {[]Label{{Entity: "c1"}}, "labels[0].time"}} {
		if _, err := svc.TrainingSet(context.Background(), "card", tt.labels); problem.FieldOf(err) != tt.field {
			t.Errorf("TrainingSet(%v) = %v, want a field error on %s", tt.labels, err, tt.field)
		}
	}
	if _, err := svc.TrainingSet(context.Background(), "nope", labels); !errors.Is(err, ErrViewNotFound) {
		t.Errorf("unknown view: %v", err)
	}
}
