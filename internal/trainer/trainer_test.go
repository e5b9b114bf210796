package trainer_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/trainer"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/drift"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness is a registry with its outbox relay on an embedded bus, and a
// running trainer.
type harness struct {
	reg      *registry.Service
	bus      *bus.Bus
	rollouts *fakeRollouts
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t *testing.T, deps trainer.Deps) *harness {
	t.Helper()
	ctx := context.Background()
	db := sqltest.SQLite(t)
	b := bustest.Embedded(t)
	blobs, err := blob.Open(ctx, blob.Config{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	if err := outbox.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	relay, err := outbox.NewRelay(db, b, outbox.RelayConfig{PollInterval: 20 * time.Millisecond}, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(registry.Config{MaxArtifactBytes: 64 << 20}, db, blobs, relay, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Starting(ctx); err != nil {
		t.Fatal(err)
	}
	h := &harness{reg: reg, bus: b, rollouts: &fakeRollouts{}}
	if deps.Rollouts == nil {
		deps.Rollouts = h.rollouts
	}
	cfg := trainer.Config{Workers: 2, MaxAttempts: 3, RetryBackoff: 50 * time.Millisecond, RetryBackoffMax: time.Second,
		Heartbeat: 100 * time.Millisecond, LatencySamples: 200, MaxCSVCells: 1 << 20}
	tr, err := trainer.New(cfg, reg, b, deps, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Starting(ctx); err != nil {
		t.Fatal(err)
	}
	run(t, relay.Run)
	run(t, tr.Running)
	return h
}

// run runs fn until the test ends.
func run(t *testing.T, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
}

type fakeRollouts struct {
	mu      sync.Mutex
	started []string
}

func (f *fakeRollouts) StartAuto(_ context.Context, model string, version int64, jobID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, fmt.Sprintf("%s v%d job %s", model, version, jobID))
	return nil
}

// fraudCSV writes a binary data set whose label depends on amount and
// country; noise lowers the signal.
func fraudCSV(rows int, seed uint64, noise float64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("ts,amount,country,hour,label\n")
	countries := []string{"de", "fr", "us", "xx"}
	for i := range rows {
		amount := r.Float64() * 1000
		c := countries[r.IntN(len(countries))]
		label := 0
		if (amount > 700 && c != "de") || c == "xx" {
			label = 1
		}
		if r.Float64() < noise {
			label = 1 - label
		}
		fmt.Fprintf(&b, "%d,%.2f,%s,%d,%d\n", i, amount, c, r.IntN(24), label)
	}
	return []byte(b.String())
}

func (h *harness) submit(t *testing.T, model string, data []byte, algorithm string, params map[string]string) registry.Job {
	t.Helper()
	ctx := context.Background()
	a, err := h.reg.UploadArtifact(ctx, bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	j, err := h.reg.SubmitJob(ctx, registry.SubmitJobRequest{Model: model, Algorithm: algorithm, Params: params,
		Data: wire.TrainData{FileSHA256: a.SHA256, Label: "label"}})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// wait polls the job until it is final.
func (h *harness) wait(t *testing.T, id string) registry.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := h.reg.GetJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Final() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s (%s) after 30 s", id, j.Status, j.Message)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) model(t *testing.T, name string, policy registry.GatePolicy) {
	t.Helper()
	ctx := context.Background()
	if _, err := h.reg.CreateModel(ctx, registry.CreateModelRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	policy.Model = name
	if _, err := h.reg.SetGatePolicy(ctx, policy); err != nil {
		t.Fatal(err)
	}
}

func TestFileJobRegistersEvaluatedVersion(t *testing.T) {
	h := newHarness(t, trainer.Deps{})
	ctx := context.Background()
	h.model(t, "fraud", registry.GatePolicy{Floors: map[string]float64{"auprc": 0.5}, AutoRollout: true,
		MaxRegression: map[string]float64{"auprc": 0.05}, LatencyP99US: 1e6})
	first := h.wait(t, h.submit(t, "fraud", fraudCSV(800, 1, 0.02), "gbdt", map[string]string{"num_rounds": "20", "time_column": "ts"}).ID)
	if first.Status != registry.JobSucceeded || first.Version != 1 || first.Progress != 1 {
		t.Fatalf("first job = %+v", first)
	}
	v1, err := h.reg.GetVersion(ctx, "fraud", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"auprc", "roc_auc", "log_loss", registry.MetricPredictP99US} {
		if _, ok := v1.Metrics[m]; !ok {
			t.Errorf("version 1 lacks metric %s: %v", m, v1.Metrics)
		}
	}
	if v1.Metrics["auprc"] < 0.8 || v1.Metrics["holdout_rows"] != 160 || v1.Lineage.JobID != first.ID {
		t.Errorf("version 1 metrics %v lineage %+v", v1.Metrics, v1.Lineage)
	}
	checkArtifact(t, h.reg, v1)
	if _, err := h.reg.SetAlias(ctx, registry.SetAliasRequest{Model: "fraud", Alias: registry.AliasChampion, Version: 1}); err != nil {
		t.Fatalf("champion to version 1 after its passed gate: %v", err)
	}

	// A worse candidate: linear on noisy labels, compared with the champion
	// on its own holdout, fails the relative gate and starts no rollout.
	second := h.wait(t, h.submit(t, "fraud", fraudCSV(800, 2, 0.3), "linear", nil).ID)
	v2, err := h.reg.GetVersion(ctx, "fraud", second.Version)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Metrics[registry.MetricChampionVersion] != 1 || v2.Metrics["champion:auprc"] == 0 || v2.Lineage.ParentVersion != 1 {
		t.Errorf("version 2 metrics %v lineage %+v: want the champion's figures on the same holdout", v2.Metrics, v2.Lineage)
	}
	rec, err := h.reg.GetGateRecord(ctx, "fraud", v2.Version)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Passed || rec.Champion != 1 {
		t.Errorf("gate of the worse candidate = %+v, want failed against champion 1", rec)
	}
	if diff := cmp.Diff([]string{"fraud v1 job " + first.ID}, h.rollouts.started); diff != "" {
		t.Errorf("rollouts started (-want +got):\n%s", diff)
	}
}

func checkArtifact(t *testing.T, reg registry.API, v registry.Version) {
	t.Helper()
	rc, _, err := reg.OpenArtifact(context.Background(), v.ArtifactSHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hd, _, err := artifact.Read(rc, artifact.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range hd.Schema {
		names = append(names, f.Name)
	}
	if diff := cmp.Diff([]string{"amount", "country", "hour"}, names); diff != "" {
		t.Errorf("artifact schema (-want +got):\n%s", diff)
	}
	if _, err := drift.ParseProfile(hd.Reference); err != nil {
		t.Errorf("artifact reference profile: %v", err)
	}
	if hd.Lineage.JobID != v.Lineage.JobID || hd.Metrics["auprc"] != v.Metrics["auprc"] {
		t.Errorf("artifact lineage %+v metrics %v, version lineage %+v", hd.Lineage, hd.Metrics, v.Lineage)
	}
}

func TestJobFailures(t *testing.T) {
	h := newHarness(t, trainer.Deps{})
	ctx := context.Background()
	h.model(t, "bad", registry.GatePolicy{})
	tests := []struct {
		name   string
		submit func() registry.Job
		want   string
	}{
		{"unknown param", func() registry.Job {
			return h.submit(t, "bad", fraudCSV(100, 1, 0), "gbdt", map[string]string{"depth": "3"})
		}, "params.depth"},
		{"no label column", func() registry.Job {
			return h.submit(t, "bad", []byte("a,b\n1,2\n3,4\n5,6\n"), "gbdt", nil)
		}, "label"},
		{"unsupported algorithm", func() registry.Job {
			return h.submit(t, "bad", fraudCSV(100, 1, 0), "mf.sgd", nil)
		}, "cannot train"},
		{"feature view without a feature store", func() registry.Job {
			j, err := h.reg.SubmitJob(ctx, registry.SubmitJobRequest{Model: "bad", Algorithm: "gbdt",
				Data: wire.TrainData{View: "cards", From: time.Unix(0, 0), To: time.Unix(100, 0)}})
			if err != nil {
				t.Fatal(err)
			}
			return j
		}, "no feature store"},
	}
	for _, tt := range tests {
		j := h.wait(t, tt.submit().ID)
		if j.Status != registry.JobFailed || j.Attempts != 1 || !strings.Contains(j.Error, tt.want) {
			t.Errorf("%s: job %s attempts %d error %q, want failed on the first attempt mentioning %q",
				tt.name, j.Status, j.Attempts, j.Error, tt.want)
		}
	}
	if vs, _ := h.reg.ListVersions(ctx, "bad", true); len(vs) != 0 {
		t.Errorf("failed jobs registered %d versions", len(vs))
	}
}

// TestRedeliveredJobRegistersOnce delivers a job whose version an earlier
// attempt registered (the process died before reporting success): the
// trainer reuses that version instead of training another.
func TestRedeliveredJobRegistersOnce(t *testing.T) {
	h := newHarness(t, trainer.Deps{})
	ctx := context.Background()
	h.model(t, "once", registry.GatePolicy{SkipSchemaCheck: true})
	a, err := h.reg.UploadArtifact(ctx, bytes.NewReader([]byte("registered by attempt 1")), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.reg.CreateVersion(ctx, registry.CreateVersionRequest{Model: "once", ArtifactSHA256: a.SHA256,
		Lineage: registry.Lineage{JobID: "j-crashed"}}); err != nil {
		t.Fatal(err)
	}
	data, err := h.reg.UploadArtifact(ctx, bytes.NewReader(fraudCSV(200, 3, 0)), "")
	if err != nil {
		t.Fatal(err)
	}
	job, err := h.reg.SubmitJob(ctx, registry.SubmitJobRequest{ID: "j-crashed", Model: "once", Algorithm: "gbdt",
		Data: wire.TrainData{FileSHA256: data.SHA256, Label: "label"}})
	if err != nil {
		t.Fatal(err)
	}
	got := h.wait(t, job.ID)
	if got.Status != registry.JobSucceeded || got.Version != 1 {
		t.Errorf("job = %s version %d, want succeeded with the version already registered (1)", got.Status, got.Version)
	}
	if vs, _ := h.reg.ListVersions(ctx, "once", true); len(vs) != 1 {
		t.Errorf("%d versions, want 1", len(vs))
	}
	if _, err := h.reg.GetGateRecord(ctx, "once", 1); err != nil {
		t.Errorf("gate of the reused version not evaluated: %v", err)
	}
}

// TestCancelledJob cancels a job at once: whatever the race with the
// worker, it ends cancelled and the worker stops reporting.
func TestCancelledJob(t *testing.T) {
	h := newHarness(t, trainer.Deps{})
	ctx := context.Background()
	h.model(t, "cx", registry.GatePolicy{})
	j := h.submit(t, "cx", fraudCSV(2000, 4, 0.1), "gbdt", map[string]string{"num_rounds": "300"})
	if _, err := h.reg.CancelJob(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.wait(t, j.ID); got.Status != registry.JobCancelled {
		t.Errorf("job = %s, want cancelled", got.Status)
	}
}
