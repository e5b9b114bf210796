package monitor

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

const canaryRules = `
defaults:
  metric: roc_auc
  canary: {min-samples: 4, max-regression: 0.05, max-error-rate: 0.1, max-p99-latency: 100ms}
`

// arm describes the traffic one version served in a verdict test.
type arm struct {
	labels   []float64 // one joined prediction per label
	inverted bool      // scores rank negatives above positives
	latency  time.Duration
	errors   int
}

// serve feeds the arm's predictions and labels for version v.
func (f *fixture) serve(v int64, a arm) {
	lat := a.latency
	if lat == 0 {
		lat = 5 * time.Millisecond
	}
	for i, y := range a.labels {
		score := 0.2 + 0.6*y + 0.01*float64(i)
		if a.inverted {
			score = 1 - score
		}
		id := fmt.Sprintf("v%d-%d", v, i)
		f.predict(scored(id, "", v, time.Duration(i+1)*time.Minute, score, lat))
		f.label(byID("l-"+id, id, y))
	}
	for i := range a.errors {
		f.predict(wire.PredictionLog{ID: fmt.Sprintf("v%d-err%d", v, i), Model: "fraud", Version: v, Error: "boom", At: t0.Add(-time.Minute)})
	}
}

func TestVerdict(t *testing.T) {
	good := []float64{1, 0, 1, 0}
	tests := []struct {
		name         string
		champ, chall arm
		want         string
	}{
		{"too few samples", arm{labels: good}, arm{labels: good[:2]}, wire.VerdictWait},
		{"one class only", arm{labels: []float64{0, 0, 0, 0}}, arm{labels: []float64{0, 0, 0, 0}}, wire.VerdictWait},
		{"as good", arm{labels: good}, arm{labels: good}, wire.VerdictPromote},
		{"worse quality", arm{labels: good}, arm{labels: good, inverted: true}, wire.VerdictRollback},
		{"slow", arm{labels: good}, arm{labels: good, latency: 300 * time.Millisecond}, wire.VerdictRollback},
		{"failing", arm{labels: good}, arm{labels: good, errors: 1}, wire.VerdictRollback},
		{"failing before labels", arm{labels: good}, arm{labels: good[:1], errors: 3}, wire.VerdictRollback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig(), canaryRules, nil, nil)
			f.serve(1, tt.champ)
			f.serve(2, tt.chall)
			v, err := f.svc.Verdict(t.Context(), "fraud", 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != tt.want {
				t.Fatalf("decision %q (%s), want %q", v.Decision, v.Reason, tt.want)
			}
			if v.Model != "fraud" || v.Champion != 1 || v.Challenger != 2 || v.Metric != MetricROCAUC || !v.At.Equal(t0) {
				t.Errorf("verdict %+v does not name its subject", v)
			}
		})
	}
}

func TestVerdictFigures(t *testing.T) {
	f := newFixture(t, testConfig(), canaryRules, nil, nil)
	f.serve(1, arm{labels: []float64{1, 0, 1, 0}})
	f.serve(2, arm{labels: []float64{1, 0, 1, 0, 1}, inverted: true})
	got, err := f.svc.Verdict(t.Context(), "fraud", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := wire.CanaryVerdict{Model: "fraud", Champion: 1, Challenger: 2, Decision: wire.VerdictRollback,
		Reason: "challenger roc_auc 0.0000 below champion 1.0000 by more than 0.0500", Metric: MetricROCAUC,
		ChampionValue: 1, ChallengerValue: 0, ChampionSamples: 4, ChallengerSamples: 5,
		ChampionP99MS: 5, ChallengerP99MS: 5, At: t0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

func TestVerdictArguments(t *testing.T) {
	f := newFixture(t, testConfig(), "", nil, nil)
	tests := []struct {
		model        string
		champ, chall int64
		field        string
	}{
		{"", 1, 2, "model"},
		{"fraud", 0, 2, "champion"},
		{"fraud", 1, -1, "challenger"},
		{"fraud", 3, 3, "challenger"},
	}
	for _, tt := range tests {
		_, err := f.svc.Verdict(t.Context(), tt.model, tt.champ, tt.chall)
		if !errors.Is(err, problem.ErrInvalid) || problem.FieldOf(err) != tt.field {
			t.Errorf("Verdict(%q, %d, %d) = %v, want invalid %s", tt.model, tt.champ, tt.chall, err, tt.field)
		}
	}
	cfg := testConfig()
	cfg.Models = []string{"movies"}
	other := newFixture(t, cfg, "", nil, nil)
	if _, err := other.svc.Verdict(t.Context(), "fraud", 1, 2); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unwatched model: %v, want ErrUnknownModel", err)
	}
}

// TestVerdictComparesTheCanaryPeriod pins that the champion is judged on
// the buckets since the challenger first served, not on its whole window:
// a champion that ranked well before a drift and inverts after it must not
// keep a challenger out on the strength of its past.
func TestVerdictComparesTheCanaryPeriod(t *testing.T) {
	f := newFixture(t, testConfig(), canaryRules, nil, nil)
	for i := range 16 { // before the canary: the champion ranks perfectly
		y := float64(i % 2)
		id := fmt.Sprintf("old-%d", i)
		f.predict(scored(id, "", 1, time.Duration(10+i)*time.Minute, 0.2+0.6*y+0.01*float64(i), time.Millisecond))
		f.label(byID("l-"+id, id, y))
	}
	for i := range 4 { // during the canary: the champion inverts, the challenger cannot tell
		y := float64(i % 2)
		champ, chall := fmt.Sprintf("c1-%d", i), fmt.Sprintf("c2-%d", i)
		f.predict(scored(champ, "", 1, time.Duration(i+1)*time.Minute, 0.8-0.6*y, time.Millisecond),
			scored(chall, "", 2, time.Duration(i+1)*time.Minute, 0.5, time.Millisecond))
		f.label(byID("l-"+champ, champ, y), byID("l-"+chall, chall, y))
	}
	if whole := f.stats(t, "fraud", 1).Quality[MetricROCAUC]; whole < 0.7 {
		t.Fatalf("champion's whole-window roc_auc %.3f: the fixture should flatter it", whole)
	}
	v, err := f.svc.Verdict(t.Context(), "fraud", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if v.Decision != wire.VerdictPromote || v.ChampionSamples != 4 || v.ChampionValue != 0 || v.ChallengerValue != 0.5 {
		t.Errorf("verdict %s (%s), champion %.3f over %d samples, challenger %.3f: want promote on the canary period (0 over 4 vs 0.5)",
			v.Decision, v.Reason, v.ChampionValue, v.ChampionSamples, v.ChallengerValue)
	}
}
