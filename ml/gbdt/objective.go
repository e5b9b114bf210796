package gbdt

import (
	"fmt"
	"math"
)

// gpair is one row's gradient and hessian of the loss at its current margin.
type gpair struct{ g, h float32 }

// objective turns labels and margins into gradient pairs and margins into
// predictions.
type objective interface {
	// gradients fills gp[i] for rows [lo, hi).
	gradients(y []float32, margin []float64, gp []gpair, lo, hi int)
	// gradientsAt fills gp[r] for the listed rows.
	gradientsAt(y []float32, margin []float64, gp []gpair, rows []int32)
	// baseMargin is the starting margin for base score s (a prediction).
	baseMargin(s float64) float64
	// transform maps a margin to a prediction.
	transform(m float64) float64
}

// logistic is binary:logistic: p = sigmoid(margin), log loss.
type logistic struct{ posWeight float32 }

func (o logistic) gradients(y []float32, margin []float64, gp []gpair, lo, hi int) {
	y, margin, gp = y[lo:hi], margin[lo:hi], gp[lo:hi]
	for i, m := range margin {
		p := float32(1 / (1 + fastExp(-m)))
		// Labels are 0 or 1, so the weight needs no (unpredictable) branch.
		w := 1 + (o.posWeight-1)*y[i]
		h := p * (1 - p)
		if h < 1e-16 { // rare, so predictable; max() would add NaN handling
			h = 1e-16
		}
		gp[i] = gpair{(p - y[i]) * w, h * w}
	}
}

func (o logistic) gradientsAt(y []float32, margin []float64, gp []gpair, rows []int32) {
	for _, r := range rows {
		p := float32(1 / (1 + fastExp(-margin[r])))
		w := 1 + (o.posWeight-1)*y[r]
		h := p * (1 - p)
		if h < 1e-16 {
			h = 1e-16
		}
		gp[r] = gpair{(p - y[r]) * w, h * w}
	}
}

// fastExp is e^x to about 1e-9 relative error for |x| <= 700, saturating
// outside: x = k·ln2 + r with |r| <= ln2/2, e^r by a degree-8 Taylor
// polynomial, 2^k put into the exponent bits. It is several times faster
// than math.Exp, and gradients need no more precision than float32.
func fastExp(x float64) float64 {
	x = min(max(x, -700), 700)
	k := math.Floor(x*math.Log2E + 0.5)
	r := x - k*0.6931471803691238 - k*1.9082149292705877e-10
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320))))))))
	return p * math.Float64frombits(uint64(int64(k)+1023)<<52)
}

func (logistic) baseMargin(s float64) float64 { return math.Log(s / (1 - s)) }
func (logistic) transform(m float64) float64  { return sigmoid(m) }

// squaredError is reg:squarederror: 0.5·(margin − y)².
type squaredError struct{}

func (squaredError) gradients(y []float32, margin []float64, gp []gpair, lo, hi int) {
	for i := lo; i < hi; i++ {
		gp[i] = gpair{float32(margin[i]) - y[i], 1}
	}
}

func (squaredError) gradientsAt(y []float32, margin []float64, gp []gpair, rows []int32) {
	for _, r := range rows {
		gp[r] = gpair{float32(margin[r]) - y[r], 1}
	}
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
