package gbdt

import (
	"fmt"
	"math"

	"github.com/plinthai/plinth/ml/metrics"
)

// validator tracks the validation metric and early stopping.
type validator struct {
	d       *Data
	metric  string
	obj     objective
	buf     []float32 // row-major copy of the validation rows
	margin  []float32 // per row, or per row and class (row-major) for multiclass
	classes int
	y, pred []float64
	history []float64
	best    int // round of the best metric so far
}

// newValidator checks the validation set against the training features.
func newValidator(d *Data, m *Model, p Params) (*validator, error) {
	// A constant validation label is fine for logloss and rmse, not for AUC.
	if err := d.check("valid", p.Objective, p.metric() != MetricAUC); err != nil {
		return nil, err
	}
	if err := m.checkFrame(d.X); err != nil {
		return nil, fmt.Errorf("valid: %w", err)
	}
	k := m.NumClass()
	if k > 1 {
		if err := checkClassLabels(d.Y, k); err != nil {
			return nil, fmt.Errorf("valid: %w", err)
		}
	}
	obj, _ := newObjective(p.Objective, 1) // nil for multiclass
	n, nf := d.X.NumRows(), d.X.NumCols()
	v := &validator{d: d, metric: p.metric(), obj: obj, buf: make([]float32, n*nf), classes: k,
		margin: make([]float32, n*k), y: make([]float64, n), pred: make([]float64, n)}
	for f, col := range d.X.Cols {
		for i, x := range col {
			v.buf[i*nf+f] = x
		}
	}
	for i := range v.y {
		v.y[i] = float64(d.Y[i])
	}
	return v, nil
}

// reset starts every validation row at the model's base margins.
func (v *validator) reset(m *Model) {
	for i := range v.margin {
		if m.classes != nil {
			v.margin[i] = m.classes[i%v.classes].baseMargin
		} else {
			v.margin[i] = m.baseMargin
		}
	}
}

// observe adds the newest tree to the validation margins, records the
// metric, and reports whether training should stop.
func (v *validator) observe(m *Model, patience int) bool {
	nf := m.NumFeatures()
	var score float64
	if m.classes != nil {
		for i := range v.y {
			row := v.buf[i*nf : (i+1)*nf]
			for c, cm := range m.classes {
				v.margin[i*v.classes+c] += cm.tree(len(cm.roots)-1, row)
			}
		}
		score = multiMetric(v.metric, v.y, v.margin, v.classes)
	} else {
		for i := range v.margin {
			v.margin[i] += m.tree(len(m.roots)-1, v.buf[i*nf:(i+1)*nf])
			v.pred[i] = v.obj.transform(float64(v.margin[i]))
		}
		score = v.score()
	}
	v.history = append(v.history, score)
	round := len(v.history) - 1
	if v.better(score, v.history[v.best]) || round == 0 {
		v.best = round
	}
	return patience > 0 && round-v.best >= patience
}

// score computes the metric on the current predictions.
func (v *validator) score() float64 {
	var s float64
	var err error
	switch v.metric {
	case MetricAUC:
		s, err = metrics.ROCAUC(v.y, v.pred)
	case MetricLogLoss:
		s, err = metrics.LogLoss(v.y, v.pred)
	default:
		s, err = metrics.RMSE(v.y, v.pred)
	}
	if err != nil {
		return math.NaN()
	}
	return s
}

// better reports whether metric a beats b (AUC up, losses down).
func (v *validator) better(a, b float64) bool {
	if v.metric == MetricAUC {
		return a > b
	}
	if math.IsNaN(b) {
		return !math.IsNaN(a)
	}
	return a < b
}
