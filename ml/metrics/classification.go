// Package metrics computes model-quality measures: classification (ROC-AUC,
// average precision, log loss, accuracy, precision and recall at a
// threshold), regression (RMSE, MAE) and ranking (hit rate, NDCG, recall and
// MAP at k). Definitions follow scikit-learn's, so figures compare one to one.
//
// Functions never modify their inputs and are safe for concurrent use. Bad
// input (empty, mismatched lengths, NaN, a single class where two are
// needed) is an error wrapping ErrInput that says what was expected.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// ErrInput is wrapped by every error caused by the caller's data.
var ErrInput = errors.New("metrics: bad input")

// checkPair validates a label and score slice pair for binary metrics.
func checkPair(y, score []float64) error {
	if len(y) == 0 {
		return fmt.Errorf("%w: no rows", ErrInput)
	}
	if len(y) != len(score) {
		return fmt.Errorf("%w: %d labels but %d scores", ErrInput, len(y), len(score))
	}
	for i := range y {
		if y[i] != 0 && y[i] != 1 {
			return fmt.Errorf("%w: label %d is %v, want 0 or 1", ErrInput, i, y[i])
		}
		if math.IsNaN(score[i]) {
			return fmt.Errorf("%w: score %d is NaN", ErrInput, i)
		}
	}
	return nil
}

// order returns row indices sorted by descending score (stable).
func order(score []float64) []int {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] > score[idx[b]] })
	return idx
}

// ROCAUC returns the area under the ROC curve for 0/1 labels y and scores.
// Tied scores count one half, as in the Mann–Whitney U statistic. Both
// classes must be present.
func ROCAUC(y, score []float64) (float64, error) {
	if err := checkPair(y, score); err != nil {
		return 0, err
	}
	idx := order(score)
	var pos, neg, area float64
	// Walk groups of tied scores from highest to lowest; each negative in a
	// group ranks below all positives seen before and ties with the group's.
	for i := 0; i < len(idx); {
		j := i
		var gp, gn float64
		for ; j < len(idx) && score[idx[j]] == score[idx[i]]; j++ {
			if y[idx[j]] == 1 {
				gp++
			} else {
				gn++
			}
		}
		area += gn * (pos + gp/2)
		pos += gp
		neg += gn
		i = j
	}
	if pos == 0 || neg == 0 {
		return 0, fmt.Errorf("%w: ROC-AUC needs both classes, got %v positives and %v negatives", ErrInput, pos, neg)
	}
	return area / (pos * neg), nil
}

// AveragePrecision returns the area under the precision–recall curve as
// scikit-learn's average_precision_score computes it: the sum over distinct
// thresholds of (R_n − R_{n−1})·P_n. At least one positive is required.
func AveragePrecision(y, score []float64) (float64, error) {
	if err := checkPair(y, score); err != nil {
		return 0, err
	}
	var totalPos float64
	for _, v := range y {
		totalPos += v
	}
	if totalPos == 0 {
		return 0, fmt.Errorf("%w: average precision needs at least one positive", ErrInput)
	}
	idx := order(score)
	var tp, seen, ap, prevRecall float64
	for i := 0; i < len(idx); {
		j := i
		for ; j < len(idx) && score[idx[j]] == score[idx[i]]; j++ {
			tp += y[idx[j]]
			seen++
		}
		recall := tp / totalPos
		ap += (recall - prevRecall) * (tp / seen)
		prevRecall = recall
		i = j
	}
	return ap, nil
}

// LogLoss returns the mean negative log-likelihood of 0/1 labels under
// predicted probabilities p, clipping p to [1e-15, 1−1e-15].
func LogLoss(y, p []float64) (float64, error) {
	if err := checkPair(y, p); err != nil {
		return 0, err
	}
	const eps = 1e-15
	var sum float64
	for i := range y {
		q := min(max(p[i], eps), 1-eps)
		if y[i] == 1 {
			sum -= math.Log(q)
		} else {
			sum -= math.Log(1 - q)
		}
	}
	return sum / float64(len(y)), nil
}

// Accuracy returns the share of rows where (p ≥ threshold) equals the label.
func Accuracy(y, p []float64, threshold float64) (float64, error) {
	c, err := Confusion(y, p, threshold)
	if err != nil {
		return 0, err
	}
	return (c.TP + c.TN) / float64(len(y)), nil
}

// ConfusionCounts holds the four cells of a binary confusion matrix.
type ConfusionCounts struct{ TP, FP, TN, FN float64 }

// Precision returns TP/(TP+FP), or 0 when nothing was predicted positive.
func (c ConfusionCounts) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 0
	}
	return c.TP / (c.TP + c.FP)
}

// Recall returns TP/(TP+FN), or 0 when there are no positives.
func (c ConfusionCounts) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 0
	}
	return c.TP / (c.TP + c.FN)
}

// Confusion counts predictions p ≥ threshold against 0/1 labels y.
func Confusion(y, p []float64, threshold float64) (ConfusionCounts, error) {
	var c ConfusionCounts
	if err := checkPair(y, p); err != nil {
		return c, err
	}
	for i := range y {
		switch pred := p[i] >= threshold; {
		case pred && y[i] == 1:
			c.TP++
		case pred:
			c.FP++
		case y[i] == 1:
			c.FN++
		default:
			c.TN++
		}
	}
	return c, nil
}

// PrecisionRecall returns precision and recall at the given threshold.
func PrecisionRecall(y, p []float64, threshold float64) (precision, recall float64, err error) {
	c, err := Confusion(y, p, threshold)
	if err != nil {
		return 0, 0, err
	}
	return c.Precision(), c.Recall(), nil
}
