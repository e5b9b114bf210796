package mf

import (
	"fmt"
	"math"
)

// Popularity recommends the items with the most training interactions that a
// user has not seen: the floor every personalised recommender must beat. It
// is immutable and safe for concurrent use.
type Popularity struct {
	counts []float64
	seen   csr
}

// TrainPopularity counts each item's distinct users in data.
func TrainPopularity(data Ratings) (*Popularity, error) {
	if err := data.Validate(); err != nil {
		return nil, fmt.Errorf("train popularity: %w", err)
	}
	p := &Popularity{counts: make([]float64, data.NumItems), seen: seenMatrix(&data)}
	for _, i := range p.seen.idx {
		p.counts[i]++
	}
	return p, nil
}

// Recommend returns the k most popular items user u has not seen, best
// first (ties to the lower index).
func (p *Popularity) Recommend(u, k int) ([]Scored, error) {
	if u < 0 || u >= p.seen.nrows() {
		return nil, fmt.Errorf("%w: user %d, model has 0..%d", ErrUnknown, u, p.seen.nrows()-1)
	}
	if err := checkK(k); err != nil {
		return nil, err
	}
	seen, _ := p.seen.row(u)
	return topFromScores(p.counts, seen, k), nil
}

// MaxKNNItems bounds ItemKNN's item count: it keeps a dense item × item
// similarity matrix (4 bytes per pair).
const MaxKNNItems = 10000

// ItemKNN is item-based collaborative filtering on implicit feedback: the
// similarity of items a and b is the cosine of their binary user vectors,
// |U_a ∩ U_b| / √(|U_a|·|U_b|), and an unseen item scores the sum of its
// similarities to the items the user has seen. It is immutable and safe for
// concurrent use.
type ItemKNN struct {
	numItems int
	sim      []float32 // numItems × numItems, zero diagonal
	seen     csr
}

// TrainItemKNN computes all item–item cosine similarities of data's
// interaction pattern (values ignored). It needs at most MaxKNNItems items
// and O(Σ_u |I_u|²) time.
func TrainItemKNN(data Ratings) (*ItemKNN, error) {
	if err := data.Validate(); err != nil {
		return nil, fmt.Errorf("train item-knn: %w", err)
	}
	if data.NumItems > MaxKNNItems {
		return nil, fmt.Errorf("train item-knn: %w: %d items, limit %d", ErrInput, data.NumItems, MaxKNNItems)
	}
	ni := data.NumItems
	m := &ItemKNN{numItems: ni, sim: make([]float32, ni*ni), seen: seenMatrix(&data)}
	norm := make([]float64, ni)
	for u := range m.seen.nrows() {
		items, _ := m.seen.row(u)
		for _, a := range items {
			norm[a]++
			row := m.sim[int(a)*ni : (int(a)+1)*ni]
			for _, b := range items {
				row[b]++
			}
		}
	}
	for a := range ni {
		for b := range ni {
			if c := m.sim[a*ni+b]; c != 0 && a != b {
				m.sim[a*ni+b] = float32(float64(c) / math.Sqrt(norm[a]*norm[b]))
			} else {
				m.sim[a*ni+b] = 0
			}
		}
	}
	return m, nil
}

// Recommend returns the k unseen items with the largest summed similarity
// to user u's items, best first (ties to the lower index).
func (m *ItemKNN) Recommend(u, k int) ([]Scored, error) {
	if u < 0 || u >= m.seen.nrows() {
		return nil, fmt.Errorf("%w: user %d, model has 0..%d", ErrUnknown, u, m.seen.nrows()-1)
	}
	if err := checkK(k); err != nil {
		return nil, err
	}
	seen, _ := m.seen.row(u)
	scores := make([]float64, m.numItems)
	for _, j := range seen {
		for i, s := range m.sim[int(j)*m.numItems : (int(j)+1)*m.numItems] {
			scores[i] += float64(s)
		}
	}
	return topFromScores(scores, seen, k), nil
}

// topFromScores returns the best k items by scores, skipping seen (sorted).
func topFromScores(scores []float64, seen []int32, k int) []Scored {
	h := topHeap{items: make([]Scored, 0, min(k, len(scores)))}
	for i, s := range scores {
		if len(seen) > 0 && seen[0] == int32(i) {
			seen = seen[1:]
			continue
		}
		h.offer(Scored{Item: int32(i), Score: s}, k)
	}
	return h.sorted()
}
