package gbdt

import (
	"math"
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
