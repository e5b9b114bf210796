package mf

import "fmt"

// Recommend returns the k items with the highest scores for training user u
// among the items u did not interact with in training, best first; ties go
// to the lower item index. Fewer than k come back when fewer are unseen.
// It selects with a k-bounded heap (O(items·log k), no full sort) and
// allocates only the result.
func (m *Model) Recommend(u, k int) ([]Scored, error) {
	if err := m.checkUser(u); err != nil {
		return nil, err
	}
	if err := checkK(k); err != nil {
		return nil, err
	}
	var ub float64
	if m.explicit() {
		ub = m.userBias[u]
	}
	seen, _ := m.seen.row(u)
	return m.topK(ub, m.userRow(u), seen, k), nil
}

// RecommendUser is Recommend for a user given as a vector (for example from
// FoldIn), excluding v.Seen.
func (m *Model) RecommendUser(v User, k int) ([]Scored, error) {
	if err := m.checkVector(v); err != nil {
		return nil, err
	}
	if err := checkK(k); err != nil {
		return nil, err
	}
	return m.topK(v.Bias, v.Factors, v.Seen, k), nil
}

func checkK(k int) error {
	if k <= 0 {
		return fmt.Errorf("%w: k is %d, want > 0", ErrInput, k)
	}
	return nil
}

// topK scores every item not in seen (sorted ascending) and keeps the best k.
func (m *Model) topK(ub float64, x []float64, seen []int32, k int) []Scored {
	h := topHeap{items: make([]Scored, 0, min(k, m.numItems))}
	for i := range m.numItems {
		if len(seen) > 0 && seen[0] == int32(i) {
			seen = seen[1:]
			continue
		}
		h.offer(Scored{Item: int32(i), Score: m.score(ub, x, i)}, k)
	}
	return h.sorted()
}

// topHeap keeps the k best Scored values seen so far as a min-heap whose
// root is the worst kept.
type topHeap struct{ items []Scored }

// worse reports whether a ranks below b: lower score, or equal score and a
// higher item index.
func worse(a, b Scored) bool {
	return a.Score < b.Score || (a.Score == b.Score && a.Item > b.Item)
}

// offer adds s if the heap holds fewer than k values or s beats the worst.
func (h *topHeap) offer(s Scored, k int) {
	if len(h.items) < k {
		h.items = append(h.items, s)
		h.up(len(h.items) - 1)
		return
	}
	if worse(s, h.items[0]) || s == h.items[0] {
		return
	}
	h.items[0] = s
	h.down(0)
}

func (h *topHeap) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !worse(h.items[j], h.items[p]) {
			return
		}
		h.items[j], h.items[p] = h.items[p], h.items[j]
		j = p
	}
}

func (h *topHeap) down(j int) {
	n := len(h.items)
	for {
		c := 2*j + 1
		if c >= n {
			return
		}
		if c+1 < n && worse(h.items[c+1], h.items[c]) {
			c++
		}
		if !worse(h.items[c], h.items[j]) {
			return
		}
		h.items[j], h.items[c] = h.items[c], h.items[j]
		j = c
	}
}

// sorted empties the heap into a slice ordered best first.
func (h *topHeap) sorted() []Scored {
	out := h.items
	for n := len(out) - 1; n > 0; n-- {
		out[0], out[n] = out[n], out[0]
		h.items = out[:n]
		h.down(0)
	}
	h.items = nil
	return out
}
