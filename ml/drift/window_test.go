package drift

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/plinthai/plinth/ml/frame"
)

func normals(rng *rand.Rand, n int, shift float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64() + shift)
	}
	return out
}

func TestBinIndexMatchesSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Clustered edges: many near 0, a few far out.
	edges := []float64{-100, -1e-3, -1e-4, 0, 1e-6, 1e-5, 1e-4, 2e-4, 3e-4, 4e-4, 5e-4, 6e-4, 7e-4, 8e-4, 9e-4, 1e-3, 0.5, 7, 1000}
	ix := newBinIndex(edges)
	for k := 0; k < 20000; k++ {
		v := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-5))
		if k%7 == 0 {
			v = edges[rng.IntN(len(edges))]
		}
		want := sort.Search(len(edges), func(i int) bool { return edges[i] > v })
		if got := ix.bin(v); got != want {
			t.Fatalf("bin(%v): got %d, want %d", v, got, want)
		}
	}
}

func TestBinnedKSBracketsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ref := normals(rng, 5000, 0)
	ft, err := NumericFeature("x", ref, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	p := &Profile{Features: []Feature{ft}}
	for _, shift := range []float64{0, 0.05, 0.3, 2} {
		live := normals(rng, 3000, shift)
		w := NewWindow(p)
		f, _ := frame.New([]string{"x"}, [][]float32{live})
		if err := w.Add(f); err != nil {
			t.Fatal(err)
		}
		r := w.Compare()[0]
		exact, _, _ := KS(f64(ref), f64(live))
		if r.KS > exact+1e-12 || exact > r.KS+r.KSBound+1e-12 {
			t.Errorf("shift %v: exact KS %v outside [%v, %v]", shift, exact, r.KS, r.KS+r.KSBound)
		}
	}
}

func f64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

func TestDriftDetected(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cat := make([]float32, 4000)
	for i := range cat {
		cat[i] = float32(rng.IntN(3))
	}
	ref, _ := frame.New([]string{"x", "c"}, [][]float32{normals(rng, 4000, 0), cat})
	p, err := NewProfile(ref, ProfileConfig{Categories: map[string]int{"c": 3}})
	if err != nil {
		t.Fatal(err)
	}
	same, _ := frame.New([]string{"c", "x"}, [][]float32{cat[:2000], normals(rng, 2000, 0)})
	moved := make([]float32, 2000)
	for i := range moved {
		moved[i] = float32(min(rng.IntN(4), 2)) // code 2 twice as common
	}
	shifted, _ := frame.New([]string{"x", "c"}, [][]float32{normals(rng, 2000, 0.5), moved})
	for _, tc := range []struct {
		name  string
		f     *frame.Frame
		drift bool
	}{{"same", same, false}, {"shifted", shifted, true}} {
		w := NewWindow(p)
		if err := w.Add(tc.f); err != nil {
			t.Fatal(err)
		}
		r := w.Compare()
		got := []bool{r[0].PSI > 0.1, r[0].KSPValue < 0.01, r[1].ChiPValue < 0.01}
		want := []bool{tc.drift, tc.drift, tc.drift}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: [psi>0.1, ks p<0.01, chi p<0.01] (-want +got):\n%s\n%+v", tc.name, diff, r)
		}
	}
}

func TestMergeEqualsSingleWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ref, _ := frame.New([]string{"x"}, [][]float32{normals(rng, 1000, 0)})
	p, _ := NewProfile(ref, ProfileConfig{Bins: 50})
	live := normals(rng, 900, 0.2)
	live[3] = float32(math.NaN())
	all, a, b := NewWindow(p), NewWindow(p), NewWindow(p)
	whole, _ := frame.New([]string{"x"}, [][]float32{live})
	head, _ := frame.New([]string{"x"}, [][]float32{live[:400]})
	tail, _ := frame.New([]string{"x"}, [][]float32{live[400:]})
	_ = all.Add(whole)
	_ = a.Add(head)
	_ = b.Add(tail)
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all.Compare(), a.Compare(), cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("merged windows differ from one window (-one +merged):\n%s", diff)
	}
	if got := a.Compare()[0].MissingLive; got != 1.0/900 {
		t.Errorf("missing share: got %v, want %v", got, 1.0/900)
	}
	other := NewWindow(&Profile{Features: p.Features})
	if err := a.Merge(other); !errors.Is(err, ErrInput) {
		t.Errorf("merge across profiles: got %v, want ErrInput", err)
	}
}

func TestRollingForgetsOldIntervals(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ref, _ := frame.New([]string{"x"}, [][]float32{normals(rng, 1000, 0)})
	p, _ := NewProfile(ref, ProfileConfig{})
	r, err := NewRolling(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(n int) *frame.Frame {
		f, _ := frame.New([]string{"x"}, [][]float32{normals(rng, n, 0)})
		return f
	}
	_ = r.Current().Add(chunk(10))
	r.Advance()
	_ = r.Current().Add(chunk(20))
	r.Advance() // drops the 10
	_ = r.Current().Add(chunk(30))
	if got, want := r.Snapshot().Rows(), uint64(50); got != want {
		t.Errorf("rows in snapshot: got %d, want %d", got, want)
	}
	if _, err := NewRolling(p, 0); !errors.Is(err, ErrInput) {
		t.Errorf("zero intervals: got %v, want ErrInput", err)
	}
}

func TestProfileBadInput(t *testing.T) {
	inf, _ := frame.New([]string{"x"}, [][]float32{{1, float32(math.Inf(1))}})
	ok, _ := frame.New([]string{"x"}, [][]float32{{1, 2}})
	tests := []struct {
		name string
		f    *frame.Frame
		cfg  ProfileConfig
	}{
		{"nil", nil, ProfileConfig{}},
		{"empty", &frame.Frame{}, ProfileConfig{}},
		{"infinite", inf, ProfileConfig{}},
		{"negative bins", ok, ProfileConfig{Bins: -1}},
		{"zero categories", ok, ProfileConfig{Categories: map[string]int{"x": 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewProfile(tt.f, tt.cfg); !errors.Is(err, ErrInput) {
				t.Errorf("got %v, want ErrInput", err)
			}
		})
	}
	p, _ := NewProfile(ok, ProfileConfig{})
	other, _ := frame.New([]string{"y"}, [][]float32{{1}})
	if err := NewWindow(p).Add(other); !errors.Is(err, ErrInput) {
		t.Errorf("missing column: got %v, want ErrInput", err)
	}
}

func BenchmarkWindowAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	ref, _ := frame.New([]string{"x"}, [][]float32{normals(rng, 100000, 0)})
	p, _ := NewProfile(ref, ProfileConfig{})
	live, _ := frame.New([]string{"x"}, [][]float32{normals(rng, 100000, 0.1)})
	w := NewWindow(p)
	b.ReportAllocs()
	for b.Loop() {
		_ = w.Add(live)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*live.NumRows()), "ns/value")
}
