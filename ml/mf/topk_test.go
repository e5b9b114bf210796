package mf

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tinyModel is an implicit model with one factor whose item scores for user
// 0 are the item factors themselves (user factor 1).
func tinyModel(itemScores []float64, seen []int32) *Model {
	m := &Model{kind: KindALS, numUsers: 1, numItems: len(itemScores), factors: 1,
		userF: []float64{1}, itemF: itemScores}
	m.seen = csr{start: []int32{0, int32(len(seen))}, idx: seen}
	return m
}

func TestRecommendTopK(t *testing.T) {
	scores := []float64{0.5, 0.9, 0.1, 0.9, 0.7, 0.3}
	tests := []struct {
		name string
		seen []int32
		k    int
		want []Scored
	}{
		{"top 3, ties to lower index", nil, 3, []Scored{{1, 0.9}, {3, 0.9}, {4, 0.7}}},
		{"excludes seen", []int32{1, 4}, 3, []Scored{{3, 0.9}, {0, 0.5}, {5, 0.3}}},
		{"k above unseen count", []int32{0, 1, 2, 3}, 10, []Scored{{4, 0.7}, {5, 0.3}}},
		{"all seen", []int32{0, 1, 2, 3, 4, 5}, 2, []Scored{}},
		{"k = 1", nil, 1, []Scored{{1, 0.9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tinyModel(scores, tt.seen)
			got, err := m.Recommend(0, tt.k)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("got %v, want %v (-want +got):\n%s", got, tt.want, diff)
			}
		})
	}
}

// The heap agrees with a full sort on random scores with many ties.
func TestRecommendMatchesSort(t *testing.T) {
	rng := newRNG(5)
	scores := make([]float64, 500)
	for i := range scores {
		scores[i] = float64(rng.IntN(50))
	}
	m := tinyModel(scores, []int32{3, 17, 250})
	var all []Scored
	for i, s := range scores {
		if i != 3 && i != 17 && i != 250 {
			all = append(all, Scored{int32(i), s})
		}
	}
	slices.SortFunc(all, func(a, b Scored) int {
		if worse(a, b) {
			return 1
		}
		return -1
	})
	for _, k := range []int{1, 7, 100, 497, 600} {
		got, err := m.Recommend(0, k)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[:min(k, len(all))], got); diff != "" {
			t.Errorf("k=%d: heap differs from sort (-sort +heap):\n%s", k, diff)
		}
	}
}

func TestRecommendBadInput(t *testing.T) {
	m := tinyModel([]float64{1, 2}, nil)
	tests := []struct {
		name    string
		user, k int
		want    error
	}{
		{"k zero", 0, 0, ErrInput},
		{"k negative", 0, -1, ErrInput},
		{"unknown user", 1, 3, ErrUnknown},
		{"negative user", -1, 3, ErrUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := m.Recommend(tt.user, tt.k); !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
	bad := []User{
		{Factors: []float64{1, 2}},
		{Factors: []float64{1}, Seen: []int32{1, 0}},
		{Factors: []float64{1}, Seen: []int32{5}},
	}
	for j, v := range bad {
		if _, err := m.RecommendUser(v, 1); err == nil {
			t.Errorf("bad user %d: got nil error, want one", j)
		}
	}
}

// BenchmarkRecommend ranks 3,700 items with 50 factors for one user.
func BenchmarkRecommend(b *testing.B) {
	rng := newRNG(3)
	const ni, k = 3700, 50
	m := &Model{kind: KindALS, numUsers: 1, numItems: ni, factors: k,
		userF: make([]float64, k), itemF: make([]float64, ni*k)}
	initNormal(rng, m.userF, 1)
	initNormal(rng, m.itemF, 1)
	m.seen = csr{start: []int32{0, 3}, idx: []int32{1, 50, 900}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Recommend(0, 10); err != nil {
			b.Fatal(err)
		}
	}
}
