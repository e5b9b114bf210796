package linear

import (
	"errors"
	"fmt"
	"math"
)

// Penalty selects the regulariser on the coefficients. The intercept is
// never penalised.
type Penalty int

const (
	// L2 adds ||w||²/2, scaled as in scikit-learn: the fitted model
	// minimises ||w||²/2 + C·Σ weight_i·loss_i.
	L2 Penalty = iota
	// L1 adds ||w||₁: the fitted model minimises ||w||₁ + C·Σ weight_i·loss_i.
	// It drives weak coefficients to exactly zero.
	L1
)

// String returns "l2" or "l1".
func (p Penalty) String() string {
	switch p {
	case L2:
		return "l2"
	case L1:
		return "l1"
	}
	return fmt.Sprintf("penalty(%d)", int(p))
}

// Solver selects the optimiser.
type Solver int

const (
	// Auto picks Newton for L2 problems of at most NewtonMaxFeatures inputs,
	// where its O(n·d²) iterations are cheap and few, and L-BFGS otherwise.
	Auto Solver = iota
	// LBFGS is limited-memory BFGS (OWL-QN when the penalty is L1). It costs
	// O(n·d) per iteration and suits any width.
	LBFGS Solver = iota
	// Newton is Newton's method with a line search. It costs O(n·d²) per
	// iteration and converges in a handful of them; L2 only.
	Newton
)

// String returns "lbfgs" or "newton".
func (s Solver) String() string {
	switch s {
	case Auto:
		return "auto"
	case LBFGS:
		return "lbfgs"
	case Newton:
		return "newton"
	}
	return fmt.Sprintf("solver(%d)", int(s))
}

// NewtonMaxFeatures is the widest problem Auto gives to Newton's method.
const NewtonMaxFeatures = 64

// Defaults used when a Config field is zero.
const (
	DefaultC       = 1.0
	DefaultMaxIter = 1000
	DefaultTol     = 1e-4
	// DefaultFTol stops the optimiser when an iteration lowers the objective
	// by less than this fraction of it: SciPy's L-BFGS-B default (factr 1e7
	// times machine epsilon), which scikit-learn's lbfgs solver uses.
	DefaultFTol = 1e7 * 2.220446049250313e-16
)

// Config holds the fitting parameters. The zero value is valid: L2 with
// C = 1, automatic solver, unit class weights.
type Config struct {
	// C is the inverse regularisation strength (> 0); zero means DefaultC.
	C       float64
	Penalty Penalty
	Solver  Solver
	// ClassWeight multiplies the loss of rows of class 0 and class 1. Zero
	// entries mean 1. Ignored when Balanced is set.
	ClassWeight [2]float64
	// Balanced weights class c by n / (2·n_c), as scikit-learn's
	// class_weight="balanced".
	Balanced bool
	// MaxIter bounds the optimiser's iterations; zero means DefaultMaxIter.
	MaxIter int
	// Tol stops the optimiser when the largest (pseudo-)gradient entry of
	// the objective above (C·Σ weight·loss plus the penalty) falls to it,
	// as scikit-learn's tol for lbfgs; zero means DefaultTol.
	Tol float64
	// FTol stops the optimiser when one iteration lowers the objective by
	// less than FTol times its value; zero means DefaultFTol.
	FTol float64
	// Workers is the number of goroutines that evaluate the loss; zero or
	// less means one. Results do not depend on it.
	Workers int
}

// ErrInput is wrapped by every error caused by the caller's data or
// configuration.
var ErrInput = errors.New("linear: bad input")

// withDefaults returns c with zero fields replaced by their defaults, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.C == 0 {
		c.C = DefaultC
	}
	if c.MaxIter == 0 {
		c.MaxIter = DefaultMaxIter
	}
	if c.Tol == 0 {
		c.Tol = DefaultTol
	}
	if c.FTol == 0 {
		c.FTol = DefaultFTol
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	var errs []error
	if !(c.C > 0) || math.IsInf(c.C, 0) {
		errs = append(errs, fmt.Errorf("%w: C is %v, want a finite value > 0", ErrInput, c.C))
	}
	if c.MaxIter < 0 {
		errs = append(errs, fmt.Errorf("%w: MaxIter is %d, want ≥ 0", ErrInput, c.MaxIter))
	}
	if !(c.Tol > 0) || !(c.FTol > 0) {
		errs = append(errs, fmt.Errorf("%w: Tol is %v and FTol %v, want both > 0", ErrInput, c.Tol, c.FTol))
	}
	if c.Penalty != L1 && c.Penalty != L2 {
		errs = append(errs, fmt.Errorf("%w: unknown penalty %d", ErrInput, int(c.Penalty)))
	}
	if c.Solver != Auto && c.Solver != LBFGS && c.Solver != Newton {
		errs = append(errs, fmt.Errorf("%w: unknown solver %d", ErrInput, int(c.Solver)))
	}
	if c.Solver == Newton && c.Penalty == L1 {
		errs = append(errs, fmt.Errorf("%w: the Newton solver supports the L2 penalty only", ErrInput))
	}
	for k, w := range c.ClassWeight {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			errs = append(errs, fmt.Errorf("%w: ClassWeight[%d] is %v, want a finite value ≥ 0", ErrInput, k, w))
		}
	}
	return c, errors.Join(errs...)
}
