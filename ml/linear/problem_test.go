package linear

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/plinthai/plinth/ml/frame"
)

// randomProblem builds a problem over n rows: three dense columns and, with
// sparse, two mostly-zero ones, with a weighted class balance.
func randomProblem(t *testing.T, n int, sparse bool) (*problem, int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	names := []string{"a", "b", "c", "s1", "s2"}
	cols := make([][]float32, len(names))
	y := make([]float64, n)
	for i := range n {
		for j := range 3 {
			cols[j] = append(cols[j], float32(rng.NormFloat64()*float64(j+1)))
		}
		for j := 3; j < 5; j++ {
			v := float32(0)
			if rng.IntN(4) == 0 {
				v = float32(1 + rng.IntN(3))
			}
			cols[j] = append(cols[j], v)
		}
		if rng.Float64() < 0.4 {
			y[i] = 1
		}
	}
	y[0], y[1] = 0, 1
	f, err := frame.New(names, cols)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config{ClassWeight: [2]float64{1, 2.5}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	mean, scale, err := standardise(f)
	if err != nil {
		t.Fatal(err)
	}
	return newProblem(f, y, mean, scale, cfg, sparse), len(names)
}

// TestEvalMatchesFiniteDifferences checks eval's gradient and hessian
// against central differences of eval itself, for row counts that leave
// 0–3 rows after the last block of four and a chunk boundary, with and
// without sparse columns.
func TestEvalMatchesFiniteDifferences(t *testing.T) {
	for _, n := range []int{9, 10, 11, 12, chunkRows + 3} {
		for _, sparse := range []bool{false, true} {
			p, d := randomProblem(t, n, sparse)
			if sparse && len(p.dense) == d {
				t.Fatalf("n=%d: no sparse column", n)
			}
			theta := []float64{0.3, -0.7, 0.2, 0.5, -0.4, 0.1}
			g := make([]float64, d+1)
			p.eval(theta, g)
			var h []float64
			if !sparse {
				h = p.hessian(make([]float64, (d+1)*(d+1)))
			}
			const eps = 1e-5
			plus, minus := make([]float64, d+1), make([]float64, d+1)
			gp, gm := make([]float64, d+1), make([]float64, d+1)
			for j := range theta {
				copy(plus, theta)
				copy(minus, theta)
				plus[j] += eps
				minus[j] -= eps
				fd := (p.eval(plus, gp) - p.eval(minus, gm)) / (2 * eps)
				if math.Abs(fd-g[j]) > 1e-7 {
					t.Errorf("n=%d sparse=%v: gradient %d: got %.10g, want %.10g (finite difference)", n, sparse, j, g[j], fd)
				}
				for k := range theta {
					if h == nil {
						break
					}
					if want := (gp[k] - gm[k]) / (2 * eps); math.Abs(h[k*(d+1)+j]-want) > 1e-6 {
						t.Errorf("n=%d: hessian (%d,%d): got %.10g, want %.10g (finite difference)", n, k, j, h[k*(d+1)+j], want)
					}
				}
			}
		}
	}
}

// TestPredictedDecrease checks ½·gᵀH⁻¹g on a hand-solved 2×2 system:
// H = [[4, 2], [2, 3]], g = (2, 1): H⁻¹g = (0.5, 0), so the decrease is 0.5.
func TestPredictedDecrease(t *testing.T) {
	h := []float64{4, 2, 2, 3}
	if !cholesky(h, 2) {
		t.Fatal("cholesky failed on a positive definite matrix")
	}
	scratch := make([]float64, 2)
	if got := predictedDecrease(h, []float64{2, 1}, scratch); math.Abs(got-0.5) > 1e-15 {
		t.Errorf("got predicted decrease %v, want 0.5", got)
	}
	if math.Abs(scratch[0]-0.5) > 1e-15 || math.Abs(scratch[1]) > 1e-15 {
		t.Errorf("got H⁻¹g %v, want [0.5 0]", scratch)
	}
}

func TestBySign(t *testing.T) {
	tests := []struct {
		z, want float64
	}{
		{-2, 10}, {math.Copysign(0, -1), 10}, {0, 20}, {3, 20}, {math.Inf(-1), 10},
	}
	for _, tt := range tests {
		if got := bySign(tt.z, 10, 20); got != tt.want {
			t.Errorf("bySign(%v, 10, 20): got %v, want %v", tt.z, got, tt.want)
		}
	}
}
