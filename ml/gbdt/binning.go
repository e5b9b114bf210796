package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
)

// binner maps raw feature values to bins. For feature f, value bin b holds
// the values x with cuts[f][b-1] <= x < cuts[f][b]; the last cut is +Inf.
// Bin index nbins(f) (one past the value bins) holds missing values. So
// "bin(x) <= b" is exactly "x < cuts[f][b]", which is how a trained split on
// bin b becomes the float32 threshold cuts[f][b] at predict time.
type binner struct {
	cuts   [][]float32
	offset []int32 // start of feature f's slots in a histogram
	slots  int     // total histogram slots: sum over f of nbins(f)+1
}

// nbins returns the number of value bins of feature f.
func (bn *binner) nbins(f int) int { return len(bn.cuts[f]) }

// newBinner computes quantile cuts for every column of cols and returns
// the binner and every column's bins, one []uint8 per feature, binning
// features in parallel.
func newBinner(cols [][]float32, maxBin int, seed uint64, pl *pool) (*binner, [][]uint8) {
	sample := sketchRows(len(cols[0]), defaultMaxSketchRows, seed)
	bn := &binner{cuts: make([][]float32, len(cols)), offset: make([]int32, len(cols))}
	bins := make([][]uint8, len(cols))
	pl.run(len(cols), func(f int) {
		bn.cuts[f], bins[f] = binColumn(cols[f], sample, maxBin-1)
	})
	for f := range cols {
		bn.offset[f] = int32(bn.slots)
		bn.slots += bn.nbins(f) + 1
	}
	return bn, bins
}

// sketchRows returns the rows used to find cut points: all of them when
// there are at most max, else a seeded sample of max rows. nil means all.
func sketchRows(n, max int, seed uint64) []int32 {
	if n <= max {
		return nil
	}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := make([]int32, 0, max)
	for i := range n { // selection sampling: exactly max rows, in order
		if r.IntN(n-i) < max-len(out) {
			out = append(out, int32(i))
		}
	}
	return out
}

// featureCuts returns the ascending cut points of one column, ending in
// +Inf, with at most maxValueBins bins. A column with few distinct values
// gets one bin per value, cut at each value (so x < v goes below it, as in
// XGBoost). Otherwise bins are filled greedily to equal counts over the
// distinct values: a value heavier than the current target gets a bin of
// its own and the target is recomputed over what is left, so one dominant
// value (a default, a padding constant) does not starve the rest.
func featureCuts(col []float32, sample []int32, maxValueBins int) []float32 {
	vals := make([]float32, 0, max(len(sample), 16))
	add := func(v float32) {
		if v == v {
			vals = append(vals, v)
		}
	}
	if sample == nil {
		for _, v := range col {
			add(v)
		}
	} else {
		for _, i := range sample {
			add(col[i])
		}
	}
	sortFloats(vals)
	return cutsFromSorted(vals, maxValueBins)
}

// cutsFromSorted is featureCuts on the column's non-NaN values, sorted.
func cutsFromSorted(vals []float32, maxValueBins int) []float32 {
	values, counts := distinctCounts(vals)
	inf := float32(math.Inf(1))
	if len(values) <= maxValueBins {
		return append(slices.Clone(values[min(1, len(values)):]), inf)
	}
	return append(greedyCuts(values, counts, len(vals), maxValueBins), inf)
}

// distinctCounts returns the distinct values of sorted vals and their counts.
func distinctCounts(vals []float32) ([]float32, []int) {
	var values []float32
	var counts []int
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			values = append(values, v)
			counts = append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	return values, counts
}

// greedyCuts places at most bins−1 cuts between distinct values so that
// bins hold about equal counts.
func greedyCuts(values []float32, counts []int, total, bins int) []float32 {
	cuts := make([]float32, 0, bins)
	remaining, acc := total, 0
	for i := 0; i < len(values)-1 && len(cuts) < bins-1; i++ {
		acc += counts[i]
		target := float64(remaining) / float64(bins-len(cuts))
		if float64(acc) >= target || float64(counts[i+1]) >= target {
			cuts = append(cuts, values[i+1])
			remaining -= acc
			acc = 0
		}
	}
	return cuts
}

// bin returns the bin of x in feature f.
func (bn *binner) bin(f int, x float32) uint8 {
	c := bn.cuts[f]
	if x != x {
		return uint8(len(c))
	}
	// Count the cuts <= x among all but the last (+Inf) cut: that is x's
	// bin, and x = +Inf clamps to the last bin. The halving step is a
	// conditional move, not a branch: x's position is unpredictable.
	m := len(c) - 1
	if m == 0 {
		return 0
	}
	base, n := 0, m
	for n > 1 {
		half := n >> 1
		if c[base+half] <= x {
			base += half
		}
		n -= half
	}
	if c[base] <= x {
		base++
	}
	return uint8(base)
}

// rowMajor returns the row-major copy of column bins: row i's bins are
// out[i*nf : (i+1)*nf]. Histograms read rows; partitions read columns.
func rowMajor(colBins [][]uint8, pl *pool) []uint8 {
	n, nf := len(colBins[0]), len(colBins)
	out := make([]uint8, n*nf)
	const block = 8192
	pl.run((n+block-1)/block, func(b int) {
		lo, hi := b*block, min((b+1)*block, n)
		for f, col := range colBins {
			for i := lo; i < hi; i++ {
				out[i*nf+f] = col[i]
			}
		}
	})
	return out
}
