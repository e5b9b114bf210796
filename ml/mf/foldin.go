package mf

import (
	"fmt"
	"math"
	"slices"
)

// FoldIn builds the representation of a user who was not in training from
// the items they interacted with (for example their most recent ones),
// without retraining: item factors and biases stay fixed and the user's own
// parameters are solved exactly.
//
// For an explicit model values are the user's ratings (one per item) and
// FoldIn minimises the training objective restricted to the user,
// Σ_j (r_j − μ − b_ij − b − q_ijᵀp)² + Reg·n·(b² + |p|²), where n = len(items)
// (SGD applies Reg once per rating). For an implicit model values are
// interaction strengths, or nil for all 1, and FoldIn solves the user's ALS
// step exactly. The returned User's Seen lists the distinct items, sorted,
// so RecommendUser excludes them. FoldIn allocates O(Factors²) and runs in
// O(len(items)·Factors² + Factors³) (an implicit model's YᵀY is computed
// once, when it is trained or loaded); it is safe for concurrent use.
func (m *Model) FoldIn(items []int32, values []float64) (User, error) {
	if err := m.checkFoldIn(items, values); err != nil {
		return User{}, fmt.Errorf("fold in: %w", err)
	}
	var v User
	if m.explicit() {
		v = m.foldInExplicit(items, values)
	} else {
		v = m.foldInImplicit(items, values)
	}
	v.Seen = slices.Compact(slices.Sorted(slices.Values(items)))
	return v, nil
}

func (m *Model) checkFoldIn(items []int32, values []float64) error {
	if len(items) == 0 {
		return fmt.Errorf("%w: no items", ErrInput)
	}
	if values == nil && m.explicit() {
		return fmt.Errorf("%w: explicit model needs a rating per item", ErrInput)
	}
	if values != nil && len(values) != len(items) {
		return fmt.Errorf("%w: %d items but %d values", ErrInput, len(items), len(values))
	}
	for j, i := range items {
		if err := m.checkItem(int(i)); err != nil {
			return err
		}
		if values == nil {
			continue
		}
		if v := values[j]; math.IsNaN(v) || math.IsInf(v, 0) || (!m.explicit() && v < 0) {
			return fmt.Errorf("%w: value %d is %v", ErrInput, j, v)
		}
	}
	return nil
}

// foldInExplicit solves the ridge problem in z = (b, p) with rows
// a_j = (1, q_ij) and targets r_j − μ − b_ij.
func (m *Model) foldInExplicit(items []int32, values []float64) User {
	k1 := m.factors + 1
	a := make([]float64, k1*k1)
	rhs := make([]float64, k1)
	row := make([]float64, k1)
	row[0] = 1
	for j, i := range items {
		copy(row[1:], m.itemRow(int(i)))
		t := values[j] - m.mean - m.itemBias[i]
		for r, x := range row {
			axpy(x, row, a[r*k1:(r+1)*k1])
		}
		axpy(t, row, rhs)
	}
	addDiagonal(a, k1, m.hp.reg*float64(len(items)))
	z := denseCG(a, rhs)
	return User{Bias: z[0], Factors: z[1:]}
}

// foldInImplicit solves (YᵀY + λI + Σ (c_j − 1) y_j y_jᵀ) x = Σ c_j y_j.
func (m *Model) foldInImplicit(items []int32, values []float64) User {
	k := m.factors
	a := slices.Clone(m.itemGram)
	if a == nil { // a model built by hand, not trained or loaded
		a = gram(m.itemF, k, m.hp.reg)
	}
	rhs := make([]float64, k)
	for j, i := range items {
		r := 1.0
		if values != nil && !m.hp.binarize {
			r = values[j]
		}
		cm1 := m.hp.alpha * r
		yj := m.itemRow(int(i))
		for f, x := range yj {
			axpy(cm1*x, yj, a[f*k:(f+1)*k])
		}
		axpy(1+cm1, yj, rhs)
	}
	return User{Factors: denseCG(a, rhs)}
}

func addDiagonal(a []float64, k int, d float64) {
	for f := range k {
		a[f*k+f] += d
	}
}

// denseCG solves the symmetric positive-definite system a x = b from x = 0
// by conjugate gradients, iterating until the residual is negligible or
// 2·len(b) steps have run (exact arithmetic needs len(b)).
func denseCG(a, b []float64) []float64 {
	k := len(b)
	x := make([]float64, k)
	r := append([]float64(nil), b...)
	p := append([]float64(nil), b...)
	ap := make([]float64, k)
	rs := dot(r, r)
	tol := rs * 1e-24
	for range 2 * k {
		if rs <= tol || rs == 0 {
			break
		}
		matVec(a, p, ap)
		alpha := rs / dot(p, ap)
		axpy(alpha, p, x)
		axpy(-alpha, ap, r)
		next := dot(r, r)
		for f := range p {
			p[f] = r[f] + next/rs*p[f]
		}
		rs = next
	}
	return x
}
