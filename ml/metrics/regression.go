package metrics

import (
	"fmt"
	"math"
)

func checkReg(y, pred []float64) error {
	if len(y) == 0 {
		return fmt.Errorf("%w: no rows", ErrInput)
	}
	if len(y) != len(pred) {
		return fmt.Errorf("%w: %d targets but %d predictions", ErrInput, len(y), len(pred))
	}
	for i := range y {
		if math.IsNaN(y[i]) || math.IsNaN(pred[i]) {
			return fmt.Errorf("%w: row %d has NaN", ErrInput, i)
		}
	}
	return nil
}

// RMSE returns the root mean squared error of pred against y.
func RMSE(y, pred []float64) (float64, error) {
	if err := checkReg(y, pred); err != nil {
		return 0, err
	}
	var s float64
	for i := range y {
		d := y[i] - pred[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(y))), nil
}

// MAE returns the mean absolute error of pred against y.
func MAE(y, pred []float64) (float64, error) {
	if err := checkReg(y, pred); err != nil {
		return 0, err
	}
	var s float64
	for i := range y {
		s += math.Abs(y[i] - pred[i])
	}
	return s / float64(len(y)), nil
}
