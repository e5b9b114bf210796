package gbdt

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
)

// Objectives that Train accepts.
const (
	ObjectiveBinaryLogistic = "binary:logistic"
	ObjectiveSquaredError   = "reg:squarederror"
	// ObjectiveSoftprob and ObjectiveSoftmax are multiclass softmax with
	// Params.NumClass classes (labels 0 … NumClass−1): each round grows one
	// tree per class. They train alike; as in XGBoost, a softprob model
	// predicts class probabilities and a softmax model the likeliest class.
	ObjectiveSoftprob = "multi:softprob"
	ObjectiveSoftmax  = "multi:softmax"
)

// isMulti reports whether obj is a multiclass objective.
func isMulti(obj string) bool { return obj == ObjectiveSoftprob || obj == ObjectiveSoftmax }

// maxClasses bounds Params.NumClass.
const maxClasses = 1 << 12

// Growth policies.
const (
	GrowDepthwise = "depthwise" // level by level, up to MaxDepth
	GrowLossguide = "lossguide" // best leaf first, up to MaxLeaves
)

// Validation metrics for early stopping.
const (
	MetricLogLoss  = "logloss"
	MetricAUC      = "auc"
	MetricRMSE     = "rmse"
	MetricMLogLoss = "mlogloss" // multiclass log loss
	MetricMError   = "merror"   // multiclass error rate
)

const (
	maxValueBinsLimit    = 255 // bin 255 would collide with a missing bin index
	maxFeatures          = 1 << 20
	defaultMaxSketchRows = 200_000
)

// Params controls training. Start from DefaultParams and change fields;
// names and meanings follow XGBoost's parameters of the same name.
type Params struct {
	// Objective is "binary:logistic" (labels 0/1), "reg:squarederror",
	// or "multi:softprob" / "multi:softmax" (labels 0 … NumClass−1).
	Objective string
	// NumClass is the number of classes of a multiclass objective, in
	// [2, 4096]; 0 for the others.
	NumClass int
	// NumRounds is the number of boosting rounds (trees), at least 1.
	NumRounds int
	// LearningRate (eta) shrinks every leaf, in (0, 1].
	LearningRate float64
	// MaxDepth limits tree depth; 0 means unlimited (lossguide only).
	MaxDepth int
	// MaxLeaves limits leaves per tree; 0 means unlimited.
	MaxLeaves int
	// GrowPolicy is "depthwise" (level by level) or "lossguide" (best leaf first).
	GrowPolicy string
	// MaxBin bounds the bins per feature, one of which holds missing values,
	// in [2, 256].
	MaxBin int
	// Lambda is the L2 regularisation on leaf weights, ≥ 0.
	Lambda float64
	// Alpha is the L1 regularisation on leaf weights, ≥ 0.
	Alpha float64
	// MinChildWeight is the least hessian sum a child may have, ≥ 0.
	MinChildWeight float64
	// MinSplitGain (gamma) is the least loss reduction a split must bring, ≥ 0.
	MinSplitGain float64
	// Subsample is the fraction of rows drawn for each tree, in (0, 1].
	Subsample float64
	// ColsampleByTree is the fraction of features drawn for each tree, in (0, 1].
	ColsampleByTree float64
	// ScalePosWeight multiplies the gradient of positive rows (binary only), > 0.
	ScalePosWeight float64
	// BaseScore is the initial prediction (a probability for binary); 0
	// means the mean label, clamped to (0, 1) for binary. For multiclass
	// it is every class's starting margin (0 by default; a shift common to
	// all classes does not change the softmax).
	BaseScore float64
	// EarlyStoppingRounds stops training when the validation metric has not
	// improved for this many rounds; 0 disables it. Needs a validation set.
	// The model keeps the trees up to the best round.
	EarlyStoppingRounds int
	// EvalMetric is "logloss", "auc" or "rmse"; "" means logloss for binary
	// and rmse for regression.
	EvalMetric string
	// Threads is the number of goroutines; 0 means runtime.GOMAXPROCS(0).
	// Models are identical for the same Seed and Threads.
	Threads int
	// Seed drives row and column sampling and the binning sample.
	Seed uint64
}

// DefaultParams returns XGBoost's defaults for the hist method: 100 rounds,
// eta 0.3, depth 6, 256 bins, lambda 1, min_child_weight 1.
func DefaultParams() Params {
	return Params{
		Objective:       ObjectiveBinaryLogistic,
		NumRounds:       100,
		LearningRate:    0.3,
		MaxDepth:        6,
		GrowPolicy:      GrowDepthwise,
		MaxBin:          256,
		Lambda:          1,
		MinChildWeight:  1,
		Subsample:       1,
		ColsampleByTree: 1,
		ScalePosWeight:  1,
	}
}

// Validate reports every invalid field at once.
func (p Params) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInput}, args...)...))
	}
	switch {
	case isMulti(p.Objective):
		if p.NumClass < 2 || p.NumClass > maxClasses {
			bad("num_class %d for %s, want in [2, %d]", p.NumClass, p.Objective, maxClasses)
		}
		if p.ScalePosWeight != 1 {
			bad("scale_pos_weight %v for %s, want 1 (binary only)", p.ScalePosWeight, p.Objective)
		}
	case p.Objective == ObjectiveBinaryLogistic || p.Objective == ObjectiveSquaredError:
		if p.NumClass > 1 {
			bad("num_class %d for %s, want 0 (multiclass objectives only)", p.NumClass, p.Objective)
		}
	default:
		bad("objective %q, want %q, %q, %q or %q", p.Objective, ObjectiveBinaryLogistic, ObjectiveSquaredError,
			ObjectiveSoftprob, ObjectiveSoftmax)
	}
	if p.NumRounds < 1 {
		bad("num_rounds %d, want ≥ 1", p.NumRounds)
	}
	if !(p.LearningRate > 0 && p.LearningRate <= 1) {
		bad("learning_rate %v, want in (0, 1]", p.LearningRate)
	}
	if p.GrowPolicy != GrowDepthwise && p.GrowPolicy != GrowLossguide {
		bad("grow_policy %q, want %q or %q", p.GrowPolicy, GrowDepthwise, GrowLossguide)
	}
	if p.MaxDepth < 0 || (p.MaxDepth == 0 && p.GrowPolicy == GrowDepthwise) {
		bad("max_depth %d, want ≥ 1 (0 only with lossguide)", p.MaxDepth)
	}
	if p.MaxLeaves < 0 || p.MaxLeaves == 1 {
		bad("max_leaves %d, want 0 (unlimited) or ≥ 2", p.MaxLeaves)
	}
	if p.MaxBin < 2 || p.MaxBin > maxValueBinsLimit+1 {
		bad("max_bin %d, want in [2, 256]", p.MaxBin)
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"lambda", p.Lambda}, {"alpha", p.Alpha}, {"min_child_weight", p.MinChildWeight}, {"min_split_gain", p.MinSplitGain}} {
		if !(c.v >= 0) || math.IsInf(c.v, 0) {
			bad("%s %v, want finite ≥ 0", c.name, c.v)
		}
	}
	if !(p.Subsample > 0 && p.Subsample <= 1) {
		bad("subsample %v, want in (0, 1]", p.Subsample)
	}
	if !(p.ColsampleByTree > 0 && p.ColsampleByTree <= 1) {
		bad("colsample_bytree %v, want in (0, 1]", p.ColsampleByTree)
	}
	if !(p.ScalePosWeight > 0) || math.IsInf(p.ScalePosWeight, 0) {
		bad("scale_pos_weight %v, want finite > 0", p.ScalePosWeight)
	}
	if math.IsNaN(p.BaseScore) || math.IsInf(p.BaseScore, 0) ||
		(p.Objective == ObjectiveBinaryLogistic && (p.BaseScore < 0 || p.BaseScore >= 1)) {
		bad("base_score %v, want 0 (estimate) or a finite value (in (0, 1) for binary)", p.BaseScore)
	}
	if p.EarlyStoppingRounds < 0 {
		bad("early_stopping_rounds %d, want ≥ 0", p.EarlyStoppingRounds)
	}
	switch m := p.EvalMetric; {
	case m == "":
	case isMulti(p.Objective) && m != MetricMLogLoss && m != MetricMError:
		bad("eval_metric %q for %s, want mlogloss or merror", m, p.Objective)
	case !isMulti(p.Objective) && m != MetricLogLoss && m != MetricAUC && m != MetricRMSE:
		bad("eval_metric %q, want logloss, auc or rmse", m)
	}
	if p.Threads < 0 {
		bad("threads %d, want ≥ 0", p.Threads)
	}
	return errors.Join(errs...)
}

// threads returns the effective goroutine count.
func (p Params) threads() int {
	if p.Threads > 0 {
		return p.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// metric returns the effective evaluation metric.
func (p Params) metric() string {
	if p.EvalMetric != "" {
		return p.EvalMetric
	}
	switch {
	case p.Objective == ObjectiveBinaryLogistic:
		return MetricLogLoss
	case isMulti(p.Objective):
		return MetricMLogLoss
	}
	return MetricRMSE
}

// asMap renders the parameters for an artifact header.
func (p Params) asMap() map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return map[string]string{
		"objective": p.Objective, "num_class": strconv.Itoa(p.NumClass), "num_rounds": strconv.Itoa(p.NumRounds),
		"learning_rate": f(p.LearningRate), "max_depth": strconv.Itoa(p.MaxDepth),
		"max_leaves": strconv.Itoa(p.MaxLeaves), "grow_policy": p.GrowPolicy,
		"max_bin": strconv.Itoa(p.MaxBin), "lambda": f(p.Lambda), "alpha": f(p.Alpha),
		"min_child_weight": f(p.MinChildWeight), "min_split_gain": f(p.MinSplitGain),
		"subsample": f(p.Subsample), "colsample_bytree": f(p.ColsampleByTree),
		"scale_pos_weight": f(p.ScalePosWeight), "base_score": f(p.BaseScore),
		"early_stopping_rounds": strconv.Itoa(p.EarlyStoppingRounds),
		"eval_metric":           p.metric(), "threads": strconv.Itoa(p.threads()),
		"seed": strconv.FormatUint(p.Seed, 10),
	}
}
