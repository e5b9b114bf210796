package trainer

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/metrics"
)

// Holdout metric names written on a version.
const (
	MetricAUPRC   = "auprc"
	MetricROCAUC  = "roc_auc"
	MetricLogLoss = "log_loss"
	MetricRMSE    = "rmse"
	MetricMAE     = "mae"
	// MetricHoldoutRows and MetricTrainRows count the split.
	MetricHoldoutRows = "holdout_rows"
	MetricTrainRows   = "train_rows"
)

// score predicts every row of x (in the predictor's schema order).
func score(p predictor, x *frame.Frame) ([]float64, error) {
	out := make([]float64, x.NumRows())
	var row []float32
	for i := range out {
		row = x.Row(i, row)
		v, err := p.PredictRow(row)
		if err != nil {
			return nil, fmt.Errorf("predict row %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// isBinary reports whether every label is 0 or 1.
func isBinary(y []float32) bool {
	for _, v := range y {
		if v != 0 && v != 1 {
			return false
		}
	}
	return true
}

// quality computes the holdout metrics of predictions: ranking and
// calibration for 0/1 labels (log loss only for probabilities, not for
// anomaly scores), errors for other labels.
func quality(task string, y []float32, pred []float64) (map[string]float64, error) {
	yf := make([]float64, len(y))
	for i, v := range y {
		yf[i] = float64(v)
	}
	m := map[string]float64{}
	var err error
	if isBinary(y) {
		if m[MetricROCAUC], err = metrics.ROCAUC(yf, pred); err != nil {
			return nil, fmt.Errorf("holdout %s: %w", MetricROCAUC, err)
		}
		if m[MetricAUPRC], err = metrics.AveragePrecision(yf, pred); err != nil {
			return nil, fmt.Errorf("holdout %s: %w", MetricAUPRC, err)
		}
		if task == "binary" {
			if m[MetricLogLoss], err = metrics.LogLoss(yf, pred); err != nil {
				return nil, fmt.Errorf("holdout %s: %w", MetricLogLoss, err)
			}
		}
		return m, nil
	}
	if m[MetricRMSE], err = metrics.RMSE(yf, pred); err != nil {
		return nil, fmt.Errorf("holdout %s: %w", MetricRMSE, err)
	}
	if m[MetricMAE], err = metrics.MAE(yf, pred); err != nil {
		return nil, fmt.Errorf("holdout %s: %w", MetricMAE, err)
	}
	return m, nil
}

// remap re-encodes x (with schema from) into schema to: columns by name,
// categories by their text, so a champion trained on another encoding
// scores the candidate's holdout rows as its callers would send them.
// An input x lacks, or one whose type changed, is missing (NaN).
func remap(x *frame.Frame, from, to []artifact.Field) (*frame.Frame, error) {
	byName := make(map[string]int, len(from))
	for j, f := range from {
		byName[f.Name] = j
	}
	names := make([]string, len(to))
	cols := make([][]float32, len(to))
	for j, f := range to {
		names[j] = f.Name
		k, ok := byName[f.Name]
		switch {
		case !ok || (from[k].Type == frame.TypeCategory) != (f.Type == frame.TypeCategory):
			cols[j] = nanColumn(x.NumRows())
		case f.Type == frame.TypeCategory:
			cols[j] = recode(x.Cols[k], from[k].Categories, f.Categories)
		default:
			cols[j] = x.Cols[k]
		}
	}
	return frame.New(names, cols)
}

func nanColumn(n int) []float32 {
	c := make([]float32, n)
	for i := range c {
		c[i] = float32(math.NaN())
	}
	return c
}

func recode(col []float32, from, to []string) []float32 {
	code := make(map[string]float32, len(to))
	for i, c := range to {
		code[c] = float32(i)
	}
	out := make([]float32, len(col))
	for i, v := range col {
		out[i] = float32(math.NaN())
		if k := int(v); !math.IsNaN(float64(v)) && k >= 0 && k < len(from) {
			if c, ok := code[from[k]]; ok {
				out[i] = c
			}
		}
	}
	return out
}

// latencyP99 times single-row predictions over the rows of x, cycling
// until samples calls, and returns the 99th percentile in microseconds.
func latencyP99(p predictor, x *frame.Frame, samples int) (float64, error) {
	n := x.NumRows()
	if n == 0 {
		return 0, nil
	}
	var row []float32
	return p99Micros(samples, func(i int) error {
		row = x.Row(i%n, row)
		_, err := p.PredictRow(row)
		return err
	})
}

// p99Micros times samples calls of predict (with the call's number) and
// returns the 99th percentile in microseconds; 0 for no samples.
func p99Micros(samples int, predict func(i int) error) (float64, error) {
	if samples <= 0 {
		return 0, nil
	}
	took := make([]time.Duration, samples)
	for i := range took {
		start := time.Now()
		if err := predict(i); err != nil {
			return 0, fmt.Errorf("time predict: %w", err)
		}
		took[i] = time.Since(start)
	}
	slices.Sort(took)
	idx := int(math.Ceil(0.99*float64(samples))) - 1
	return float64(took[idx].Nanoseconds()) / 1e3, nil
}
