package linear

import "github.com/plinthai/plinth/ml/frame"

// sparseCols holds the mostly-zero columns in compressed sparse rows. A
// sparse feature j enters the margin as w_j·(x/σ_j − μ_j/σ_j): the values
// stored are x/σ_j (NaN stored as μ_j/σ_j, which centres to zero) and the
// constant −Σ w_j·μ_j/σ_j is folded into the intercept. Its gradient is
// Σ r·x/σ_j − (μ_j/σ_j)·Σ r. For a column at least half zero |μ_j|/σ_j ≤ 1,
// so the subtraction loses no precision worth speaking of.
type sparseCols struct {
	sPtr  []int32   // row i's values are sVal[sPtr[i]:sPtr[i+1]]; nil when no column is sparse
	sCol  []int32   // feature index of each stored value
	sVal  []float64 // x/σ
	shift []float64 // μ/σ per feature, 0 for dense features
	wd    []float64 // scratch: the dense columns' coefficients, per eval
	bEff  float64   // scratch: the intercept with the sparse centring folded in
}

// mostlyZero reports whether at least half of col is exactly zero.
func mostlyZero(col []float32) bool {
	var zeros int
	for _, v := range col {
		if v == 0 {
			zeros++
		}
	}
	return 2*zeros >= len(col)
}

// fillSparse stores the columns not in p.dense.
func (p *problem) fillSparse(f *frame.Frame, mean, scale []float64) {
	isDense := make([]bool, p.d)
	for _, j := range p.dense {
		isDense[j] = true
	}
	p.shift = make([]float64, p.d)
	p.sPtr = make([]int32, p.n+1)
	for i := 0; i < p.n; i++ {
		for j, col := range f.Cols {
			if isDense[j] {
				continue
			}
			p.shift[j] = mean[j] / scale[j]
			switch v := col[i]; {
			case v != v:
				p.sCol, p.sVal = append(p.sCol, int32(j)), append(p.sVal, p.shift[j])
			case v != 0:
				p.sCol, p.sVal = append(p.sCol, int32(j)), append(p.sVal, float64(v)/scale[j])
			}
		}
		p.sPtr[i+1] = int32(len(p.sVal))
	}
}

// centring returns Σ w_j·μ_j/σ_j over the sparse features.
func (p *problem) centring(theta []float64) float64 {
	var c float64
	for j, s := range p.shift {
		c += theta[j] * s
	}
	return c
}

// correctSparse subtracts (μ_j/σ_j)·Σ r from the sparse features' gradient.
func (p *problem) correctSparse(grad []float64) {
	r := grad[p.d]
	for j, s := range p.shift {
		grad[j] -= s * r
	}
}

// sparseDot returns row i's sparse part of the margin.
func (p *problem) sparseDot(i int, w []float64) float64 {
	var z float64
	lo, hi := p.sPtr[i], p.sPtr[i+1]
	cols, vals := p.sCol[lo:hi], p.sVal[lo:hi]
	for k, j := range cols {
		z += w[j] * vals[k]
	}
	return z
}

// sparseAdd adds r times row i's sparse values to gs.
func (p *problem) sparseAdd(i int, r float64, gs []float64) {
	lo, hi := p.sPtr[i], p.sPtr[i+1]
	cols, vals := p.sCol[lo:hi], p.sVal[lo:hi]
	for k, j := range cols {
		gs[j] += r * vals[k]
	}
}
