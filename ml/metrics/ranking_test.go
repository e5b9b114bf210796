package metrics

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// d is the DCG discount of 1-based rank r, for writing expected values by hand.
func d(r int) float64 { return 1 / math.Log2(float64(r)+1) }

type rankingFunc func(ranked, relevant [][]int, k int) (float64, error)

// rankingValues holds HR, recall, NDCG and MAP, in that order.
type rankingValues [4]float64

func allRanking(ranked, relevant [][]int, k int) (rankingValues, error) {
	var v rankingValues
	for i, f := range []rankingFunc{HitRateAtK, RecallAtK, NDCGAtK, MAPAtK} {
		got, err := f(ranked, relevant, k)
		if err != nil {
			return v, err
		}
		v[i] = got
	}
	return v, nil
}

// Expected values are worked by hand from the definitions in ranking.go.
func TestRankingAtK(t *testing.T) {
	// Query A: hits at ranks 2 and 5, three relevant items (one never ranked).
	a, aRel := []int{5, 3, 9, 1, 7}, []int{3, 7, 8}
	// Query B: a short list, hit at rank 2, one relevant item.
	b, bRel := []int{2, 4}, []int{4}
	// Query C: no hit.
	c, cRel := []int{1, 2, 3}, []int{9}
	tests := []struct {
		name          string
		ranked, relev [][]int
		k             int
		want          rankingValues
	}{
		{"A k=1", [][]int{a}, [][]int{aRel}, 1, rankingValues{0, 0, 0, 0}},
		{"A k=3", [][]int{a}, [][]int{aRel}, 3,
			rankingValues{1, 1.0 / 3, d(2) / (d(1) + d(2) + d(3)), (1.0 / 2) / 3}},
		{"A k=5", [][]int{a}, [][]int{aRel}, 5,
			rankingValues{1, 2.0 / 3, (d(2) + d(5)) / (d(1) + d(2) + d(3)), (1.0/2 + 2.0/5) / 3}},
		{"A k=10 beyond list", [][]int{a}, [][]int{aRel}, 10,
			rankingValues{1, 2.0 / 3, (d(2) + d(5)) / (d(1) + d(2) + d(3)), (1.0/2 + 2.0/5) / 3}},
		{"B short list", [][]int{b}, [][]int{bRel}, 3, rankingValues{1, 1, d(2), 0.5}},
		{"C miss", [][]int{c}, [][]int{cRel}, 3, rankingValues{0, 0, 0, 0}},
		{"mean of A B C", [][]int{a, b, c}, [][]int{aRel, bRel, cRel}, 3, rankingValues{
			2.0 / 3,
			(1.0/3 + 1) / 3,
			(d(2)/(d(1)+d(2)+d(3)) + d(2)) / 3,
			(1.0/6 + 0.5) / 3,
		}},
		{"perfect", [][]int{{4, 8, 2}}, [][]int{{8, 4}}, 2, rankingValues{1, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := allRanking(tt.ranked, tt.relev, tt.k)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("got [HR recall NDCG MAP] %v, want %v (-want +got):\n%s", got, tt.want, diff)
			}
		})
	}
}

func TestRankingBadInput(t *testing.T) {
	tests := []struct {
		name          string
		ranked, relev [][]int
		k             int
	}{
		{"k zero", [][]int{{1}}, [][]int{{1}}, 0},
		{"k negative", [][]int{{1}}, [][]int{{1}}, -3},
		{"no queries", nil, nil, 5},
		{"length mismatch", [][]int{{1}, {2}}, [][]int{{1}}, 5},
		{"no relevant", [][]int{{1}}, [][]int{{}}, 5},
		{"repeated ranked", [][]int{{1, 2, 1}}, [][]int{{1}}, 5},
		{"repeated relevant", [][]int{{1, 2}}, [][]int{{3, 3}}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, f := range []rankingFunc{HitRateAtK, RecallAtK, NDCGAtK, MAPAtK} {
				if _, err := f(tt.ranked, tt.relev, tt.k); !errors.Is(err, ErrInput) {
					t.Errorf("metric %d: got error %v, want ErrInput", i, err)
				}
			}
		})
	}
}

// Expected values are scikit-learn 1.2.1's ndcg_score(y, s, k=k) on the same
// single-row inputs (ignore_ties=False), and agree with hand computation:
// e.g. "graded with ties" k=1 puts items 0 and 5 (scores 0.9, gains 3 and 2)
// in one group spanning rank 1, so DCG = (3+2)/2 · 1 and IDCG = 3 → 5/6.
func TestNDCGScoresMatchesSklearn(t *testing.T) {
	graded := []float64{3, 2, 0, 1, 0, 2}
	gradedScores := []float64{0.9, 0.5, 0.5, 0.1, 0.5, 0.9}
	binary := []float64{0, 1, 0, 0, 1}
	binaryScores := []float64{0.3, 0.3, 0.3, 0.8, 0.1}
	allTied := []float64{1, 0, 1, 0}
	allTiedScores := []float64{0.2, 0.2, 0.2, 0.2}
	tests := []struct {
		name          string
		gains, scores []float64
		k             int
		want          float64
	}{
		{"graded with ties k=1", graded, gradedScores, 1, 0.8333333333333334},
		{"graded with ties k=2", graded, gradedScores, 2, 0.956700796235777},
		{"graded with ties k=3", graded, gradedScores, 3, 0.8382317527244043},
		{"graded with ties k=4", graded, gradedScores, 4, 0.8252517628038479},
		{"graded with ties k=6", graded, gradedScores, 6, 0.9331314585250874},
		{"binary k=1", binary, binaryScores, 1, 0},
		{"binary k=2", binary, binaryScores, 2, 0.1289509357448472},
		{"binary k=3", binary, binaryScores, 3, 0.2311421345390903},
		{"binary k=5", binary, binaryScores, 5, 0.5563625548325835},
		{"all tied k=1", allTied, allTiedScores, 1, 0.5},
		{"all tied k=2", allTied, allTiedScores, 2, 0.5},
		{"all tied k=4", allTied, allTiedScores, 4, 0.7853208594776601},
		{"no gain", []float64{0, 0}, []float64{1, 2}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NDCGScores(tt.gains, tt.scores, tt.k)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNDCGScoresBadInput(t *testing.T) {
	tests := []struct {
		name          string
		gains, scores []float64
		k             int
	}{
		{"k zero", []float64{1}, []float64{1}, 0},
		{"empty", nil, nil, 3},
		{"mismatch", []float64{1, 0}, []float64{1}, 3},
		{"NaN score", []float64{1}, []float64{math.NaN()}, 3},
		{"NaN gain", []float64{math.NaN()}, []float64{1}, 3},
		{"negative gain", []float64{-1}, []float64{1}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NDCGScores(tt.gains, tt.scores, tt.k); !errors.Is(err, ErrInput) {
				t.Errorf("got error %v, want ErrInput", err)
			}
		})
	}
}
