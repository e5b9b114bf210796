package mf

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Folding in a training user's own ratings gives predictions close to the
// trained user's, and the fold-in user's items are excluded.
func TestFoldInExplicit(t *testing.T) {
	train, _ := lowRank(30, 20)
	m, err := TrainSGD(train, SGDConfig{Factors: 4, Epochs: 300, LR: 0.02, Reg: 0.01, InitStd: 0.1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	const u = 5
	var items []int32
	var values []float64
	for j := range train.Values {
		if train.Users[j] == u {
			items, values = append(items, train.Items[j]), append(values, train.Values[j])
		}
	}
	v, err := m.FoldIn(items, values)
	if err != nil {
		t.Fatal(err)
	}
	for j, i := range items {
		got, _ := m.ScoreUser(v, int(i))
		if math.Abs(got-values[j]) > 0.15 {
			t.Errorf("item %d: got folded-in prediction %.3f, want %.3f ± 0.15", i, got, values[j])
		}
	}
	top, err := m.RecommendUser(v, 20)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(top), 20-len(items); got != want {
		t.Errorf("got %d recommendations, want %d (all unseen items)", got, want)
	}
}

// A new user who consumed part of one block gets that block's remaining
// items first.
func TestFoldInImplicit(t *testing.T) {
	data, _ := blocks()
	m, err := TrainALS(data, ALSConfig{Factors: 4, Iterations: 10, Reg: 0.1, Alpha: 5, CGSteps: 4, InitStd: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.FoldIn([]int32{7, 5, 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int32{5, 7}, v.Seen); diff != "" {
		t.Errorf("seen (-want +got):\n%s", diff)
	}
	top, err := m.RecommendUser(v, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range top {
		if s.Item < 5 {
			t.Errorf("got %v, want only items 6, 8, 9 of the second block", top)
		}
	}
}

func TestFoldInBadInput(t *testing.T) {
	train, _ := lowRank(4, 4)
	m, err := TrainSGD(train, SGDConfig{Factors: 2, Epochs: 1, LR: 0.01, InitStd: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		items  []int32
		values []float64
		want   error
	}{
		{"no items", nil, nil, ErrInput},
		{"explicit needs values", []int32{1}, nil, ErrInput},
		{"length mismatch", []int32{1, 2}, []float64{3}, ErrInput},
		{"NaN value", []int32{1}, []float64{math.NaN()}, ErrInput},
		{"unknown item", []int32{9}, []float64{3}, ErrUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := m.FoldIn(tt.items, tt.values); !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

// BenchmarkFoldInImplicit folds a user in from 32 items of an implicit
// model of ML-100K's shape (1,682 items, 32 factors) and ranks the top 10,
// as a recommender serves one request.
func BenchmarkFoldInImplicit(b *testing.B) {
	rng := newRNG(4)
	data := Ratings{NumUsers: 943, NumItems: 1682}
	for range 20000 {
		data.Users = append(data.Users, int32(rng.IntN(943)))
		data.Items = append(data.Items, int32(rng.IntN(1682)))
		data.Values = append(data.Values, 1)
	}
	cfg := DefaultALSConfig()
	cfg.Iterations = 1
	m, err := TrainALS(data, cfg)
	if err != nil {
		b.Fatal(err)
	}
	items := make([]int32, 32)
	for j := range items {
		items[j] = int32(rng.IntN(1682))
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := m.FoldIn(items, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.RecommendUser(v, 10); err != nil {
			b.Fatal(err)
		}
	}
}
