package drift

import "sort"

// cellsPerEdge sizes the lookup table: with sixteen uniform cells per edge
// most cells hold no edge, so a lookup is a multiply and a table read, and
// the correction branch is rarely taken (measured: 4 cells per edge were
// about twice as slow, from mispredicted branches).
const (
	cellsPerEdge = 16
	maxCells     = 1 << 18 // caps the table at 512 KiB for very fine profiles
)

// binIndex finds the bin of a value among ascending edges in about constant
// time: a uniform grid over [Edges[0], Edges[last]] gives, per cell, the
// number of edges at or below the cell's start, and a short correction walk
// (or a binary search when a cell holds many edges) finishes the job.
type binIndex struct {
	edges []float64
	start []uint16 // per cell: edges ≤ cell's lower bound; one extra entry
	lo    float64
	scale float64 // cells per unit of value
}

func newBinIndex(edges []float64) binIndex {
	ix := binIndex{edges: edges}
	if len(edges) < 2 {
		return ix
	}
	cells := min(cellsPerEdge*len(edges), maxCells)
	ix.lo = edges[0]
	ix.scale = float64(cells) / (edges[len(edges)-1] - edges[0])
	ix.start = make([]uint16, cells+1)
	for c := range ix.start {
		bound := ix.lo + float64(c)/ix.scale
		ix.start[c] = uint16(sort.Search(len(edges), func(k int) bool { return edges[k] > bound }))
	}
	return ix
}

// bin returns the number of edges ≤ v, which is v's bin. v must not be
// NaN. The common case (the cell's guess verified by its two neighbouring
// edges) is small enough to inline into the counting loop.
func (ix *binIndex) bin(v float64) int {
	c := int((v - ix.lo) * ix.scale)
	if c >= 0 && c < len(ix.start) {
		b := int(ix.start[c])
		if b > 0 && b < len(ix.edges) && ix.edges[b-1] <= v && v < ix.edges[b] {
			return b
		}
	}
	return ix.slowBin(v)
}

// slowBin handles values outside the edges, cells holding several edges and
// guesses off by rounding.
func (ix *binIndex) slowBin(v float64) int {
	e := ix.edges
	n := len(e)
	if n == 0 || v < e[0] {
		return 0
	}
	if v >= e[n-1] {
		return n
	}
	if ix.start == nil {
		return sort.Search(n, func(k int) bool { return e[k] > v })
	}
	c := int((v - ix.lo) * ix.scale)
	c = min(max(c, 0), len(ix.start)-2)
	b, hi := int(ix.start[c]), int(ix.start[c+1])
	if hi-b > 8 {
		b += sort.Search(hi-b, func(k int) bool { return e[b+k] > v })
	}
	// Correct for rounding in the cell computation.
	for b > 0 && e[b-1] > v {
		b--
	}
	for b < n && e[b] <= v {
		b++
	}
	return b
}
