package trainer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/gbdt"
	"github.com/plinthai/plinth/ml/iforest"
	"github.com/plinthai/plinth/ml/linear"
	"github.com/plinthai/plinth/ml/mf"
)

// predictor scores one encoded row in its schema's order. Every ml/ model
// the trainer handles is one, trained here or loaded from a champion.
type predictor interface {
	PredictRow(row []float32) (float64, error)
}

// model is a trained candidate: a predictor that can save itself.
type model interface {
	predictor
	Save(w io.Writer, h artifact.Header) error
}

// trainSet is what a learner fits on.
type trainSet struct {
	x      *frame.Frame
	y      []float32
	schema []artifact.Field
}

// learner fits one algorithm from a job's params.
type learner func(ctx context.Context, d trainSet, params map[string]string) (model, string, error)

// learners maps the algorithms the trainer supports to their fitting
// function; the second result of each is the artifact task.
var learners = map[string]learner{
	"gbdt":    fitGBDT,
	"linear":  fitLinear,
	"iforest": fitIForest,
}

// rankers maps the recommender algorithms the trainer supports to their
// params reader; they train on interactions rather than rows (see
// runRanker in learner_mf.go).
var rankers = map[string]ranker{
	mf.KindALS: alsRanker,
}

// params reads a job's string params, remembering the first error; every
// key must be consumed, so a typo is an error rather than a silent default.
type params struct {
	m    map[string]string
	used map[string]bool
	err  error
}

func newParams(m map[string]string) *params { return &params{m: m, used: map[string]bool{}} }

func (p *params) float(key string, dst *float64) {
	if v, ok := p.m[key]; ok {
		p.used[key] = true
		f, err := strconv.ParseFloat(v, 64)
		if err != nil && p.err == nil {
			p.err = problem.Field("params."+key, "%q is not a number", v)
		}
		*dst = f
	}
}

func (p *params) int(key string, dst *int) {
	if v, ok := p.m[key]; ok {
		p.used[key] = true
		n, err := strconv.Atoi(v)
		if err != nil && p.err == nil {
			p.err = problem.Field("params."+key, "%q is not an integer", v)
		}
		*dst = n
	}
}

func (p *params) str(key string, dst *string) {
	if v, ok := p.m[key]; ok {
		p.used[key] = true
		*dst = v
	}
}

// done returns the first parse error or the first unknown key. Keys the
// trainer itself reads (splitting, seeds) are skipped.
func (p *params) done() error {
	if p.err != nil {
		return p.err
	}
	for k := range p.m {
		if !p.used[k] && !trainerParams[k] {
			return problem.Field("params."+k, "not a parameter of this algorithm")
		}
	}
	return nil
}

// trainerParams are params the trainer reads, not the learner.
var trainerParams = map[string]bool{ParamTimeColumn: true, ParamSeed: true}

// Params the trainer itself reads from a job.
const (
	// ParamTimeColumn names a column that orders rows in time for the
	// time split; it is not a model input. Without it, file order is
	// time order.
	ParamTimeColumn = "time_column"
	// ParamSeed seeds the random split.
	ParamSeed = "seed"
)

func fitGBDT(ctx context.Context, d trainSet, m map[string]string) (model, string, error) {
	gp := gbdt.DefaultParams()
	gp.Objective = gbdt.ObjectiveBinaryLogistic
	p := newParams(m)
	p.str("objective", &gp.Objective)
	p.int("num_rounds", &gp.NumRounds)
	p.float("learning_rate", &gp.LearningRate)
	p.int("max_depth", &gp.MaxDepth)
	p.int("max_leaves", &gp.MaxLeaves)
	p.int("max_bin", &gp.MaxBin)
	p.float("lambda", &gp.Lambda)
	p.float("min_child_weight", &gp.MinChildWeight)
	p.float("subsample", &gp.Subsample)
	p.float("colsample_bytree", &gp.ColsampleByTree)
	p.float("scale_pos_weight", &gp.ScalePosWeight)
	p.int("threads", &gp.Threads)
	if err := p.done(); err != nil {
		return nil, "", err
	}
	if err := gp.Validate(); err != nil {
		return nil, "", problem.Field("params", "%v", err)
	}
	mod, err := gbdt.Train(ctx, gbdt.Data{X: d.x, Y: d.y, Schema: d.schema}, nil, gp)
	if err != nil {
		return nil, "", fmt.Errorf("train gbdt: %w", err)
	}
	return gbdtModel{mod}, mod.Task(), nil
}

// gbdtModel predicts the objective's value: a probability or a value.
type gbdtModel struct{ *gbdt.Model }

func (g gbdtModel) PredictRow(row []float32) (float64, error) {
	return g.Model.PredictRow(row, gbdt.OutputValue)
}

func fitLinear(_ context.Context, d trainSet, m map[string]string) (model, string, error) {
	var cfg linear.Config
	p := newParams(m)
	p.float("c", &cfg.C)
	p.int("max_iter", &cfg.MaxIter)
	balanced := ""
	p.str("balanced", &balanced)
	cfg.Balanced = balanced == "true"
	if err := p.done(); err != nil {
		return nil, "", err
	}
	y := make([]float64, len(d.y))
	for i, v := range d.y {
		y[i] = float64(v)
	}
	mod, err := linear.Fit(d.x, y, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("train linear: %w", err)
	}
	return linearModel{mod, d.schema}, "binary", nil
}

// linearModel keeps the schema, which linear's own Save does not know.
type linearModel struct {
	*linear.Model
	schema []artifact.Field
}

func (l linearModel) Save(w io.Writer, h artifact.Header) error {
	h.Schema = l.schema
	return l.Model.Save(w, h)
}

func fitIForest(_ context.Context, d trainSet, m map[string]string) (model, string, error) {
	var cfg iforest.Config
	p := newParams(m)
	p.int("num_trees", &cfg.NumTrees)
	p.int("sample_size", &cfg.SampleSize)
	p.float("contamination", &cfg.Contamination)
	if err := p.done(); err != nil {
		return nil, "", err
	}
	mod, err := iforest.Fit(d.x, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("train iforest: %w", err)
	}
	return iforestModel{mod, d.schema}, "anomaly", nil
}

type iforestModel struct {
	*iforest.Model
	schema []artifact.Field
}

func (f iforestModel) PredictRow(row []float32) (float64, error) { return f.ScoreRow(row) }

func (f iforestModel) Save(w io.Writer, h artifact.Header) error {
	h.Schema = f.schema
	return f.Model.Save(w, h)
}

// loadPredictor reads a champion's artifact of any kind the trainer knows.
func loadPredictor(data []byte) (predictor, artifact.Header, error) {
	h, _, err := artifact.Unmarshal(data, artifact.Limits{})
	if err != nil {
		return nil, h, err
	}
	r := bytes.NewReader(data)
	switch h.Kind {
	case gbdt.Kind:
		m, h, err := gbdt.Load(r, artifact.Limits{})
		return gbdtModel{m}, h, err
	case linear.Kind:
		m, h, err := linear.Load(r)
		return m, h, err
	case iforest.Kind:
		m, h, err := iforest.Load(r)
		return iforestModel{Model: m}, h, err
	}
	return nil, h, fmt.Errorf("champion artifact kind %q cannot be scored by the trainer", h.Kind)
}
