package trainer

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/ml/mf"
)

// blockVisits is a tiny interaction set whose top items are known: users
// a0..a5 consume items 1, 2 and 3 (a0 only 1 and 2), users b0..b5 items
// 11, 12 and 13, and a1 comes back for item 1: item 1 is the most
// consumed (7 times), then 2, 11, 12 and 13 (6 times each), then 3.
func blockVisits() []visit {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []visit
	for u := range 6 {
		a := []int64{1, 2, 3}
		if u == 0 {
			a = []int64{1, 2}
		}
		out = append(out, visit{user: "a" + string(rune('0'+u)), at: t0.Add(time.Duration(u) * time.Minute), items: a})
		out = append(out, visit{user: "b" + string(rune('0'+u)), at: t0.Add(time.Duration(u)*time.Minute + time.Second),
			items: []int64{11, 12, 13}})
	}
	out = append(out, visit{user: "a1", at: t0.Add(time.Hour), items: []int64{1}})
	return out
}

func trainBlocks(t *testing.T) recommender {
	t.Helper()
	data, cat := interactionMatrix(blockVisits())
	p := newParams(map[string]string{"factors": "4", "iterations": "20", "reg": "0.05", "alpha": "10"})
	fit, err := alsRanker(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := fit(data)
	if err != nil {
		t.Fatal(err)
	}
	return recommender{m: m, cat: cat}
}

func TestInteractionMatrix(t *testing.T) {
	data, cat := interactionMatrix(blockVisits())
	if data.NumUsers != 12 || data.NumItems != 6 || data.Len() != 36 {
		t.Errorf("matrix %d users × %d items, %d interactions; want 12 × 6, 36", data.NumUsers, data.NumItems, data.Len())
	}
	// Most consumed first, ties by id.
	if diff := cmp.Diff([]int64{1, 2, 11, 12, 13, 3}, cat.ids); diff != "" {
		t.Errorf("item space (-want +got):\n%s", diff)
	}
}

func TestRecommendKnownTopK(t *testing.T) {
	r := trainBlocks(t)
	tests := []struct {
		name   string
		recent []int64
		k      int
		want   []int64
	}{
		{"the block's unseen item first", []int64{2, 1}, 1, []int64{3}},
		{"other block", []int64{13, 11}, 1, []int64{12}},
		{"seen items never come back", []int64{1, 2, 3}, 3, nil},
		// A user the model never saw, with items it does not know either
		// (new ids): scores are all zero, the most consumed come first.
		{"unknown items", []int64{999, 1000}, 2, []int64{1, 2}},
		{"no items", nil, 3, []int64{1, 2, 11}},
	}
	for _, tt := range tests {
		got, err := r.recommend(tt.recent, tt.k)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.want == nil {
			for _, id := range got {
				if id == 1 || id == 2 || id == 3 {
					t.Errorf("%s: got %v, recommends a recent item", tt.name, got)
				}
			}
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: recommend(%v, %d) (-want +got):\n%s", tt.name, tt.recent, tt.k, diff)
		}
	}
}

func TestRankingQuality(t *testing.T) {
	r := trainBlocks(t)
	qs := []query{
		{recent: []int64{1, 2}, items: []int64{3}},        // hit at rank 1
		{recent: []int64{11, 12}, items: []int64{13, 13}}, // hit at rank 1, repeats count once
		{recent: []int64{1, 2}, items: []int64{777}},      // an item the model does not know: a miss
	}
	got, err := rankingQuality(r, qs)
	if err != nil {
		t.Fatal(err)
	}
	if got[MetricHRAt10] != 2.0/3 || math.Abs(got[MetricNDCGAt10]-2.0/3) > 1e-12 {
		t.Errorf("quality = %v, want hr_at_10 and ndcg_at_10 2/3", got)
	}
}

func TestRecommenderBadInput(t *testing.T) {
	r := trainBlocks(t)
	if _, err := r.recommend([]int64{1}, 0); !errors.Is(err, mf.ErrInput) {
		t.Errorf("k = 0: got %v, want mf.ErrInput", err)
	}
	if _, err := r.recommend([]int64{1}, -3); !errors.Is(err, mf.ErrInput) {
		t.Errorf("k = -3: got %v, want mf.ErrInput", err)
	}
	data, _ := interactionMatrix(nil)
	fit, err := alsRanker(newParams(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fit(data); !errors.Is(err, mf.ErrInput) {
		t.Errorf("no interactions: got %v, want mf.ErrInput", err)
	}
	for _, params := range []map[string]string{{"factors": "0"}, {"iterations": "x"}, {"depth": "3"}, {"seed": "-1"}} {
		if _, err := alsRanker(newParams(params)); !errors.Is(err, problem.ErrInvalid) {
			t.Errorf("params %v: got %v, want problem.ErrInvalid", params, err)
		}
	}
	if _, err := toVisits([]LabelRow{{Entity: "u", Items: []string{"x"}}}); !errors.Is(err, problem.ErrUnprocessable) {
		t.Errorf("a non-integer item: got %v, want problem.ErrUnprocessable", err)
	}
}

func TestSplitVisits(t *testing.T) {
	vs := blockVisits()
	train, holdout, err := splitVisits(vs, wire.TrainData{Split: "time", Holdout: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 10 || len(holdout) != 3 || holdout[2].at != vs[12].at {
		t.Errorf("split %d + %d, want the last 3 visits held out", len(train), len(holdout))
	}
	for _, d := range []wire.TrainData{{Split: "random", Holdout: 0.2}, {Split: "time", Holdout: 0.01}, {Split: "time", Holdout: 0.99}} {
		if _, _, err := splitVisits(vs, d); err == nil {
			t.Errorf("split %+v of %d visits: got nil error", d, len(vs))
		}
	}
}

func TestLoadRecommenderRoundTrip(t *testing.T) {
	r := trainBlocks(t)
	var buf bytes.Buffer
	h := recommenderHeader([]string{"recent_items_1", "recent_items_2"}, r.cat)
	if err := r.m.Save(&buf, h); err != nil {
		t.Fatal(err)
	}
	got, err := loadRecommender(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.cat.ids, got.cat.ids); diff != "" {
		t.Errorf("item space after load (-want +got):\n%s", diff)
	}
	h.Schema = h.Schema[:2]
	buf.Reset()
	if err := r.m.Save(&buf, h); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRecommender(buf.Bytes()); err == nil {
		t.Error("an artifact without its item space loaded")
	}
}
