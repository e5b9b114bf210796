package monitor

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// jobs returns the training jobs waiting on JOBS for model (read without
// consuming: JOBS is a work queue).
func jobs(t *testing.T, b *bus.Bus, model string) []wire.TrainJob {
	t.Helper()
	ctx := t.Context()
	st, err := b.JetStream().Stream(ctx, b.Stream(bus.StreamJobs))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []wire.TrainJob
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		msg, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Subject != b.Subject(wire.TrainJobSubject(model)) {
			continue
		}
		var j wire.TrainJob
		if err := json.Unmarshal(msg.Data, &j); err != nil {
			t.Fatal(err)
		}
		out = append(out, j)
	}
	return out
}

// TestRetrainOncePerCooldown: drift of the champion queues one training
// job, whatever the redelivery, repeated evaluation or a second replica,
// until the cooldown has passed.
func TestRetrainOncePerCooldown(t *testing.T) {
	b := bustest.Embedded(t)
	reg := newFakeRegistry(t)
	f := newFixture(t, testConfig(), driftRules, b, reg)
	f.withAmounts(1, 300, 0.6, "p")
	f.svc.Evaluate(t.Context())
	f.withAmounts(1, 300, 0.6, "p") // redelivered
	f.svc.Evaluate(t.Context())
	replica := newFixture(t, testConfig(), driftRules, b, reg)
	replica.withAmounts(1, 300, 0.6, "p")
	replica.svc.Evaluate(t.Context())
	f.clock.Advance(10 * time.Minute)
	f.svc.Evaluate(t.Context())

	want := []wire.TrainJob{{
		ID: RetrainJobID("fraud", TriggerDrift, t0, 6*time.Hour), Model: "fraud", Algorithm: "gbdt",
		Params: map[string]string{"rounds": "50"},
		Data:   wire.TrainData{View: "card_tx", From: t0.Add(-24 * time.Hour), To: t0, Holdout: 0.2},
		Reason: TriggerDrift, RequestedBy: "monitor", At: t0,
	}}
	if diff := cmp.Diff(want, jobs(t, b, "fraud")); diff != "" {
		t.Fatalf("jobs (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		f       *fixture
		outcome string
		want    float64
	}{{f, "published", 1}, {f, "cooldown", 2}, {replica, "duplicate", 1}} {
		if got := testutil.ToFloat64(c.f.svc.metrics.retrains.WithLabelValues("fraud", TriggerDrift, c.outcome)); got != c.want {
			t.Errorf("retrain %s = %v, want %v", c.outcome, got, c.want)
		}
	}

	f.clock.Advance(6 * time.Hour)
	f.withAmounts(1, 300, 0.6, "q")
	f.svc.Evaluate(t.Context())
	if got := len(jobs(t, b, "fraud")); got != 2 {
		t.Errorf("after the cooldown: %d jobs, want 2", got)
	}
}

// TestNoRetrainWhileAChallengerIsOnTrial: the canary of a candidate
// decides first; once its alias is gone the next evaluation asks.
func TestNoRetrainWhileAChallengerIsOnTrial(t *testing.T) {
	b := bustest.Embedded(t)
	reg := newFakeRegistry(t)
	reg.aliases = map[string]int64{registry.AliasChampion: 1, registry.AliasChallenger: 2}
	f := newFixture(t, testConfig(), driftRules, b, reg)
	f.withAmounts(1, 300, 0.6, "p")
	f.svc.Evaluate(t.Context())
	if got := jobs(t, b, "fraud"); len(got) != 0 {
		t.Fatalf("jobs during the canary = %+v, want none", got)
	}
	if got := testutil.ToFloat64(f.svc.metrics.retrains.WithLabelValues("fraud", TriggerDrift, "canary")); got != 1 {
		t.Errorf("retrains held for the canary = %v, want 1", got)
	}
	reg.aliases = map[string]int64{registry.AliasChampion: 1} // rolled back
	f.svc.Evaluate(t.Context())
	if got := jobs(t, b, "fraud"); len(got) != 1 {
		t.Errorf("jobs after the canary = %d, want 1", len(got))
	}
}

// TestChallengerDriftNeverRetrains: only the champion's figures speak for
// the model.
func TestChallengerDriftNeverRetrains(t *testing.T) {
	b := bustest.Embedded(t)
	f := newFixture(t, testConfig(), driftRules, b, newFakeRegistry(t))
	for i := range 200 {
		pl := scored("c"+string(rune('a'+i%26))+time.Duration(i).String(), "", 1, time.Minute, 0.5, time.Millisecond)
		pl.Arm, pl.Features = wire.ArmChallenger, map[string]float64{"amount": 5}
		f.predict(pl)
	}
	f.svc.Evaluate(t.Context())
	if got := testutil.ToFloat64(f.svc.metrics.alerts.WithLabelValues("fraud", RuleDrift)); got != 1 {
		t.Errorf("drift alerts = %v, want 1", got)
	}
	if got := jobs(t, b, "fraud"); len(got) != 0 {
		t.Errorf("jobs = %+v, want none", got)
	}
}

// flakyWebhook fails its first failures requests, then accepts; it sends
// every accepted alert on got.
func flakyWebhook(t *testing.T, failures int32) (*httptest.Server, *atomic.Int32, chan Alert) {
	var calls atomic.Int32
	got := make(chan Alert, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= failures {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var a Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		got <- a
	}))
	t.Cleanup(srv.Close)
	return srv, &calls, got
}

func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		name      string
		failures  int32
		retries   int
		wantErr   bool
		wantCalls int32
	}{
		{"fails twice then succeeds", 2, 2, false, 3},
		{"out of retries", 5, 1, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls, _ := flakyWebhook(t, tt.failures)
			cfg := testConfig()
			cfg.WebhookURL, cfg.WebhookRetries = srv.URL, tt.retries
			f := newFixture(t, cfg, "", nil, nil)
			err := f.svc.notifier.deliver(t.Context(), Alert{Model: "fraud", Rule: RuleDrift})
			if (err != nil) != tt.wantErr || calls.Load() != tt.wantCalls {
				t.Errorf("deliver = %v after %d calls, want error %v after %d", err, calls.Load(), tt.wantErr, tt.wantCalls)
			}
		})
	}
}

// TestAlertReachesWebhook runs the service and follows a decay alert to a
// webhook that fails twice first.
func TestAlertReachesWebhook(t *testing.T) {
	srv, calls, got := flakyWebhook(t, 2)
	cfg := testConfig()
	cfg.WebhookURL = srv.URL
	f := newFixture(t, cfg, `models: {fraud: {metric: roc_auc, slo: {min-samples: 4, min-quality: 0.6}}}`, nil, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.svc.Running(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Running: %v", err)
		}
	}()
	f.serve(1, arm{labels: []float64{1, 0, 1, 0}, inverted: true})
	f.svc.Evaluate(ctx)
	select {
	case a := <-got:
		want := Alert{Model: "fraud", Version: 1, Rule: RuleDecay, Metric: MetricROCAUC, Value: 0, Threshold: 0.6, Samples: 4,
			Message: "roc_auc 0.0000 below 0.6000 over 4 labels", At: t0}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("alert (-want +got):\n%s", diff)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no alert delivered after %d calls", calls.Load())
	}
}
