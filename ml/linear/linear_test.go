package linear

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/plinthai/plinth/ml/frame"
)

// sklearnFixture is written by testdata/gen_sklearn.py.
type sklearnFixture struct {
	X     [][]float64
	Y     []float64
	Cases []struct {
		C         float64
		Penalty   string
		Balanced  bool
		Coef      []float64
		Intercept float64
		Proba     []float64
	}
}

func loadFixture(t *testing.T) (*frame.Frame, []float64, sklearnFixture) {
	t.Helper()
	b, err := os.ReadFile("testdata/sklearn_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx sklearnFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	d := len(fx.X[0])
	cols := make([][]float32, d)
	names := make([]string, d)
	for j := range cols {
		names[j] = string(rune('a' + j))
		for _, row := range fx.X {
			cols[j] = append(cols[j], float32(row[j]))
		}
	}
	f, err := frame.New(names, cols)
	if err != nil {
		t.Fatal(err)
	}
	return f, fx.Y, fx
}

func TestFitMatchesScikitLearn(t *testing.T) {
	f, y, fx := loadFixture(t)
	for _, c := range fx.Cases {
		cfg := Config{C: c.C, Balanced: c.Balanced, Tol: 1e-10, FTol: 1e-15}
		if c.Penalty == "l1" {
			cfg.Penalty = L1
		}
		solvers := []Solver{LBFGS}
		if cfg.Penalty == L2 {
			solvers = append(solvers, Newton)
		}
		for _, s := range solvers {
			cfg.Solver = s
			name := cfg.Penalty.String() + "/" + s.String()
			t.Run(name, func(t *testing.T) {
				m, err := Fit(f, y, cfg)
				if err != nil {
					t.Fatal(err)
				}
				// float32 inputs limit agreement to about 1e-5.
				opt := cmpopts.EquateApprox(0, 2e-4)
				if diff := cmp.Diff(c.Coef, m.Coef, opt); diff != "" {
					t.Errorf("C=%v coef mismatch (-sklearn +got):\n%s", c.C, diff)
				}
				if got, want := m.Intercept, c.Intercept; math.Abs(got-want) > 2e-4 {
					t.Errorf("intercept: got %v, want %v", got, want)
				}
				p, err := m.PredictProba(f, nil)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(c.Proba, p, cmpopts.EquateApprox(0, 1e-4)); diff != "" {
					t.Errorf("proba mismatch (-sklearn +got):\n%s", diff)
				}
			})
		}
	}
}

func TestL1ZeroesUselessFeature(t *testing.T) {
	f, y, _ := loadFixture(t)
	m, err := Fit(f, y, Config{C: 0.01, Penalty: L1})
	if err != nil {
		t.Fatal(err)
	}
	var zeros int
	for _, w := range m.Coef {
		if w == 0 {
			zeros++
		}
	}
	if zeros == 0 {
		t.Errorf("got no zero coefficients with a strong L1 penalty, want some: %v", m.Coef)
	}
}

func TestSeparable(t *testing.T) {
	// x < 0 is class 0, x > 0 class 1: a large C must classify every row.
	x := []float32{-3, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 3}
	y := []float64{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}
	f, _ := frame.New([]string{"x"}, [][]float32{x})
	for _, s := range []Solver{LBFGS, Newton} {
		m, err := Fit(f, y, Config{C: 1e4, Solver: s})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := m.PredictProba(f, nil)
		for i := range p {
			if (p[i] > 0.5) != (y[i] == 1) {
				t.Errorf("%v: row %d: got p=%v, want class %v", s, i, p[i], y[i])
			}
		}
	}
}

func TestWorkersDoNotChangeResult(t *testing.T) {
	n := 3*chunkRows + 17
	x := make([]float32, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
		if math.Cos(float64(i)*1.3)+float64(x[i]) > 0 {
			y[i] = 1
		}
	}
	f, _ := frame.New([]string{"x"}, [][]float32{x})
	m1, err := Fit(f, y, Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	m3, err := Fit(f, y, Config{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m1, m3); diff != "" {
		t.Errorf("workers changed the model (-1 +3):\n%s", diff)
	}
}

func TestMissingIsImputedWithMean(t *testing.T) {
	f, y, _ := loadFixture(t)
	m, err := Fit(f, y, Config{})
	if err != nil {
		t.Fatal(err)
	}
	row := []float32{float32(math.NaN()), float32(m.Mean[1]), float32(m.Mean[2]), float32(m.Mean[3])}
	got, err := m.Margin(row)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-m.Intercept) > 1e-6 {
		t.Errorf("margin at the means with a NaN: got %v, want %v", got, m.Intercept)
	}
}

func TestBadInput(t *testing.T) {
	one, _ := frame.New([]string{"x"}, [][]float32{{1, 2, 3}})
	inf, _ := frame.New([]string{"x"}, [][]float32{{1, float32(math.Inf(1)), 3}})
	tests := []struct {
		name string
		f    *frame.Frame
		y    []float64
		cfg  Config
	}{
		{"nil frame", nil, nil, Config{}},
		{"empty frame", &frame.Frame{}, nil, Config{}},
		{"label count", one, []float64{0, 1}, Config{}},
		{"label value", one, []float64{0, 1, 2}, Config{}},
		{"label NaN", one, []float64{0, 1, math.NaN()}, Config{}},
		{"one class", one, []float64{1, 1, 1}, Config{}},
		{"infinite value", inf, []float64{0, 1, 0}, Config{}},
		{"negative C", one, []float64{0, 1, 0}, Config{C: -1}},
		{"NaN C", one, []float64{0, 1, 0}, Config{C: math.NaN()}},
		{"unknown penalty", one, []float64{0, 1, 0}, Config{Penalty: 7}},
		{"unknown solver", one, []float64{0, 1, 0}, Config{Solver: 7}},
		{"newton l1", one, []float64{0, 1, 0}, Config{Solver: Newton, Penalty: L1}},
		{"negative weight", one, []float64{0, 1, 0}, Config{ClassWeight: [2]float64{-1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fit(tt.f, tt.y, tt.cfg)
			if !errors.Is(err, ErrInput) {
				t.Errorf("got error %v, want one wrapping ErrInput", err)
			}
		})
	}
}

func TestPredictBadInput(t *testing.T) {
	f, y, _ := loadFixture(t)
	m, err := Fit(f, y, Config{})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := frame.New([]string{"zz"}, [][]float32{{1}})
	if _, err := m.PredictProba(other, nil); !errors.Is(err, ErrInput) {
		t.Errorf("missing column: got %v, want ErrInput", err)
	}
	if _, err := m.PredictProba(nil, nil); !errors.Is(err, ErrInput) {
		t.Errorf("nil frame: got %v, want ErrInput", err)
	}
	if _, err := m.PredictRow([]float32{1}); !errors.Is(err, ErrInput) {
		t.Errorf("short row: got %v, want ErrInput", err)
	}
}

func BenchmarkPredictProba(b *testing.B) {
	f, y, _ := loadFixture(&testing.T{})
	m, err := Fit(f, y, Config{})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float64, f.NumRows())
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = m.PredictProba(f, dst)
	}
}

func BenchmarkPredictRow(b *testing.B) {
	f, y, _ := loadFixture(&testing.T{})
	m, err := Fit(f, y, Config{})
	if err != nil {
		b.Fatal(err)
	}
	row := f.Row(0, nil)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.PredictRow(row)
	}
}

func TestSparseColumnsMatchDense(t *testing.T) {
	// Columns a and b are mostly zero (kept sparse by L-BFGS), c is dense;
	// Newton keeps everything dense. Both must reach the same optimum.
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	a, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
	y := make([]float64, n)
	for i := range y {
		if rng.IntN(4) == 0 {
			a[i] = 1
		}
		if rng.IntN(3) == 0 {
			b[i] = float32(rng.NormFloat64()*5 + 100)
		}
		c[i] = float32(rng.NormFloat64())
		if i%97 == 0 {
			b[i] = float32(math.NaN())
		}
		z := 1.5*float64(a[i]) + 0.02*float64(b[i]) - float64(c[i]) - 1 + rng.NormFloat64()
		if z > 0 {
			y[i] = 1
		}
	}
	f, _ := frame.New([]string{"a", "b", "c"}, [][]float32{a, b, c})
	tight := Config{Tol: 1e-10, FTol: 1e-15}
	lb, nt := tight, tight
	lb.Solver, nt.Solver = LBFGS, Newton
	m1, err := Fit(f, y, lb)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Fit(f, y, nt)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m2.Coef, m1.Coef, cmpopts.EquateApprox(0, 1e-6)); diff != "" {
		t.Errorf("coef (-newton +lbfgs):\n%s", diff)
	}
	if math.Abs(m1.Intercept-m2.Intercept) > 1e-6 {
		t.Errorf("intercept: got %v (lbfgs), want %v (newton)", m1.Intercept, m2.Intercept)
	}
}
