// Package linear fits binary logistic regression with an L2 or L1 penalty and
// class weights, by L-BFGS (OWL-QN for L1) or Newton's method.
//
// Inputs are standardised inside the model (mean 0, population standard
// deviation 1, as scikit-learn's StandardScaler) and the standardisation is
// saved with it, so callers pass raw features both when fitting and when
// predicting. A missing value (NaN) is imputed with the training mean, that
// is, it contributes nothing to the margin.
//
// The objective matches scikit-learn's LogisticRegression with the same C:
// ||w||²/2 + C·Σ weight_i·loss_i for L2 and ||w||₁ + C·Σ weight_i·loss_i for
// L1, with an unpenalised intercept. Fitting is deterministic: the same data
// and Config give bit-identical models whatever Config.Workers is.
//
// A fitted Model is immutable and safe for concurrent use.
package linear

import (
	"fmt"
	"math"

	"github.com/plinthai/plinth/ml/frame"
)

// Model is a fitted logistic regression. Its exported fields are read-only
// after Fit or Load.
type Model struct {
	// Names are the input columns, in the order of Mean, Scale and Coef.
	Names []string
	// Mean and Scale standardise column j as (x - Mean[j]) / Scale[j].
	Mean, Scale []float64
	// Coef are the coefficients on the standardised columns.
	Coef []float64
	// Intercept is the margin of a row at the training means.
	Intercept float64
	// Iter and Converged report how the optimiser ended.
	Iter      int
	Converged bool
}

// Fit fits a model to the columns of x and the 0/1 labels y. It returns an
// error wrapping ErrInput when x is empty, y does not match it, a label is
// not 0 or 1, only one class is present, a value is infinite, or cfg is
// invalid. Not converging within MaxIter is not an error: see Converged.
func Fit(x *frame.Frame, y []float64, cfg Config) (*Model, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkData(x, y); err != nil {
		return nil, err
	}
	mean, scale, err := standardise(x)
	if err != nil {
		return nil, err
	}
	useNewton := cfg.Solver == Newton || (cfg.Solver == Auto && cfg.Penalty == L2 && x.NumCols() <= NewtonMaxFeatures)
	p := newProblem(x, y, mean, scale, cfg, !useNewton)
	theta := make([]float64, p.d+1)
	// The problem is scaled by 1/(C·W); so are the gradient tolerances.
	objScale := cfg.C * totalWeight(y, cfg)
	tol := cfg.Tol / objScale
	var res result
	if useNewton {
		res = newton(p, theta, cfg.MaxIter, tol, cfg.FTol)
	} else {
		var l1 float64
		if cfg.Penalty == L1 {
			l1 = 1 / objScale
		}
		res = owlqn(p, theta, l1, cfg.MaxIter, tol, cfg.FTol)
	}
	return &Model{
		Names: append([]string(nil), x.Names...), Mean: mean, Scale: scale,
		Coef: theta[:p.d], Intercept: theta[p.d], Iter: res.Iter, Converged: res.Converged,
	}, nil
}

// totalWeight returns Σ class weight over rows.
func totalWeight(y []float64, cfg Config) float64 {
	cw := classWeights(y, cfg)
	var t float64
	for _, yi := range y {
		t += cw[int(yi)]
	}
	return t
}

// checkData validates the frame and labels.
func checkData(x *frame.Frame, y []float64) error {
	if x == nil || x.NumCols() == 0 || x.NumRows() == 0 {
		return fmt.Errorf("%w: no data", ErrInput)
	}
	if len(y) != x.NumRows() {
		return fmt.Errorf("%w: %d labels for %d rows", ErrInput, len(y), x.NumRows())
	}
	for j, c := range x.Cols {
		if len(c) != len(y) {
			return fmt.Errorf("%w: column %q has %d rows, want %d", ErrInput, x.Names[j], len(c), len(y))
		}
	}
	var seen [2]bool
	for i, v := range y {
		if v != 0 && v != 1 {
			return fmt.Errorf("%w: label %d is %v, want 0 or 1", ErrInput, i, v)
		}
		seen[int(v)] = true
	}
	if !seen[0] || !seen[1] {
		return fmt.Errorf("%w: labels hold one class only", ErrInput)
	}
	return nil
}

// NumFeatures returns the number of input columns.
func (m *Model) NumFeatures() int { return len(m.Names) }

// RawCoefficients returns the coefficients and intercept in the units of the
// raw (unstandardised) inputs.
func (m *Model) RawCoefficients() (coef []float64, intercept float64) {
	coef = make([]float64, len(m.Coef))
	intercept = m.Intercept
	for j, w := range m.Coef {
		coef[j] = w / m.Scale[j]
		intercept -= coef[j] * m.Mean[j]
	}
	return coef, intercept
}

// Margin returns the log-odds of one row given in the order of Names. It
// does not allocate. It returns an error if len(row) is not NumFeatures.
func (m *Model) Margin(row []float32) (float64, error) {
	if len(row) != len(m.Coef) {
		return 0, fmt.Errorf("%w: row has %d values, model wants %d", ErrInput, len(row), len(m.Coef))
	}
	z := m.Intercept
	for j, v := range row {
		if v == v {
			z += m.Coef[j] * (float64(v) - m.Mean[j]) / m.Scale[j]
		}
	}
	return z, nil
}

// PredictRow returns P(y = 1) for one row given in the order of Names.
func (m *Model) PredictRow(row []float32) (float64, error) {
	z, err := m.Margin(row)
	if err != nil {
		return 0, err
	}
	return sigmoid(z), nil
}

// PredictProba writes P(y = 1) for every row of x into dst (grown as needed)
// and returns it. Columns are matched by name, so x may hold extra columns in
// any order; a missing column is an error. Beyond dst it allocates one
// slice of column headers per call, nothing per row.
func (m *Model) PredictProba(x *frame.Frame, dst []float64) ([]float64, error) {
	cols, err := m.columns(x)
	if err != nil {
		return nil, err
	}
	n := x.NumRows()
	dst = grow(dst, n)
	for i := range dst {
		dst[i] = m.Intercept
	}
	for j, col := range cols {
		w, mu, inv := m.Coef[j], m.Mean[j], 1/m.Scale[j]
		if w == 0 {
			continue
		}
		for i, v := range col[:n] {
			if v == v {
				dst[i] += w * (float64(v) - mu) * inv
			}
		}
	}
	for i, z := range dst {
		dst[i] = sigmoid(z)
	}
	return dst, nil
}

// columns returns x's columns in the model's order.
func (m *Model) columns(x *frame.Frame) ([][]float32, error) {
	cols, err := x.Columns(m.Names)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	return cols, nil
}

func grow(dst []float64, n int) []float64 {
	if cap(dst) < n {
		return make([]float64, n)
	}
	return dst[:n]
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
