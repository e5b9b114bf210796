package metrics

import (
	"fmt"
	"math"
	"sort"
)

// Ranking metrics at a cut-off k, for top-k recommendation with binary
// relevance. Each function takes, per query (user), the ranked list of
// recommended item ids (best first) and the set of relevant item ids, and
// returns the mean of the per-query value over all queries:
//
//   - HitRateAtK: 1 if any relevant item is in the top k, else 0.
//   - RecallAtK: relevant items in the top k, divided by the number of
//     relevant items.
//   - NDCGAtK: DCG@k = Σ_{p<k, hit} 1/log2(p+2) divided by the ideal DCG@k,
//     Σ_{p<min(k,|relevant|)} 1/log2(p+2).
//   - MAPAtK: AP@k = Σ_{p<k, hit} precision@(p+1) divided by
//     min(k, |relevant|), averaged over queries.
//
// A ranked list shorter than k counts the missing positions as misses.
// Every query needs at least one relevant item; ranked and relevant lists may
// not repeat an id. Bad input is an error wrapping ErrInput.

// HitRateAtK returns HR@k averaged over queries.
func HitRateAtK(ranked, relevant [][]int, k int) (float64, error) {
	return meanOverQueries(ranked, relevant, k, func(hits []bool, _ int) float64 {
		for _, h := range hits {
			if h {
				return 1
			}
		}
		return 0
	})
}

// RecallAtK returns recall@k averaged over queries.
func RecallAtK(ranked, relevant [][]int, k int) (float64, error) {
	return meanOverQueries(ranked, relevant, k, func(hits []bool, nrel int) float64 {
		n := 0
		for _, h := range hits {
			if h {
				n++
			}
		}
		return float64(n) / float64(nrel)
	})
}

// NDCGAtK returns NDCG@k with binary gains averaged over queries.
func NDCGAtK(ranked, relevant [][]int, k int) (float64, error) {
	return meanOverQueries(ranked, relevant, k, func(hits []bool, nrel int) float64 {
		var dcg, idcg float64
		for p, h := range hits {
			if h {
				dcg += discount(p)
			}
		}
		for p := range min(k, nrel) {
			idcg += discount(p)
		}
		return dcg / idcg
	})
}

// MAPAtK returns mean average precision at k.
func MAPAtK(ranked, relevant [][]int, k int) (float64, error) {
	return meanOverQueries(ranked, relevant, k, func(hits []bool, nrel int) float64 {
		var sum float64
		n := 0
		for p, h := range hits {
			if h {
				n++
				sum += float64(n) / float64(p+1)
			}
		}
		return sum / float64(min(k, nrel))
	})
}

// discount is the DCG discount of 0-based position p.
func discount(p int) float64 { return 1 / math.Log2(float64(p)+2) }

// meanOverQueries validates the input and averages per(hits, nrel) over
// queries, where hits[p] says whether position p < k holds a relevant item.
func meanOverQueries(ranked, relevant [][]int, k int, per func(hits []bool, nrel int) float64) (float64, error) {
	if err := checkRanking(ranked, relevant, k); err != nil {
		return 0, err
	}
	var sum float64
	sc := scratch{rel: make(map[int]struct{}), ranked: make(map[int]struct{})}
	hits := make([]bool, 0, k)
	for q := range ranked {
		h, err := sc.hitsAtK(ranked[q], relevant[q], k, hits[:0])
		if err != nil {
			return 0, fmt.Errorf("query %d: %w", q, err)
		}
		sum += per(h, len(relevant[q]))
	}
	return sum / float64(len(ranked)), nil
}

func checkRanking(ranked, relevant [][]int, k int) error {
	if k <= 0 {
		return fmt.Errorf("%w: k is %d, want > 0", ErrInput, k)
	}
	if len(ranked) == 0 {
		return fmt.Errorf("%w: no queries", ErrInput)
	}
	if len(ranked) != len(relevant) {
		return fmt.Errorf("%w: %d ranked lists but %d relevant sets", ErrInput, len(ranked), len(relevant))
	}
	return nil
}

// scratch holds the sets reused across queries.
type scratch struct{ rel, ranked map[int]struct{} }

// hitsAtK marks which of the first k ranked ids are relevant, appending to
// hits. It rejects repeated ids in either list.
func (sc scratch) hitsAtK(ranked, relevant []int, k int, hits []bool) ([]bool, error) {
	if len(relevant) == 0 {
		return nil, fmt.Errorf("%w: no relevant items", ErrInput)
	}
	if err := fillSet(sc.rel, relevant, "relevant"); err != nil {
		return nil, err
	}
	if err := fillSet(sc.ranked, ranked, "ranked"); err != nil {
		return nil, err
	}
	for _, id := range ranked[:min(k, len(ranked))] {
		_, ok := sc.rel[id]
		hits = append(hits, ok)
	}
	return hits, nil
}

// fillSet clears set and fills it with ids, rejecting repeats.
func fillSet(set map[int]struct{}, ids []int, what string) error {
	clear(set)
	for _, id := range ids {
		if _, dup := set[id]; dup {
			return fmt.Errorf("%w: %s item %d repeated", ErrInput, what, id)
		}
		set[id] = struct{}{}
	}
	return nil
}

// NDCGScores returns NDCG@k of one query from graded gains and predicted
// scores (one per candidate item), with scikit-learn's treatment of tied
// scores (ndcg_score with ignore_ties=False): tied items share the mean gain
// of their group over the positions the group spans. A query whose ideal DCG
// is zero scores 0, as in scikit-learn. Gains must be finite and ≥ 0; scores
// must not be NaN.
func NDCGScores(gains, scores []float64, k int) (float64, error) {
	if err := checkGraded(gains, scores, k); err != nil {
		return 0, err
	}
	idcg := idealDCG(gains, k)
	if idcg == 0 {
		return 0, nil
	}
	return tiedDCG(gains, scores, k) / idcg, nil
}

func checkGraded(gains, scores []float64, k int) error {
	if k <= 0 {
		return fmt.Errorf("%w: k is %d, want > 0", ErrInput, k)
	}
	if len(gains) == 0 {
		return fmt.Errorf("%w: no items", ErrInput)
	}
	if len(gains) != len(scores) {
		return fmt.Errorf("%w: %d gains but %d scores", ErrInput, len(gains), len(scores))
	}
	for i := range gains {
		if math.IsNaN(gains[i]) || math.IsInf(gains[i], 0) || gains[i] < 0 {
			return fmt.Errorf("%w: gain %d is %v, want finite and >= 0", ErrInput, i, gains[i])
		}
		if math.IsNaN(scores[i]) {
			return fmt.Errorf("%w: score %d is NaN", ErrInput, i)
		}
	}
	return nil
}

func idealDCG(gains []float64, k int) float64 {
	g := append([]float64(nil), gains...)
	sort.Sort(sort.Reverse(sort.Float64Slice(g)))
	var s float64
	for p := range min(k, len(g)) {
		s += g[p] * discount(p)
	}
	return s
}

// tiedDCG is DCG@k over items sorted by descending score, where each group of
// tied scores contributes its mean gain times the discounts it spans.
func tiedDCG(gains, scores []float64, k int) float64 {
	idx := order(scores)
	var dcg float64
	for start := 0; start < len(idx) && start < k; {
		end := start + 1
		for end < len(idx) && scores[idx[end]] == scores[idx[start]] {
			end++
		}
		var g, d float64
		for _, j := range idx[start:end] {
			g += gains[j]
		}
		for p := start; p < min(end, k); p++ {
			d += discount(p)
		}
		dcg += g / float64(end-start) * d
		start = end
	}
	return dcg
}
