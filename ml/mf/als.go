package mf

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// ALSConfig sets up TrainALS. DefaultALSConfig gives settings tuned on a
// MovieLens-100K validation split (see bench/mf/README.md).
type ALSConfig struct {
	Factors    int     // factor dimension, > 0
	Iterations int     // alternating sweeps (users, then items), > 0
	Reg        float64 // λ, the L2 weight on every factor vector, ≥ 0
	Alpha      float64 // confidence slope: c = 1 + Alpha·r, ≥ 0
	Binarize   bool    // use r = 1 for every observed pair (c = 1 + Alpha)
	CGSteps    int     // conjugate-gradient steps per solve, > 0
	InitStd    float64 // factors start as N(0, InitStd²), > 0
	Seed       uint64  // seeds factor initialisation
	Workers    int     // goroutines per sweep; 0 means GOMAXPROCS
}

// DefaultALSConfig returns the settings chosen by bench/mf's grid search on
// an ML-100K validation split: 32 factors, 15 iterations, λ = 1, α = 1 on
// the raw ratings (c = 1 + r), 3 CG steps.
func DefaultALSConfig() ALSConfig {
	return ALSConfig{Factors: 32, Iterations: 15, Reg: 1, Alpha: 1, CGSteps: 3, InitStd: 0.01, Seed: 1}
}

// Validate reports every invalid setting at once.
func (c ALSConfig) Validate() error {
	var errs []error
	if c.Factors <= 0 || c.Factors > maxFactors {
		errs = append(errs, fmt.Errorf("%w: factors %d, want 1..%d", ErrInput, c.Factors, maxFactors))
	}
	if c.Iterations <= 0 {
		errs = append(errs, fmt.Errorf("%w: iterations %d, want > 0", ErrInput, c.Iterations))
	}
	if c.CGSteps <= 0 {
		errs = append(errs, fmt.Errorf("%w: cg steps %d, want > 0", ErrInput, c.CGSteps))
	}
	if !(c.Reg >= 0) || math.IsInf(c.Reg, 0) {
		errs = append(errs, fmt.Errorf("%w: regularisation %v, want >= 0", ErrInput, c.Reg))
	}
	if !(c.Alpha >= 0) || math.IsInf(c.Alpha, 0) {
		errs = append(errs, fmt.Errorf("%w: alpha %v, want >= 0", ErrInput, c.Alpha))
	}
	if !(c.InitStd > 0) || math.IsInf(c.InitStd, 0) {
		errs = append(errs, fmt.Errorf("%w: init std %v, want > 0", ErrInput, c.InitStd))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("%w: workers %d, want >= 0", ErrInput, c.Workers))
	}
	return errors.Join(errs...)
}

// TrainALS fits implicit-feedback matrix factorization (Hu, Koren and
// Volinsky 2008): minimise Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ(Σ|x_u|² + Σ|y_i|²)
// with p_ui = 1 and c_ui = 1 + α·r_ui on observed pairs (repeats summed),
// p_ui = 0 and c_ui = 1 elsewhere. Each sweep solves every user with items
// fixed, then every item with users fixed, each by CGSteps conjugate-gradient
// steps warm-started at the current vector. Values must be ≥ 0. Sweeps run
// on Workers goroutines over fixed contiguous ranges; the result is the same
// for any worker count.
func TrainALS(data Ratings, cfg ALSConfig) (*Model, error) {
	if err := data.Validate(); err != nil {
		return nil, fmt.Errorf("train als: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("train als: %w", err)
	}
	for j, v := range data.Values {
		if v < 0 {
			return nil, fmt.Errorf("train als: %w: interaction %d has value %v, want >= 0", ErrInput, j, v)
		}
	}
	m := &Model{kind: KindALS, numUsers: data.NumUsers, numItems: data.NumItems, factors: cfg.Factors,
		hp: hyper{reg: cfg.Reg, alpha: cfg.Alpha, binarize: cfg.Binarize}}
	rng := newRNG(cfg.Seed)
	m.userF = make([]float64, m.numUsers*m.factors)
	m.itemF = make([]float64, m.numItems*m.factors)
	initNormal(rng, m.userF, cfg.InitStd)
	initNormal(rng, m.itemF, cfg.InitStd)
	ui := confidenceMatrix(&data, cfg.Alpha, cfg.Binarize)
	iu := ui.transpose(data.NumItems)
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for range cfg.Iterations {
		alsSweep(m.userF, m.itemF, &ui, m.factors, cfg, workers)
		alsSweep(m.itemF, m.userF, &iu, m.factors, cfg, workers)
	}
	m.seen = ui
	m.seen.val = nil
	m.itemGram = gram(m.itemF, m.factors, m.hp.reg)
	return m, nil
}

// confidenceMatrix returns the user → item matrix holding c_ui − 1 = α·r_ui
// (or α when binarised) for each observed pair.
func confidenceMatrix(data *Ratings, alpha float64, binarize bool) csr {
	c := buildCSR(data.NumUsers, data.NumItems, data.Users, data.Items, data.Values)
	for j, v := range c.val {
		if binarize {
			v = 1
		}
		c.val[j] = alpha * v
	}
	return c
}

// alsSweep re-solves every row of x (n × k) against fixed y, where conf row
// r lists the observed columns of x's row r with their c − 1.
func alsSweep(x, y []float64, conf *csr, k int, cfg ALSConfig, workers int) {
	yty := gram(y, k, cfg.Reg)
	n := conf.nrows()
	workers = max(1, min(workers, n))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newCGScratch(k)
			for r := lo; r < hi; r++ {
				cols, cm1 := conf.row(r)
				s.solve(x[r*k:(r+1)*k], y, yty, cols, cm1, cfg.CGSteps)
			}
		}()
	}
	wg.Wait()
}

// gram returns YᵀY + reg·I (k × k, row-major) for the row-major n × k matrix y.
func gram(y []float64, k int, reg float64) []float64 {
	g := make([]float64, k*k)
	for r := 0; r+k <= len(y); r += k {
		row := y[r : r+k]
		for a, ya := range row {
			if ya == 0 {
				continue
			}
			axpy(ya, row, g[a*k:(a+1)*k])
		}
	}
	for a := range k {
		g[a*k+a] += reg
	}
	return g
}

// axpy sets dst += a·x (len(dst) ≥ len(x)).
func axpy(a float64, x, dst []float64) {
	dst = dst[:len(x)]
	for f, v := range x {
		dst[f] += a * v
	}
}

// cgScratch holds one worker's conjugate-gradient vectors.
type cgScratch struct{ r, p, ap []float64 }

func newCGScratch(k int) *cgScratch {
	return &cgScratch{r: make([]float64, k), p: make([]float64, k), ap: make([]float64, k)}
}

// cgTol stops CG once the squared residual norm is this small.
const cgTol = 1e-20

// solve improves x towards the solution of
// (YᵀY + λI + Σ_j cm1_j y_j y_jᵀ) x = Σ_j (1 + cm1_j) y_j
// by at most steps conjugate-gradient iterations from x itself.
func (s *cgScratch) solve(x, y, yty []float64, cols []int32, cm1 []float64, steps int) {
	k := len(x)
	// r = b − A x
	matVec(yty, x, s.r)
	for f := range s.r {
		s.r[f] = -s.r[f]
	}
	for j, c := range cols {
		yj := y[int(c)*k : int(c)*k+k]
		axpy(1+cm1[j]-cm1[j]*dot(yj, x), yj, s.r)
	}
	copy(s.p, s.r)
	rs := dot(s.r, s.r)
	for range steps {
		if rs < cgTol {
			return
		}
		matVec(yty, s.p, s.ap)
		for j, c := range cols {
			yj := y[int(c)*k : int(c)*k+k]
			axpy(cm1[j]*dot(yj, s.p), yj, s.ap)
		}
		a := rs / dot(s.p, s.ap)
		axpy(a, s.p, x)
		axpy(-a, s.ap, s.r)
		next := dot(s.r, s.r)
		for f := range s.p {
			s.p[f] = s.r[f] + next/rs*s.p[f]
		}
		rs = next
	}
}

// matVec sets out = A v for the k × k row-major A.
func matVec(a, v, out []float64) {
	k := len(v)
	for r := range out {
		out[r] = dot(v, a[r*k:(r+1)*k])
	}
}
