package iforest

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/plinthai/plinth/ml/frame"
)

// blob returns n rows of a 2-D Gaussian cluster plus, last, one far outlier.
func blob(n int, seed uint64) *frame.Frame {
	rng := rand.New(rand.NewPCG(seed, 1))
	a, b := make([]float32, n+1), make([]float32, n+1)
	for i := 0; i < n; i++ {
		a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	a[n], b[n] = 8, -8
	f, _ := frame.New([]string{"a", "b"}, [][]float32{a, b})
	return f
}

func TestAveragePath(t *testing.T) {
	// Values from scikit-learn's _average_path_length.
	ns := []int{0, 1, 2, 3, 256, 100000}
	want := []float64{0, 0, 1, 1.20739236, 10.24477092, 22.18028226}
	got := make([]float64, len(ns))
	for i, n := range ns {
		got[i] = averagePath(n)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-8)); diff != "" {
		t.Errorf("c(n) (-want +got):\n%s", diff)
	}
}

func TestIsolatedPointScoresHighest(t *testing.T) {
	f := blob(1000, 3)
	m, err := Fit(f, Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Score(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := len(s) - 1
	for i, v := range s[:out] {
		if v >= s[out] {
			t.Fatalf("row %d scores %v, want below the outlier's %v", i, v, s[out])
		}
		if !(v > 0 && v <= 1) {
			t.Fatalf("row %d scores %v, want in (0, 1]", i, v)
		}
	}
	if s[out] < 0.7 || !m.IsAnomaly(s[out]) {
		t.Errorf("outlier score: got %v, want ≥ 0.7 and flagged", s[out])
	}
	row, err := m.ScoreRow([]float32{8, -8})
	if err != nil || row != s[out] {
		t.Errorf("ScoreRow: got %v, %v, want %v", row, err, s[out])
	}
}

func TestDeterministicForSeed(t *testing.T) {
	f := blob(3000, 5)
	score := func(cfg Config) []float64 {
		m, err := Fit(f, cfg)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Score(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one := score(Config{Seed: 9, Workers: 1})
	if diff := cmp.Diff(one, score(Config{Seed: 9, Workers: 3})); diff != "" {
		t.Errorf("workers changed the scores (-1 +3):\n%s", diff)
	}
	if cmp.Equal(one, score(Config{Seed: 10})) {
		t.Error("seeds 9 and 10 gave identical scores, want different forests")
	}
}

func TestContamination(t *testing.T) {
	f := blob(2000, 7)
	m, err := Fit(f, Config{Contamination: 0.05, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Score(f, nil)
	var flagged int
	for _, v := range s {
		if m.IsAnomaly(v) {
			flagged++
		}
	}
	if got, want := float64(flagged)/float64(len(s)), 0.05; math.Abs(got-want) > 0.002 {
		t.Errorf("flagged fraction: got %v, want %v", got, want)
	}
}

func TestMissingValues(t *testing.T) {
	f := blob(500, 11)
	nan := float32(math.NaN())
	for i := 0; i < 500; i += 7 {
		f.Cols[0][i] = nan
	}
	m, err := Fit(f, Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.ScoreRow([]float32{nan, nan})
	if err != nil || !(s > 0 && s <= 1) {
		t.Errorf("all-missing row: got %v, %v, want a score in (0, 1]", s, err)
	}
}

func TestBadInput(t *testing.T) {
	one, _ := frame.New([]string{"x"}, [][]float32{{1}})
	two, _ := frame.New([]string{"x"}, [][]float32{{1, 2}})
	inf, _ := frame.New([]string{"x"}, [][]float32{{1, float32(math.Inf(-1))}})
	tests := []struct {
		name string
		f    *frame.Frame
		cfg  Config
	}{
		{"nil", nil, Config{}},
		{"empty", &frame.Frame{}, Config{}},
		{"one row", one, Config{}},
		{"infinite", inf, Config{}},
		{"negative trees", two, Config{NumTrees: -1}},
		{"sample size 1", two, Config{SampleSize: 1}},
		{"negative sample size", two, Config{SampleSize: -5}},
		{"contamination NaN", two, Config{Contamination: math.NaN()}},
		{"contamination 0.9", two, Config{Contamination: 0.9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Fit(tt.f, tt.cfg); !errors.Is(err, ErrInput) {
				t.Errorf("got %v, want an error wrapping ErrInput", err)
			}
		})
	}
	m, err := Fit(two, Config{})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := frame.New([]string{"y"}, [][]float32{{1}})
	if _, err := m.Score(other, nil); !errors.Is(err, ErrInput) {
		t.Errorf("missing column: got %v, want ErrInput", err)
	}
	if _, err := m.ScoreRow(nil); !errors.Is(err, ErrInput) {
		t.Errorf("short row: got %v, want ErrInput", err)
	}
}

func BenchmarkScore(b *testing.B) {
	f := blob(10000, 1)
	m, err := Fit(f, Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float64, f.NumRows())
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = m.Score(f, dst)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*f.NumRows()), "ns/row")
}

func BenchmarkScoreRow(b *testing.B) {
	f := blob(10000, 1)
	m, _ := Fit(f, Config{Seed: 1})
	row := []float32{0.5, -0.3}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.ScoreRow(row)
	}
}

func BenchmarkFit(b *testing.B) {
	f := blob(100000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(f, Config{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
