package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/drift"
)

// fakeRegistry serves one artifact whose profile holds feature "amount",
// uniform on [0, 1), for version 1 of every model; version 2 is remote.
// Every model has the aliases in aliases.
type fakeRegistry struct {
	artifact []byte
	aliases  map[string]int64
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	t.Helper()
	ref := make([]float32, 1000)
	for i := range ref {
		ref[i] = float32(i) / 1000
	}
	ft, err := drift.NumericFeature("amount", ref, 20, 10)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := json.Marshal(&drift.Profile{Features: []drift.Feature{ft}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := artifact.Marshal(artifact.Header{Kind: "test", Reference: prof}, []byte("model"))
	if err != nil {
		t.Fatal(err)
	}
	return &fakeRegistry{artifact: data, aliases: map[string]int64{registry.AliasChampion: 1}}
}

func (r *fakeRegistry) GetModel(_ context.Context, name string) (registry.Model, error) {
	return registry.Model{Name: name, Aliases: r.aliases}, nil
}

func (r *fakeRegistry) GetVersion(_ context.Context, model string, version int64) (registry.Version, error) {
	switch version {
	case 1:
		return registry.Version{Model: model, Version: 1, Format: registry.FormatPlinth, ArtifactSHA256: "a1"}, nil
	case 2:
		return registry.Version{Model: model, Version: 2, Format: registry.FormatRemote, URI: "http://m"}, nil
	}
	return registry.Version{}, fmt.Errorf("version %d: %w", version, problem.ErrNotFound)
}

func (r *fakeRegistry) OpenArtifact(context.Context, string) (io.ReadCloser, registry.Artifact, error) {
	return io.NopCloser(bytes.NewReader(r.artifact)), registry.Artifact{SHA256: "a1", Size: int64(len(r.artifact))}, nil
}

const driftRules = `
models:
  fraud:
    drift: {max-psi: 0.2, min-rows: 100}
    retrain:
      on: [drift]
      algorithm: gbdt
      params: {rounds: "50"}
      data: {view: card_tx, lookback: 24h, holdout: 0.2}
`

// withAmounts feeds n champion predictions of version v whose amount is
// spread evenly over [lo, lo+1).
func (f *fixture) withAmounts(v int64, n int, lo float64, idPrefix string) {
	for i := range n {
		pl := scored(fmt.Sprintf("%s%d", idPrefix, i), "", v, time.Duration(i%50)*time.Minute, 0.5, time.Millisecond)
		pl.At = f.clock.Now().Add(-time.Duration(i%50) * time.Minute)
		pl.Features = map[string]float64{"amount": lo + (float64(i)+0.5)/float64(n), "other": 7}
		f.predict(pl)
	}
}

func TestDriftAlerts(t *testing.T) {
	tests := []struct {
		name      string
		version   int64
		lo        float64
		wantAlert float64
		wantRows  uint64
	}{
		{"unshifted", 1, 0, 0, 600},
		{"shifted", 1, 0.5, 1, 600},
		{"no profile", 2, 0.5, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig(), driftRules, nil, newFakeRegistry(t))
			f.withAmounts(tt.version, 600, tt.lo, "p")
			f.svc.Evaluate(t.Context())
			f.svc.Evaluate(t.Context()) // the same rule alerts once per window
			if got := testutil.ToFloat64(f.svc.metrics.alerts.WithLabelValues("fraud", RuleDrift)); got != tt.wantAlert {
				t.Errorf("drift alerts = %v, want %v", got, tt.wantAlert)
			}
			st := f.stats(t, "fraud", tt.version)
			if st.DriftRows != tt.wantRows {
				t.Errorf("drift rows = %d, want %d", st.DriftRows, tt.wantRows)
			}
			psi, feature := st.MaxPSI()
			if tt.wantAlert > 0 && (feature != "amount" || psi <= 0.2) {
				t.Errorf("max PSI %v on %q, want > 0.2 on amount", psi, feature)
			}
			if tt.wantAlert == 0 && psi > 0.05 {
				t.Errorf("max PSI %v on %q, want about 0", psi, feature)
			}
			if tt.wantRows > 0 {
				gauge := testutil.ToFloat64(f.svc.metrics.psi.WithLabelValues("fraud", "1", "amount"))
				if gauge != psi {
					t.Errorf("psi gauge = %v, want %v", gauge, psi)
				}
			}
		})
	}
}

// TestDecayAlert: quality below the SLO alerts, the quality gauge shows
// it, and the version's series go when it leaves the window.
func TestDecayAlert(t *testing.T) {
	rules := `models: {fraud: {metric: roc_auc, slo: {min-samples: 4, min-quality: 0.6}}}`
	f := newFixture(t, testConfig(), rules, nil, nil)
	f.serve(1, arm{labels: []float64{1, 0, 1, 0}, inverted: true})
	f.svc.Evaluate(t.Context())
	if got := testutil.ToFloat64(f.svc.metrics.alerts.WithLabelValues("fraud", RuleDecay)); got != 1 {
		t.Errorf("decay alerts = %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.svc.metrics.quality.WithLabelValues("fraud", "1", MetricROCAUC)); got != 0 {
		t.Errorf("quality gauge = %v, want 0", got)
	}
	f.clock.Advance(time.Hour) // window over: the version and its series go
	f.svc.Evaluate(t.Context())
	if n := testutil.CollectAndCount(f.svc.metrics.quality); n != 0 {
		t.Errorf("%d quality series after the window, want 0", n)
	}
}
