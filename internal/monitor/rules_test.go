package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSampleRules(t *testing.T) {
	r, err := LoadRules("testdata/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fraud := ModelRules{Task: TaskClassifier, Metric: MetricAUPRC, PrecisionK: 100,
		SLO:    SLORules{MinSamples: 200, MinQuality: 0.55, MaxErrorRate: 0.01, MaxP99: 50 * time.Millisecond},
		Drift:  DriftRules{MaxPSI: 0.2, MinRows: 500},
		Canary: CanaryRules{MinSamples: 300, MaxRegression: 0.02, MaxErrorRate: 0.02, MaxP99: 80 * time.Millisecond},
		Retrain: RetrainRules{On: []string{TriggerDecay, TriggerDrift}, Algorithm: "gbdt",
			Params: map[string]string{"rounds": "300", "max_depth": "6"},
			Data:   RetrainData{View: "card_tx", Lookback: 720 * time.Hour, Split: "time", Holdout: 0.2}}}
	if diff := cmp.Diff(fraud, r.For("fraud")); diff != "" {
		t.Errorf("fraud (-want +got):\n%s", diff)
	}
	movies := r.For("movies")
	if movies.QualityMetric() != MetricHRAt10 || movies.Canary.MinSamples != 300 || !movies.Wants(TriggerDecay) || movies.Wants(TriggerDrift) {
		t.Errorf("movies = %+v", movies)
	}
	if other := r.For("other"); other.Wants(TriggerDecay) || other.QualityMetric() != MetricAUPRC || other.Drift.MaxPSI != 0.25 {
		t.Errorf("a model without rules gets %+v, want the defaults", other)
	}
}

func TestBuiltinRules(t *testing.T) {
	r, err := LoadRules("")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(BuiltinRules(), r.For("any")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBadRules(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "models: {fraud: {slo: {min-sample: 3}}}", []string{"min-sample"}},
		{"metric of another task", "models: {m: {task: recommender, metric: auprc}}", []string{"models.m.metric"}},
		{"unknown task", "defaults: {task: regressor}", []string{"defaults.task"}},
		{"every problem at once", `models: {m: {precision-k: 0, slo: {max-error-rate: 2}, canary: {min-samples: 0},
			drift: {max-psi: -1}, retrain: {on: [weather]}}}`,
			[]string{"precision-k", "slo.max-error-rate", "canary.min-samples", "drift.max-psi", "retrain.on", "retrain.algorithm"}},
		{"bad duration", "models: {m: {slo: {max-p99-latency: fast}}}", []string{"fast"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := Config{Buckets: 0, MaxPairs: -1, WebhookURL: "ftp://x", Instance: "a b", WebhookRetries: -1}
	err := cfg.Validate()
	for _, w := range []string{"bucket-width", "lateness", "join-window", "eval-interval", "retrain-cooldown", "buckets",
		"max-pending", "max-pairs", "webhook-url", "webhook-retries", "instance"} {
		if err == nil || !strings.Contains(err.Error(), "monitor."+w) {
			t.Errorf("Validate() = %v, want it to name monitor.%s", err, w)
		}
	}
	if good := testConfig(); good.Validate() != nil {
		t.Errorf("test config: %v", good.Validate())
	}
}
