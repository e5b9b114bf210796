package monitor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/plinthai/plinth/internal/platform/config"
	"github.com/plinthai/plinth/internal/wire"
)

// Tasks a model's rules can name.
const (
	TaskClassifier  = "classifier"
	TaskRecommender = "recommender"
)

// Quality metrics, the names used in rules, verdicts and metric labels.
const (
	MetricROCAUC       = "roc_auc"
	MetricAUPRC        = "auprc"
	MetricPrecisionAtK = "precision_at_k"
	MetricHRAt10       = "hr_at_10"
	MetricNDCGAt10     = "ndcg_at_10"
)

// Retrain triggers.
const (
	TriggerDecay = "decay"
	TriggerDrift = "drift"
)

// maxRulesBytes bounds the rules file.
const maxRulesBytes = 1 << 20

// Rules are the monitor's rules, read from YAML (see testdata/rules.yaml).
// Each model's entry starts from Defaults (which start from the built-in
// defaults) and overrides what it names. A zero threshold disables its
// check. Rules are read-only once parsed.
type Rules struct {
	Defaults ModelRules
	Models   map[string]ModelRules
}

// ModelRules are the rules of one model.
type ModelRules struct {
	// Task is classifier (score and 0/1 label) or recommender (items).
	Task string `yaml:"task"`
	// Metric is the quality measure for SLOs and verdicts.
	Metric string `yaml:"metric"`
	// PrecisionK is k for precision_at_k.
	PrecisionK int          `yaml:"precision-k"`
	SLO        SLORules     `yaml:"slo"`
	Drift      DriftRules   `yaml:"drift"`
	Canary     CanaryRules  `yaml:"canary"`
	Retrain    RetrainRules `yaml:"retrain"`
}

// SLORules are the live service-level objectives of the champion.
type SLORules struct {
	// MinSamples is the least number of joined labels before quality is
	// judged.
	MinSamples int `yaml:"min-samples"`
	// MinQuality: quality below it is decay (alert, and retrain if asked).
	MinQuality   float64       `yaml:"min-quality"`
	MaxErrorRate float64       `yaml:"max-error-rate"`
	MaxP99       time.Duration `yaml:"max-p99-latency"`
}

// DriftRules bound the PSI of every feature against the training profile.
type DriftRules struct {
	MaxPSI float64 `yaml:"max-psi"`
	// MinRows is the least number of live rows in the window before PSI is
	// judged.
	MinRows int `yaml:"min-rows"`
}

// CanaryRules decide verdicts: wait until both arms have MinSamples joined
// labels; roll back when the challenger's quality is more than
// MaxRegression below the champion's, or its error rate or p99 latency
// exceed the limits (judged once it served MinSamples predictions);
// otherwise promote.
type CanaryRules struct {
	MinSamples    int           `yaml:"min-samples"`
	MaxRegression float64       `yaml:"max-regression"`
	MaxErrorRate  float64       `yaml:"max-error-rate"`
	MaxP99        time.Duration `yaml:"max-p99-latency"`
}

// RetrainRules are the retrain template: which triggers queue a job and
// what the job trains. An empty On never retrains.
type RetrainRules struct {
	On        []string          `yaml:"on"`
	Algorithm string            `yaml:"algorithm"`
	Params    map[string]string `yaml:"params"`
	Data      RetrainData       `yaml:"data"`
}

// RetrainData is the job's data; Lookback sets From to the request time
// minus Lookback and To to the request time.
type RetrainData struct {
	FileSHA256 string        `yaml:"file-sha256"`
	Label      string        `yaml:"label"`
	View       string        `yaml:"view"`
	Lookback   time.Duration `yaml:"lookback"`
	Split      string        `yaml:"split"`
	Holdout    float64       `yaml:"holdout"`
}

// BuiltinRules are the rules without a rules file: quality metrics and
// canary verdicts, no alerts, no retraining.
func BuiltinRules() ModelRules {
	return ModelRules{
		Task: TaskClassifier, PrecisionK: 100,
		SLO:    SLORules{MinSamples: 100},
		Drift:  DriftRules{MinRows: 100},
		Canary: CanaryRules{MinSamples: 100, MaxRegression: 0.01, MaxErrorRate: 0.05},
	}
}

// For returns the rules of model.
func (r *Rules) For(model string) ModelRules {
	if m, ok := r.Models[model]; ok {
		return m
	}
	return r.Defaults
}

// Wants reports whether trigger queues a retrain.
func (m ModelRules) Wants(trigger string) bool { return slices.Contains(m.Retrain.On, trigger) }

// LoadRules reads the rules file at path; an empty path gives the built-in
// rules.
func LoadRules(path string) (*Rules, error) {
	if path == "" {
		return ParseRules(nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open rules: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRulesBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read rules %s: %w", path, err)
	}
	if len(data) > maxRulesBytes {
		return nil, fmt.Errorf("rules %s: larger than %d bytes", path, maxRulesBytes)
	}
	r, err := ParseRules(data)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	return r, nil
}

// rulesFile is the file's shape before inheritance.
type rulesFile struct {
	Defaults yaml.Node            `yaml:"defaults"`
	Models   map[string]yaml.Node `yaml:"models"`
}

// ParseRules parses and validates rules YAML, reporting every problem at
// once. Unknown keys are errors.
func ParseRules(data []byte) (*Rules, error) {
	var f rulesFile
	if err := strictDecode(data, &f); err != nil {
		return nil, err
	}
	r := &Rules{Defaults: BuiltinRules(), Models: map[string]ModelRules{}}
	if err := decodeNode(&f.Defaults, &r.Defaults); err != nil {
		return nil, fmt.Errorf("defaults: %w", err)
	}
	errs := []error{r.Defaults.validate("defaults")}
	for name, node := range f.Models {
		m := r.Defaults
		m.Retrain.Params = cloneMap(m.Retrain.Params)
		if err := decodeNode(&node, &m); err != nil {
			errs = append(errs, fmt.Errorf("models.%s: %w", name, err))
			continue
		}
		errs = append(errs, m.validate("models."+name))
		r.Models[name] = m
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// strictDecode decodes rules YAML over v; an empty document leaves v as is.
func strictDecode(data []byte, v any) error {
	if err := config.DecodeStrict(data, v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("parse rules: %w", err)
	}
	return nil
}

// decodeNode decodes n over v strictly; an absent node leaves v as is.
func decodeNode(n *yaml.Node, v any) error {
	if n.Kind == 0 {
		return nil
	}
	data, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Errorf("parse rules: %w", err)
	}
	return strictDecode(data, v)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// metricsOf lists the quality metrics each task supports.
var metricsOf = map[string][]string{
	TaskClassifier:  {MetricROCAUC, MetricAUPRC, MetricPrecisionAtK},
	TaskRecommender: {MetricHRAt10, MetricNDCGAt10},
}

// defaultMetric is each task's quality metric when the rules name none.
var defaultMetric = map[string]string{TaskClassifier: MetricAUPRC, TaskRecommender: MetricHRAt10}

// QualityMetric returns the metric the rules name, or the task's default.
func (m ModelRules) QualityMetric() string {
	if m.Metric == "" {
		return defaultMetric[m.Task]
	}
	return m.Metric
}

// validate checks m and names every problem under prefix.
func (m ModelRules) validate(prefix string) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", prefix, field, fmt.Sprintf(format, args...)))
	}
	if supported, ok := metricsOf[m.Task]; !ok {
		bad("task", "%q must be %s or %s", m.Task, TaskClassifier, TaskRecommender)
	} else if !slices.Contains(supported, m.QualityMetric()) {
		bad("metric", "%q does not apply to a %s; want one of %v", m.Metric, m.Task, supported)
	}
	if m.PrecisionK < 1 {
		bad("precision-k", "must be positive, got %d", m.PrecisionK)
	}
	m.checkThresholds(bad)
	m.checkRetrain(bad)
	return errors.Join(errs...)
}

func (m ModelRules) checkThresholds(bad func(string, string, ...any)) {
	if m.SLO.MinSamples < 1 {
		bad("slo.min-samples", "must be positive, got %d", m.SLO.MinSamples)
	}
	if m.Canary.MinSamples < 1 {
		bad("canary.min-samples", "must be positive, got %d", m.Canary.MinSamples)
	}
	if m.Drift.MinRows < 1 {
		bad("drift.min-rows", "must be positive, got %d", m.Drift.MinRows)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"slo.min-quality", m.SLO.MinQuality}, {"slo.max-error-rate", m.SLO.MaxErrorRate},
		{"canary.max-error-rate", m.Canary.MaxErrorRate}, {"canary.max-regression", m.Canary.MaxRegression}} {
		if f.v < 0 || f.v > 1 {
			bad(f.name, "must be within [0, 1], got %g", f.v)
		}
	}
	if m.Drift.MaxPSI < 0 {
		bad("drift.max-psi", "must not be negative, got %g", m.Drift.MaxPSI)
	}
	if m.SLO.MaxP99 < 0 {
		bad("slo.max-p99-latency", "must not be negative, got %s", m.SLO.MaxP99)
	}
	if m.Canary.MaxP99 < 0 {
		bad("canary.max-p99-latency", "must not be negative, got %s", m.Canary.MaxP99)
	}
}

func (m ModelRules) checkRetrain(bad func(string, string, ...any)) {
	rt := m.Retrain
	for _, t := range rt.On {
		if t != TriggerDecay && t != TriggerDrift {
			bad("retrain.on", "%q must be %s or %s", t, TriggerDecay, TriggerDrift)
		}
	}
	if len(rt.On) > 0 && rt.Algorithm == "" {
		bad("retrain.algorithm", "must be set when retrain.on names a trigger")
	}
	if rt.Data.Holdout < 0 || rt.Data.Holdout >= 1 {
		bad("retrain.data.holdout", "must be within [0, 1), got %g", rt.Data.Holdout)
	}
	if rt.Data.Lookback < 0 {
		bad("retrain.data.lookback", "must not be negative, got %s", rt.Data.Lookback)
	}
}

// job builds the training job the template asks for.
func (rt RetrainRules) job(id, model, trigger string, at time.Time) wire.TrainJob {
	d := wire.TrainData{FileSHA256: rt.Data.FileSHA256, Label: rt.Data.Label, View: rt.Data.View,
		Split: rt.Data.Split, Holdout: rt.Data.Holdout}
	if rt.Data.Lookback > 0 {
		d.From, d.To = at.Add(-rt.Data.Lookback), at
	}
	return wire.TrainJob{ID: id, Model: model, Algorithm: rt.Algorithm, Params: cloneMap(rt.Params), Data: d,
		Reason: trigger, RequestedBy: "monitor", At: at}
}
