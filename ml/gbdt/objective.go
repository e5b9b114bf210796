package gbdt

import (
	"fmt"
	"math"
)

// gpair is one row's gradient and hessian of the loss at its current margin.
type gpair struct{ g, h float32 }

// objective turns labels and margins into gradient pairs and margins into
// predictions. Training keeps every row's margin (float64) and one float64
// of auxiliary state per row, whose meaning the objective chooses: e^−margin
// for the logistic loss, so that adding a leaf costs a multiplication
// instead of an exponential per row.
type objective interface {
	// aux returns the auxiliary state of a row whose margin is m.
	aux(m float64) float64
	// gradients fills gp[i] for rows [lo, hi) from their states.
	gradients(y []float32, margin, aux []float64, gp []gpair, lo, hi int)
	// leafStep returns what step needs, besides v, to add leaf output v.
	leafStep(v float32) float64
	// step adds leaf output v (s = leafStep(v)) to the listed rows'
	// margins, refreshes their gradient pairs and returns the pairs' sums.
	step(y []float32, margin, aux []float64, gp []gpair, rows []int32, v float32, s float64) hbin
	// stepRows adds leaf outputs vs[i] (steps ss[i]) to row rows[i]'s
	// margin, refreshes its gradient pair and returns the pairs' sums.
	stepRows(y []float32, margin, aux []float64, gp []gpair, rows []int32, vs []float32, ss []float64) hbin
	// baseMargin is the starting margin for base score s (a prediction).
	baseMargin(s float64) float64
	// transform maps a margin to a prediction.
	transform(m float64) float64
}

// logistic is binary:logistic: p = sigmoid(margin), log loss. Its
// auxiliary state is e^−margin, recomputed from the margin on the rare
// occasions it leaves [minExpState, maxExpState], where repeated
// multiplication would have lost it to 0 or +Inf.
type logistic struct{ posWeight float32 }

const (
	minExpState = 1e-290
	maxExpState = 1e290
)

func (logistic) aux(m float64) float64 { return math.Exp(-m) }

// next returns the auxiliary state after adding a leaf: e·s, or
// e^−m afresh when that is out of range (or NaN).
func next(e, s, m float64) float64 {
	e *= s
	if !(e > minExpState && e < maxExpState) { // rare, so predictable
		e = math.Exp(-m)
	}
	return e
}

// pair is the gradient pair of one row with label y and state e =
// e^−margin, in float32 as XGBoost computes it.
func (o logistic) pair(y float32, e float64) gpair {
	p := float32(1 / (1 + e))
	// Labels are 0 or 1, so the weight needs no (unpredictable) branch.
	w := 1 + (o.posWeight-1)*y
	h := p * (1 - p)
	if h < 1e-16 { // rare, so predictable; max() would add NaN handling
		h = 1e-16
	}
	return gpair{(p - y) * w, h * w}
}

func (o logistic) gradients(y []float32, _, aux []float64, gp []gpair, lo, hi int) {
	y, aux, gp = y[lo:hi], aux[lo:hi], gp[lo:hi]
	for i, e := range aux {
		gp[i] = o.pair(y[i], e)
	}
}

func (logistic) leafStep(v float32) float64 { return math.Exp(-float64(v)) }

func (o logistic) step(y []float32, margin, aux []float64, gp []gpair, rows []int32, v float32, s float64) hbin {
	var sum hbin
	for _, r := range rows {
		m := margin[r] + float64(v)
		margin[r] = m
		e := next(aux[r], s, m)
		aux[r] = e
		p := o.pair(y[r], e)
		gp[r] = p
		sum.g += float64(p.g)
		sum.h += float64(p.h)
	}
	return sum
}

func (o logistic) stepRows(y []float32, margin, aux []float64, gp []gpair, rows []int32, vs []float32, ss []float64) hbin {
	var sum hbin
	vs, ss = vs[:len(rows)], ss[:len(rows)]
	for i, r := range rows {
		m := margin[r] + float64(vs[i])
		margin[r] = m
		e := next(aux[r], ss[i], m)
		aux[r] = e
		p := o.pair(y[r], e)
		gp[r] = p
		sum.g += float64(p.g)
		sum.h += float64(p.h)
	}
	return sum
}

func (logistic) baseMargin(s float64) float64 { return math.Log(s / (1 - s)) }
func (logistic) transform(m float64) float64  { return sigmoid(m) }

// squaredError is reg:squarederror: 0.5·(margin − y)². It needs no
// auxiliary state.
type squaredError struct{}

func (squaredError) aux(float64) float64 { return 0 }

func (squaredError) gradients(y []float32, margin, _ []float64, gp []gpair, lo, hi int) {
	for i := lo; i < hi; i++ {
		gp[i] = gpair{float32(margin[i]) - y[i], 1}
	}
}

func (squaredError) leafStep(float32) float64 { return 0 }

func (squaredError) step(y []float32, margin, _ []float64, gp []gpair, rows []int32, v float32, _ float64) hbin {
	var sum hbin
	for _, r := range rows {
		margin[r] += float64(v)
		g := float32(margin[r]) - y[r]
		gp[r] = gpair{g, 1}
		sum.g += float64(g)
	}
	sum.h = float64(len(rows))
	return sum
}

func (squaredError) stepRows(y []float32, margin, _ []float64, gp []gpair, rows []int32, vs []float32, _ []float64) hbin {
	var sum hbin
	vs = vs[:len(rows)]
	for i, r := range rows {
		margin[r] += float64(vs[i])
		g := float32(margin[r]) - y[r]
		gp[r] = gpair{g, 1}
		sum.g += float64(g)
	}
	sum.h = float64(len(rows))
	return sum
}

func (squaredError) baseMargin(s float64) float64 { return s }
func (squaredError) transform(m float64) float64  { return m }

func sigmoid(m float64) float64 { return 1 / (1 + math.Exp(-m)) }

// newObjective returns the objective named by p.
func newObjective(name string, scalePosWeight float64) (objective, error) {
	switch name {
	case ObjectiveBinaryLogistic:
		return logistic{posWeight: float32(scalePosWeight)}, nil
	case ObjectiveSquaredError:
		return squaredError{}, nil
	}
	return nil, fmt.Errorf("%w: objective %q", ErrInput, name)
}

// checkLabels verifies labels for the objective: finite, 0/1 for binary,
// and, unless constantOK, not all equal.
func checkLabels(name string, y []float32, constantOK bool) error {
	if len(y) == 0 {
		return fmt.Errorf("%w: no labels, want one per row", ErrInput)
	}
	for i, v := range y {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: label %d is %v, want a finite number", ErrInput, i, v)
		}
		if name == ObjectiveBinaryLogistic && v != 0 && v != 1 {
			return fmt.Errorf("%w: label %d is %v, want 0 or 1 for %s", ErrInput, i, v, name)
		}
	}
	if constantOK {
		return nil
	}
	for _, v := range y[1:] {
		if v != y[0] {
			return nil
		}
	}
	return fmt.Errorf("%w: every label is %v, want at least two distinct values", ErrInput, y[0])
}

// baseScore returns p.BaseScore, or the mean label when it is 0.
func baseScore(p Params, y []float32) float64 {
	if p.BaseScore != 0 {
		return p.BaseScore
	}
	var s float64
	for _, v := range y {
		s += float64(v)
	}
	mean := s / float64(len(y))
	if p.Objective == ObjectiveBinaryLogistic {
		mean = min(max(mean, 1e-6), 1-1e-6)
	}
	return mean
}
