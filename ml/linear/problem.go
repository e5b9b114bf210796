package linear

import (
	"fmt"
	"math"
	"sync"

	"github.com/plinthai/plinth/ml/frame"
)

// chunkRows is the number of rows one loss-evaluation task covers. Partial
// sums are kept per chunk and added in chunk order, so results do not depend
// on the number of workers.
const chunkRows = 2048

// problem is the weighted, regularised logistic loss over standardised rows,
// normalised by the total row weight so that its scale does not grow with n.
//
// Columns that are mostly zero (one-hot codes, counts) may be kept sparse:
// their raw non-zero values divided by the scale, with the centring folded
// into the intercept and the gradient (see sparse.go). The others are dense,
// standardised, row-major in x.
type problem struct {
	x     []float64 // n×len(dense), row-major, standardised, missing → 0
	dense []int     // feature index of each column of x
	sparseCols
	y       []float64 // 0 or 1
	s       []float64 // row weight / total weight
	n, d    int
	l2      float64 // coefficient of ||w||²/2 (L2 penalty), else 0
	workers int
	partial [][]float64 // per chunk: see chunk
	prob    []float64   // σ(margin) of every row at the last eval
	cw      [2]float64  // row weight of each class / total weight
}

// standardise returns per-column means and scales (population standard
// deviation, 1 for constant columns) ignoring NaN, as scikit-learn's
// StandardScaler does.
func standardise(f *frame.Frame) (mean, scale []float64, err error) {
	mean = make([]float64, f.NumCols())
	scale = make([]float64, f.NumCols())
	for j, col := range f.Cols {
		var sum, cnt float64
		for i, v := range col {
			if math.IsInf(float64(v), 0) {
				return nil, nil, fmt.Errorf("%w: column %q row %d is infinite", ErrInput, f.Names[j], i)
			}
			if v == v {
				sum += float64(v)
				cnt++
			}
		}
		if cnt > 0 {
			mean[j] = sum / cnt
		}
		var ss float64
		for _, v := range col {
			if v == v {
				dv := float64(v) - mean[j]
				ss += dv * dv
			}
		}
		scale[j] = 1
		if cnt > 0 && ss > 0 {
			scale[j] = math.Sqrt(ss / cnt)
		}
	}
	return mean, scale, nil
}

// newProblem builds the design matrix and row weights. With allowSparse,
// columns at least half zero are kept sparse.
func newProblem(f *frame.Frame, y []float64, mean, scale []float64, cfg Config, allowSparse bool) *problem {
	n, d := f.NumRows(), f.NumCols()
	p := &problem{y: y, s: make([]float64, n), n: n, d: d, workers: cfg.Workers, prob: make([]float64, n)}
	for j, col := range f.Cols {
		if !allowSparse || !mostlyZero(col) {
			p.dense = append(p.dense, j)
		}
	}
	p.fillDense(f, mean, scale)
	if len(p.dense) < d {
		p.fillSparse(f, mean, scale)
	}
	cw := classWeights(y, cfg)
	var total float64
	for i, yi := range y {
		p.s[i] = cw[int(yi)]
		total += p.s[i]
	}
	for i := range p.s {
		p.s[i] /= total
	}
	p.cw = [2]float64{cw[0] / total, cw[1] / total}
	if cfg.Penalty == L2 {
		p.l2 = 1 / (cfg.C * total)
	}
	p.partial = make([][]float64, (n+chunkRows-1)/chunkRows)
	for c := range p.partial {
		p.partial[c] = make([]float64, len(p.dense)+d+2)
	}
	p.wd = make([]float64, len(p.dense))
	return p
}

// fillDense writes the standardised dense columns into x.
func (p *problem) fillDense(f *frame.Frame, mean, scale []float64) {
	dd := len(p.dense)
	p.x = make([]float64, p.n*dd)
	for k, j := range p.dense {
		inv := 1 / scale[j]
		for i, v := range f.Cols[j] {
			if v == v {
				p.x[i*dd+k] = (float64(v) - mean[j]) * inv
			}
		}
	}
}

// classWeights returns the loss multiplier of each class.
func classWeights(y []float64, cfg Config) [2]float64 {
	if cfg.Balanced {
		var cnt [2]float64
		for _, yi := range y {
			cnt[int(yi)]++
		}
		n := cnt[0] + cnt[1]
		return [2]float64{n / (2 * cnt[0]), n / (2 * cnt[1])}
	}
	w := cfg.ClassWeight
	for k := range w {
		if w[k] == 0 {
			w[k] = 1
		}
	}
	return w
}

// eval returns the smooth part of the objective at theta (d coefficients,
// then the intercept) and writes its gradient into grad.
func (p *problem) eval(theta, grad []float64) float64 {
	d, dd := p.d, len(p.dense)
	for k, j := range p.dense {
		p.wd[k] = theta[j]
	}
	p.bEff = theta[d] - p.centring(theta)
	p.forChunks(func(c int) { p.chunk(c, theta) })
	clear(grad)
	var f float64
	for _, part := range p.partial {
		for k, j := range p.dense {
			grad[j] += part[k]
		}
		if p.sPtr != nil {
			for j, v := range part[dd : dd+d] {
				grad[j] += v
			}
		}
		grad[d] += part[dd+d]
		f += part[dd+d+1]
	}
	p.correctSparse(grad)
	for j := 0; j < d; j++ {
		f += 0.5 * p.l2 * theta[j] * theta[j]
		grad[j] += p.l2 * theta[j]
	}
	return f
}

// forChunks runs fn for every chunk index on p.workers goroutines.
func (p *problem) forChunks(fn func(c int)) {
	nc := len(p.partial)
	if p.workers <= 1 || nc == 1 {
		for c := 0; c < nc; c++ {
			fn(c)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < p.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := w; c < nc; c += p.workers {
				fn(c)
			}
		}()
	}
	wg.Wait()
}

// chunk accumulates the loss and gradient of one chunk of rows.
//
// The loss of row i is log(1+e) + max(z,0) − y·z with e = exp(−|z|). The
// log terms are summed as the log of a running product per class (every
// factor lies in (1, 2], so the product is flushed through math.Log only
// when it nears overflow): one logarithm per several hundred rows instead
// of one per row, with a relative error of the sum near 1e-15, far below
// the optimiser's tolerances.
//
// The chunk's partial sums are laid out as: the gradient of each dense
// column, then of each feature through its sparse values (by feature index),
// then Σ r (the intercept's), then the loss.
func (p *problem) chunk(c int, theta []float64) {
	d, dd := p.d, len(p.dense)
	g := p.partial[c]
	clear(g)
	w, wd, b := theta[:d], p.wd, p.bEff
	gd, gs := g[:dd], g[dd:dd+d]
	var lin, sumR float64
	prod, logs := [2]float64{1, 1}, [2]float64{}
	lo, hi := c*chunkRows, min((c+1)*chunkRows, p.n)
	for i := lo; i < hi; i++ {
		row := p.x[i*dd : i*dd+dd]
		z, y := b+dot4(row, wd), p.y[i]
		if p.sPtr != nil {
			z += p.sparseDot(i, w)
		}
		e := math.Exp(-math.Abs(z))
		pr := 1 / (1 + e)
		if z < 0 {
			pr *= e
		}
		p.prob[i] = pr
		k := int(y)
		if prod[k] *= 1 + e; prod[k] > 1e290 {
			logs[k] += math.Log(prod[k])
			prod[k] = 1
		}
		lin += p.s[i] * (max(z, 0) - y*z)
		r := p.s[i] * (pr - y)
		for k, v := range row {
			gd[k] += r * v
		}
		if p.sPtr != nil {
			p.sparseAdd(i, r, gs)
		}
		sumR += r
	}
	g[dd+d] = sumR
	g[dd+d+1] = lin + p.cw[0]*(logs[0]+math.Log(prod[0])) + p.cw[1]*(logs[1]+math.Log(prod[1]))
}

// hessian writes the Hessian of the smooth objective into h, at the point
// of the last eval (whose probabilities it reuses),
// (d+1)×(d+1) row-major, and returns it. Rows are taken four at a time so
// that each entry of the lower triangle is loaded and stored once per four
// rows; the triangle is mirrored at the end.
func (p *problem) hessian(h []float64) []float64 {
	d, d1 := p.d, p.d+1
	clear(h)
	var c [4]float64
	var rows [4][]float64
	for i := 0; i < p.n; i += 4 {
		for k := range 4 {
			rows[k], c[k] = p.x[:d], 0 // padding rows weigh nothing
			if r := i + k; r < p.n {
				rows[k] = p.x[r*d : r*d+d]
				c[k] = p.s[r] * p.prob[r] * (1 - p.prob[r])
			}
		}
		p.addOuter(h, rows, c)
	}
	for a := 0; a < d1; a++ {
		for b := 0; b < a; b++ {
			h[b*d1+a] = h[a*d1+b]
		}
	}
	for j := 0; j < d; j++ {
		h[j*d1+j] += p.l2
	}
	return h
}

// addOuter adds Σ_k c[k]·x_k·x_kᵀ (x_k with a trailing 1 for the intercept)
// to the lower triangle of h.
func (p *problem) addOuter(h []float64, rows [4][]float64, c [4]float64) {
	d, d1 := p.d, p.d+1
	r0, r1, r2, r3 := rows[0], rows[1][:d], rows[2][:d], rows[3][:d]
	last := h[d*d1 : d*d1+d1]
	for a, v0 := range r0 {
		c0, c1, c2, c3 := c[0]*v0, c[1]*r1[a], c[2]*r2[a], c[3]*r3[a]
		hr := h[a*d1 : a*d1+a+1]
		for b := range hr {
			hr[b] += c0*r0[b] + c1*r1[b] + c2*r2[b] + c3*r3[b]
		}
		last[a] += c0 + c1 + c2 + c3
	}
	last[d] += c[0] + c[1] + c[2] + c[3]
}

// dot4 returns Σ a[j]·b[j] with four independent accumulators, so that the
// additions do not wait on each other.
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(a); j += 4 {
		s0 += a[j] * b[j]
		s1 += a[j+1] * b[j+1]
		s2 += a[j+2] * b[j+2]
		s3 += a[j+3] * b[j+3]
	}
	for ; j < len(a); j++ {
		s0 += a[j] * b[j]
	}
	return (s0 + s1) + (s2 + s3)
}
