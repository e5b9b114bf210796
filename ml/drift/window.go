package drift

import (
	"fmt"
	"math"

	"github.com/plinthai/plinth/ml/frame"
)

// Window accumulates live data into the bins of a reference profile. Its
// memory is fixed by the profile's bins, whatever the number of rows added.
// Windows over the same profile merge exactly (counts add), so per-shard or
// per-interval windows combine into one.
//
// A Window is not safe for concurrent use; give each goroutine its own and
// Merge them.
type Window struct {
	profile *Profile
	counts  []uint64 // all features' bins, feature after feature
	offsets []int    // start of each feature's bins in counts
	missing []uint64
	rows    uint64
}

// NewWindow returns an empty window over p's bins.
func NewWindow(p *Profile) *Window {
	w := &Window{profile: p, offsets: make([]int, len(p.Features)+1), missing: make([]uint64, len(p.Features))}
	for i := range p.Features {
		w.offsets[i+1] = w.offsets[i] + p.Features[i].NumBins()
	}
	w.counts = make([]uint64, w.offsets[len(p.Features)])
	return w
}

// Rows returns the number of rows added.
func (w *Window) Rows() uint64 { return w.rows }

// Add counts every row of f. Columns are matched to the profile's features
// by name; a missing column is an error and leaves w unchanged.
func (w *Window) Add(f *frame.Frame) error {
	if f == nil {
		return fmt.Errorf("%w: nil frame", ErrInput)
	}
	cols := make([][]float32, len(w.profile.Features))
	for i := range w.profile.Features {
		name := w.profile.Features[i].Name
		k := f.Index(name)
		if k < 0 {
			return fmt.Errorf("%w: frame has no column %q", ErrInput, name)
		}
		if len(f.Cols[k]) != f.NumRows() {
			return fmt.Errorf("%w: column %q has %d rows, want %d", ErrInput, name, len(f.Cols[k]), f.NumRows())
		}
		cols[i] = f.Cols[k]
	}
	for i, col := range cols {
		w.addColumn(i, col)
	}
	w.rows += uint64(f.NumRows())
	return nil
}

// addColumn counts one feature's values.
func (w *Window) addColumn(i int, col []float32) {
	ft := &w.profile.Features[i]
	counts := w.counts[w.offsets[i]:w.offsets[i+1]]
	var miss uint64
	if ft.Kind == Categorical {
		for _, v := range col {
			if v != v {
				miss++
				continue
			}
			counts[ft.bin(float64(v))]++
		}
	} else {
		ix := &ft.index
		for _, v := range col {
			if v != v {
				miss++
				continue
			}
			counts[ix.bin(float64(v))]++
		}
	}
	w.missing[i] += miss
}

// Merge adds o's counts into w. Both must be over the same profile.
func (w *Window) Merge(o *Window) error {
	if o.profile != w.profile {
		return fmt.Errorf("%w: windows over different profiles", ErrInput)
	}
	for k, c := range o.counts {
		w.counts[k] += c
	}
	for k, c := range o.missing {
		w.missing[k] += c
	}
	w.rows += o.rows
	return nil
}

// Reset empties w, keeping its memory.
func (w *Window) Reset() {
	clear(w.counts)
	clear(w.missing)
	w.rows = 0
}

// Result is the drift of one feature between the reference and a window.
type Result struct {
	Name string
	// PSI is over the PSI bins (numeric) or categories (categorical), plus a
	// missing-value bin when either side has missing values.
	PSI float64
	// KS is the largest gap between the reference and live CDFs at the bin
	// edges (numeric only, missing values left out). The exact two-sample
	// statistic lies in [KS, KS+KSBound]: within one bin each CDF rises by
	// at most that bin's share, and KSBound is the largest such share.
	KS, KSBound, KSPValue float64
	// ChiSquare, DF and ChiPValue test categorical homogeneity (categorical
	// only).
	ChiSquare float64
	DF        int
	ChiPValue float64
	// MissingRef and MissingLive are the shares of missing values.
	MissingRef, MissingLive float64
}

// Compare returns the drift of every feature. Features with no data on one
// side get NaN statistics.
func (w *Window) Compare() []Result {
	out := make([]Result, len(w.profile.Features))
	for i := range w.profile.Features {
		out[i] = w.compareFeature(i)
	}
	return out
}

func (w *Window) compareFeature(i int) Result {
	ft := &w.profile.Features[i]
	live := make([]float64, ft.NumBins())
	for k, c := range w.counts[w.offsets[i]:w.offsets[i+1]] {
		live[k] = float64(c)
	}
	r := Result{Name: ft.Name, KS: math.NaN(), KSBound: math.NaN(), KSPValue: math.NaN(),
		ChiSquare: math.NaN(), ChiPValue: math.NaN()}
	ref, liveMiss := ft.Counts, float64(w.missing[i])
	r.MissingRef = share(ft.Missing, sum(ref)+ft.Missing)
	r.MissingLive = share(liveMiss, sum(live)+liveMiss)
	r.PSI = psiWithMissing(group(ref, ft.Groups), group(live, ft.Groups), ft.Missing, liveMiss)
	if ft.Kind == Categorical {
		if stat, df, p, err := ChiSquare(ref, live); err == nil {
			r.ChiSquare, r.DF, r.ChiPValue = stat, df, p
		}
		return r
	}
	r.KS, r.KSBound, r.KSPValue = binnedKS(ref, live)
	return r
}

// group sums fine bins into the groups starting at starts (nil: no grouping).
func group(counts []float64, starts []int) []float64 {
	if starts == nil {
		return counts
	}
	out := make([]float64, len(starts))
	for g, s := range starts {
		end := len(counts)
		if g+1 < len(starts) {
			end = starts[g+1]
		}
		out[g] = sum(counts[s:end])
	}
	return out
}

// psiWithMissing is PSI over the bins plus a missing bin when needed; NaN
// when a side is empty.
func psiWithMissing(ref, live []float64, refMiss, liveMiss float64) float64 {
	if refMiss > 0 || liveMiss > 0 {
		ref = append(append([]float64(nil), ref...), refMiss)
		live = append(append([]float64(nil), live...), liveMiss)
	}
	psi, err := PSI(ref, live)
	if err != nil {
		return math.NaN()
	}
	return psi
}

// binnedKS returns the KS statistic at bin edges, its error bound and
// asymptotic p-value.
func binnedKS(ref, live []float64) (d, bound, p float64) {
	rt, lt := sum(ref), sum(live)
	if rt == 0 || lt == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	var fr, fl float64
	for k := range ref {
		pr, pl := ref[k]/rt, live[k]/lt
		fr += pr
		fl += pl
		d = max(d, math.Abs(fr-fl))
		bound = max(bound, pr, pl)
	}
	return d, bound, KSPValue(d, rt, lt)
}

func sum(s []float64) float64 {
	var t float64
	for _, v := range s {
		t += v
	}
	return t
}

func share(a, total float64) float64 {
	if total == 0 {
		return 0
	}
	return a / total
}
