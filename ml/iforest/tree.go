package iforest

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/plinthai/plinth/ml/frame"
)

// builder grows one tree on a column-major copy of its sub-sample.
type builder struct {
	rng      *rand.Rand
	cols     [][]float32 // d columns of psi values
	idx      []int       // row positions into cols, partitioned in place
	featPerm []int       // scratch for drawing features without replacement
	maxDepth int
	nodes    []node
}

// growTree draws psi rows of x without replacement and isolates them.
func growTree(x *frame.Frame, psi int, seed, tree uint64) []node {
	rng := rand.New(rand.NewPCG(seed, tree*0x9e3779b97f4a7c15+1))
	rows := sampleRows(rng, x.NumRows(), psi)
	b := &builder{rng: rng, cols: make([][]float32, x.NumCols()), idx: make([]int, psi), featPerm: make([]int, x.NumCols())}
	flat := make([]float32, psi*x.NumCols())
	for j, c := range x.Cols {
		b.cols[j] = flat[j*psi : (j+1)*psi]
		for k, i := range rows {
			b.cols[j][k] = c[i]
		}
	}
	for k := range b.idx {
		b.idx[k] = k
	}
	b.maxDepth = int(math.Ceil(math.Log2(float64(max(psi, 2)))))
	b.nodes = make([]node, 1, 2*psi)
	b.grow(0, b.idx, 0)
	return b.nodes
}

// sampleRows returns k distinct row indices in [0, n) in increasing order
// (Floyd's algorithm, O(k) memory).
func sampleRows(rng *rand.Rand, n, k int) []int {
	if k >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	seen := make(map[int]struct{}, k)
	out := make([]int, 0, k)
	for j := n - k; j < n; j++ {
		t := rng.IntN(j + 1)
		if _, ok := seen[t]; ok {
			t = j
		}
		seen[t] = struct{}{}
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// grow fills node at with a split of rows, or a leaf.
func (b *builder) grow(at int, rows []int, depth int) {
	if depth >= b.maxDepth || len(rows) <= 1 {
		b.leaf(at, len(rows), depth)
		return
	}
	feat, lo, hi, ok := b.pickFeature(rows)
	if !ok {
		b.leaf(at, len(rows), depth)
		return
	}
	thr := lo + float32(b.rng.Float64())*(hi-lo)
	if !(thr > lo) || thr > hi {
		thr = lo + (hi-lo)/2
		if !(thr > lo) {
			thr = hi
		}
	}
	nLeft, nRight := b.partition(rows, feat, thr)
	nanLeft := nLeft >= nRight
	// Rows are ordered [left | right | NaN]; NaN rows join the larger side.
	left, right := rows[:nLeft], rows[nLeft:]
	if nanLeft {
		b.moveNaNFront(rows[nLeft:], nRight)
		left, right = rows[:len(rows)-nRight], rows[len(rows)-nRight:]
	}
	li := len(b.nodes)
	b.nodes = append(b.nodes, node{}, node{})
	b.nodes[at] = node{feature: int32(feat), value: thr, left: int32(li), nanLeft: nanLeft}
	b.grow(li, left, depth+1)
	b.grow(li+1, right, depth+1)
}

func (b *builder) leaf(at, size, depth int) {
	b.nodes[at] = node{feature: -1, value: float32(float64(depth) + averagePath(size))}
}

// pickFeature draws features at random without replacement until one is
// not constant on rows (NaN ignored), returning its range.
func (b *builder) pickFeature(rows []int) (feat int, lo, hi float32, ok bool) {
	perm := b.featPerm
	for j := range perm {
		perm[j] = j
	}
	for left := len(perm); left > 0; left-- {
		k := b.rng.IntN(left)
		feat = perm[k]
		perm[k] = perm[left-1]
		lo, hi = b.span(b.cols[feat], rows)
		if hi > lo {
			return feat, lo, hi, true
		}
	}
	return 0, 0, 0, false
}

// span returns the minimum and maximum of the non-NaN values of col at rows.
func (b *builder) span(col []float32, rows []int) (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, r := range rows {
		v := col[r]
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// partition orders rows as [x < thr | x ≥ thr | NaN] on feat and returns
// the sizes of the first two groups.
func (b *builder) partition(rows []int, feat int, thr float32) (nLeft, nRight int) {
	col := b.cols[feat]
	// First pass: move NaN to the end.
	end := len(rows)
	for i := 0; i < end; {
		if v := col[rows[i]]; v != v {
			end--
			rows[i], rows[end] = rows[end], rows[i]
			continue
		}
		i++
	}
	for i := 0; i < end; i++ {
		if col[rows[i]] < thr {
			rows[nLeft], rows[i] = rows[i], rows[nLeft]
			nLeft++
		}
	}
	return nLeft, end - nLeft
}

// moveNaNFront reorders tail ([x ≥ thr (nRight) | NaN]) as [NaN | x ≥ thr],
// so the NaN rows join the left block.
func (b *builder) moveNaNFront(tail []int, nRight int) {
	slices.Reverse(tail)
	slices.Reverse(tail[:len(tail)-nRight])
	slices.Reverse(tail[len(tail)-nRight:])
}

func sortFloats(s []float64) { slices.Sort(s) }
