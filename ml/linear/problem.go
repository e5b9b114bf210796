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
	tail    []float64   // scratch: the last chunk's final rows padded to four
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
	p.tail = make([]float64, 4*len(p.dense))
	return p
}

// fillDense writes the standardised dense columns into x. It fills x a
// block of rows at a time, every column per block, so that each cache line
// of x is written while it is still in cache (column by column, with rows
// one line wide, every store would miss).
func (p *problem) fillDense(f *frame.Frame, mean, scale []float64) {
	dd := len(p.dense)
	p.x = make([]float64, p.n*dd)
	for lo := 0; lo < p.n; lo += fillBlock {
		hi := min(lo+fillBlock, p.n)
		for k, j := range p.dense {
			mu, inv := mean[j], 1/scale[j]
			for i, v := range f.Cols[j][lo:hi] {
				if v == v {
					p.x[(lo+i)*dd+k] = (float64(v) - mu) * inv
				}
			}
		}
	}
}

// fillBlock is the number of rows fillDense writes per pass over the columns.
const fillBlock = 256

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
	w, gd, gs := theta[:d], g[:dd], g[dd:dd+d]
	var lin, sumR float64
	prod, logs := [2]float64{1, 1}, [2]float64{}
	lo, hi := c*chunkRows, min((c+1)*chunkRows, p.n)
	for i := lo; i < hi; i += 4 {
		m := min(4, hi-i)
		block := p.x[i*dd : (i+m)*dd]
		if m < 4 { // the last rows: pad to four with zero rows of zero weight
			clear(p.tail)
			copy(p.tail, block)
			block = p.tail
		}
		z := margins4(block, p.wd, p.bEff)
		var r [4]float64
		for k := range m {
			j := i + k
			if p.sPtr != nil {
				z[k] += p.sparseDot(j, w)
			}
			az := math.Abs(z[k])
			e := math.Exp(-az)
			// σ(z) = 1/(1+e) for z ≥ 0 and e/(1+e) for z < 0, chosen by
			// the sign bit: margins change sign at random from row to row,
			// so a branch here would mispredict about half the time.
			pr := 1 / (1 + e) * bySign(z[k], e, 1)
			p.prob[j] = pr
			y, s := p.y[j], p.s[j]
			cls := int(y)
			if prod[cls] *= 1 + e; prod[cls] > 1e290 {
				logs[cls] += math.Log(prod[cls])
				prod[cls] = 1
			}
			lin += s * ((z[k]+az)*0.5 - y*z[k]) // (z+|z|)/2 is max(z, 0), exactly and without a branch
			r[k] = s * (pr - y)
			if p.sPtr != nil {
				p.sparseAdd(j, r[k], gs)
			}
			sumR += r[k]
		}
		addRows4(gd, block, r)
	}
	g[dd+d] = sumR
	g[dd+d+1] = lin + p.cw[0]*(logs[0]+math.Log(prod[0])) + p.cw[1]*(logs[1]+math.Log(prod[1]))
}

// margins4 returns b + x_k·w for the four rows x_k of the 4×len(w) block.
// Working on four rows at once loads each coefficient once per four rows
// and gives four independent chains of additions.
func margins4(block, w []float64, b float64) [4]float64 {
	dd := len(w)
	x0 := block[:dd]
	x1, x2, x3 := block[dd : 2*dd][:len(x0)], block[2*dd : 3*dd][:len(x0)], block[3*dd : 4*dd][:len(x0)]
	w = w[:len(x0)]
	z0, z1, z2, z3 := b, b, b, b
	for j, v := range x0 {
		wj := w[j]
		z0 += v * wj
		z1 += x1[j] * wj
		z2 += x2[j] * wj
		z3 += x3[j] * wj
	}
	return [4]float64{z0, z1, z2, z3}
}

// addRows4 adds Σ_k r[k]·x_k to g for the four rows x_k of the 4×len(g)
// block, loading and storing each entry of g once per four rows.
func addRows4(g, block []float64, r [4]float64) {
	dd := len(g)
	x0 := block[:dd]
	x1, x2, x3 := block[dd : 2*dd][:len(x0)], block[2*dd : 3*dd][:len(x0)], block[3*dd : 4*dd][:len(x0)]
	g = g[:len(x0)]
	r0, r1, r2, r3 := r[0], r[1], r[2], r[3]
	for j, v := range x0 {
		g[j] += r0*v + r1*x1[j] + r2*x2[j] + r3*x3[j]
	}
}

// bySign returns neg if z has its sign bit set (z < 0 or z is −0) and pos
// otherwise, without a branch.
func bySign(z, neg, pos float64) float64 {
	m := uint64(int64(math.Float64bits(z)) >> 63)
	return math.Float64frombits(math.Float64bits(neg)&m | math.Float64bits(pos)&^m)
}

// hessian writes the Hessian of the smooth objective into h, at the point
// of the last eval (whose probabilities it reuses), (d+1)×(d+1) row-major,
// and returns it. Rows are taken four at a time so that each entry of the
// lower triangle is loaded and stored once per four rows; the last partial
// block is padded with rows of weight zero. The triangle is mirrored at the
// end.
func (p *problem) hessian(h []float64) []float64 {
	d, d1 := p.d, p.d+1
	clear(h)
	full := p.n - p.n%4
	for i := 0; i < full; i += 4 {
		p.addOuter(h, p.x[i*d:(i+4)*d], p.curvature(i, 4))
	}
	if full < p.n {
		tail := make([]float64, 4*d)
		copy(tail, p.x[full*d:])
		p.addOuter(h, tail, p.curvature(full, p.n-full))
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

// curvature returns the Hessian weights s·σ·(1−σ) of rows i..i+m-1 (m ≤ 4),
// zero past them.
func (p *problem) curvature(i, m int) [4]float64 {
	var c [4]float64
	for k := range m {
		pr := p.prob[i+k]
		c[k] = p.s[i+k] * pr * (1 - pr)
	}
	return c
}

// addOuter adds Σ_k c[k]·x_k·x_kᵀ to the lower triangle of h, where x_k is
// row k of the 4×d block with a trailing 1 for the intercept. The rows are
// resliced to each triangle row's length so the inner loop runs without
// bounds checks.
func (p *problem) addOuter(h, block []float64, c [4]float64) {
	d, d1 := p.d, p.d+1
	r0 := block[:d]
	r1, r2, r3 := block[d : 2*d][:len(r0)], block[2*d : 3*d][:len(r0)], block[3*d : 4*d][:len(r0)]
	last := h[d*d1 : d*d1+d1][:len(r0)+1]
	for a, v0 := range r0 {
		c0, c1, c2, c3 := c[0]*v0, c[1]*r1[a], c[2]*r2[a], c[3]*r3[a]
		hr := h[a*d1 : a*d1+a+1]
		s0, s1, s2, s3 := r0[:len(hr)], r1[:len(hr)], r2[:len(hr)], r3[:len(hr)]
		for b, v := range s0 {
			hr[b] += c0*v + c1*s1[b] + c2*s2[b] + c3*s3[b]
		}
		last[a] += c0 + c1 + c2 + c3
	}
	last[d] += c[0] + c[1] + c[2] + c[3]
}
