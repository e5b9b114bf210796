package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFeatureCuts(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	heavy := make([]float32, 0, 100)
	for range 60 {
		heavy = append(heavy, 0) // one value holds 60 % of the rows
	}
	for i := range 40 {
		heavy = append(heavy, float32(i+1))
	}
	for _, tc := range []struct {
		name string
		col  []float32
		bins int
		want []float32
	}{
		{"constant", []float32{2, 2, 2}, 8, []float32{inf}},
		{"all missing", []float32{nan, nan}, 8, []float32{inf}},
		{"few distinct: cut at each value", []float32{3, 1, nan, 2, 1}, 8, []float32{2, 3, inf}},
		{"heavy value gets its own bin", heavy, 5, []float32{1, 11, 21, 31, inf}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := featureCuts(tc.col, nil, tc.bins)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("cuts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBinMatchesThreshold(t *testing.T) {
	// bin(x) <= b must be exactly x < cuts[b]: that is what lets a split
	// chosen on bins be replayed on raw values at predict time.
	col := []float32{-3, -1, 0, 0, 0.5, 1, 2, 2, 7, float32(math.Inf(1)), float32(math.Inf(-1))}
	bn := &binner{cuts: [][]float32{featureCuts(col, nil, 4)}}
	for _, x := range append(col, -2, 0.25, 1.5, 100) {
		for b := range bn.nbins(0) - 1 {
			if got, want := bn.bin(0, x) <= uint8(b), x < bn.cuts[0][b]; got != want {
				t.Errorf("x=%v b=%d: bin(x)<=b is %v, x<cut is %v", x, b, got, want)
			}
		}
	}
	if got, want := bn.bin(0, float32(math.NaN())), uint8(bn.nbins(0)); got != want {
		t.Errorf("bin(NaN): got %d, want the missing bin %d", got, want)
	}
}

func TestBinColumnMatchesBin(t *testing.T) {
	// The fused sort-and-walk binning must give featureCuts' cuts and
	// binner.bin's bins, sampled or not, on awkward values.
	r := rand.New(rand.NewPCG(5, 6))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name   string
		n      int
		gen    func() float32
		sample bool
	}{
		{"continuous", 5000, func() float32 { return float32(r.NormFloat64()) }, false},
		{"few values", 3000, func() float32 { return float32(r.IntN(7) - 3) }, false},
		{"awkward", 4000, func() float32 {
			return []float32{nan, inf, -inf, 0, float32(math.Copysign(0, -1)), 1e-40, -1e-40, 3.5, -2}[r.IntN(9)]
		}, false},
		{"sampled", 6000, func() float32 { return float32(r.ExpFloat64()) }, true},
		{"short", 40, func() float32 { return float32(r.NormFloat64()) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := make([]float32, tc.n)
			for i := range col {
				col[i] = tc.gen()
			}
			var sample []int32
			if tc.sample {
				sample = sketchRows(tc.n, tc.n/3, 1)
			}
			cuts, bins := binColumn(col, sample, 255)
			if diff := cmp.Diff(featureCuts(col, sample, 255), cuts); diff != "" {
				t.Fatalf("cuts (-featureCuts +binColumn):\n%s", diff)
			}
			bn := &binner{cuts: [][]float32{cuts}}
			for i, x := range col {
				if got, want := bins[i], bn.bin(0, x); got != want {
					t.Fatalf("row %d (x=%v): got bin %d, want %d", i, x, got, want)
				}
			}
		})
	}
}

func TestSortFloats(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 100, 300, 5000} {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10)))
		}
		want := slices.Clone(v)
		slices.Sort(want)
		sortFloats(v)
		if diff := cmp.Diff(want, v); diff != "" {
			t.Errorf("n=%d (-slices.Sort +sortFloats):\n%s", n, diff)
		}
	}
}

func TestAccumulateKernelsAgree(t *testing.T) {
	// The slot-matrix kernel (small data) and the bin-plus-offset kernel
	// (large data) must build identical histograms, block by block.
	x, _ := synthetic(t, 3001, 7, 9)
	pl := newPool(1)
	defer pl.close()
	bn, cols := newBinner(x.Cols, 64, 1, pl)
	bins := rowMajor(cols, pl)
	hb := newHistBuilder(bins, bn, 7, pl)
	if hb.slot16 == nil {
		t.Fatal("no slot matrix for a small data set")
	}
	r := rand.New(rand.NewPCG(1, 2))
	gp := make([]gpair, 3001)
	var rows []int32
	for i := range gp {
		gp[i] = gpair{float32(r.NormFloat64()), float32(r.Float64())}
		if r.IntN(3) > 0 {
			rows = append(rows, int32(i))
		}
	}
	for _, blk := range [][2]int{{0, 7}, {2, 5}, {6, 7}} {
		a, b := make([]hbin, bn.slots), make([]hbin, bn.slots)
		hb.accumulate(a, rows, gp, blk[0], blk[1])
		slots := hb.slot16
		hb.slot16 = nil
		hb.accumulate(b, rows, gp, blk[0], blk[1])
		hb.slot16 = slots
		if diff := cmp.Diff(b, a, cmp.AllowUnexported(hbin{})); diff != "" {
			t.Errorf("features %v (-bins +slots):\n%s", blk, diff)
		}
	}
}

// The vector kernels of accumulate and accumulate16 sum exactly as the Go
// loops, also when both rows of a pair land in one slot (a row given
// twice) and for an odd row count.
func TestAccumulateVectorMatchesGo(t *testing.T) {
	if !useAVX {
		t.Skip("no vector kernel on this machine")
	}
	x, _ := synthetic(t, 2001, 5, 3)
	pl := newPool(1)
	defer pl.close()
	bn, cols := newBinner(x.Cols, 16, 1, pl)
	hb := newHistBuilder(rowMajor(cols, pl), bn, 5, pl)
	r := rand.New(rand.NewPCG(3, 4))
	gp := make([]gpair, 2001)
	var rows []int32
	for i := range gp {
		gp[i] = gpair{float32(r.NormFloat64()), float32(r.Float64())}
		rows = append(rows, int32(i))
		if r.IntN(4) == 0 {
			rows = append(rows, int32(i))
		}
	}
	slots := hb.slot16
	for _, kernel := range []string{"slots", "bins"} {
		if kernel == "bins" {
			hb.slot16 = nil
		}
		for _, n := range []int{len(rows), len(rows) - 1, 3, 1} {
			for _, blk := range [][2]int{{0, 5}, {1, 4}, {4, 5}} {
				a, b := make([]hbin, bn.slots), make([]hbin, bn.slots)
				hb.accumulate(a, rows[:n], gp, blk[0], blk[1])
				useAVX = false
				hb.accumulate(b, rows[:n], gp, blk[0], blk[1])
				useAVX = true
				if diff := cmp.Diff(b, a, cmp.AllowUnexported(hbin{})); diff != "" {
					t.Errorf("%s, %d rows, features %v (-go +vector):\n%s", kernel, n, blk, diff)
				}
			}
		}
	}
	hb.slot16 = slots
}
