package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plinthai/plinth/client"
	"github.com/plinthai/plinth/internal/demo"
	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/platform/clock"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/products/fraud"
)

// loopSpeed is simulated seconds per wall second of the shared clock: slow
// enough for a replay that goes through HTTP for every event, lookup and
// prediction to keep up on a shared 2-core machine.
const loopSpeed = 4 * 3600

// deployment is the fraud product on seven processes, one per target,
// against PostgreSQL and the external NATS server, on one shared
// simulated clock.
type deployment struct {
	procs  map[string]*proc
	http   map[string]string // target → http://host:port
	prefix string
	secret string
	start  time.Time // simulated
	clock  func() time.Time
}

// startDeployment starts the targets in dependency order, each with its
// own data directory and ports, and waits until every one is ready.
func startDeployment(t *testing.T) *deployment {
	t.Helper()
	pg, natsAddr := postgresSchema(t), natsURL(t)
	d := &deployment{procs: map[string]*proc{}, http: map[string]string{}, prefix: "E2E" + randomName(t),
		secret: "e2e-secret-" + randomName(t) + randomName(t) + randomName(t)}
	t.Cleanup(func() { deleteStreams(t, d.prefix) })
	spec := t.TempDir()
	if err := fraud.Spec.Write(spec); err != nil {
		t.Fatal(err)
	}
	// A fixed start years from the wall clock: event time must never be
	// confused with it (a monitor that bounded a retrain's labels by the
	// wall clock passed this test only late in the day).
	d.start = time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
	epoch := time.Now().Add(10 * time.Second) // the world starts once the processes are up
	d.clock = clock.Simulated(d.start, epoch, loopSpeed, time.Now)
	blobs := "file://" + filepath.Join(t.TempDir(), "blobs")
	grpcAddr := map[string]string{}
	run := func(target string, extra ...string) {
		httpPort, grpcPort := freePort(t), freePort(t)
		args := append([]string{"serve", "--target=" + target, "--data.dir", t.TempDir(),
			"--server.http-addr=127.0.0.1:" + httpPort, "--server.grpc-addr=127.0.0.1:" + grpcPort,
			"--nats.url", natsAddr, "--nats.stream-prefix", d.prefix, "--auth.hmac-secret", d.secret,
			"--clock.sim-start", d.start.Format(time.RFC3339Nano), "--clock.epoch", epoch.Format(time.RFC3339Nano),
			"--clock.speed", strconv.Itoa(loopSpeed), "--ratelimit.disabled"}, extra...)
		d.procs[target] = startPlinth(t, args...)
		d.http[target], grpcAddr[target] = "http://127.0.0.1:"+httpPort, "127.0.0.1:"+grpcPort
		waitReady(t, d.http[target], 60*time.Second)
	}
	run("registry", "--db.url", pg, "--blob.url", blobs, "--outbox.poll-interval=100ms")
	reg := "--registry.addr=" + grpcAddr["registry"]
	run("features", "--features.views-file", filepath.Join(spec, "views.yaml"), "--features.offline-flush-interval=200ms")
	run("ingest", "--ingest.streams-file", filepath.Join(spec, "streams.yaml"))
	run("monitor", reg, "--monitor.rules-file", filepath.Join(spec, "rules.yaml"), "--monitor.bucket-width=1s",
		"--monitor.buckets=12", "--monitor.lateness=30s", "--monitor.eval-interval=500ms", "--monitor.retrain-cooldown=30s")
	run("rollout", reg, "--db.url", pg, "--monitor.addr="+grpcAddr["monitor"], "--outbox.poll-interval=100ms",
		"--rollout.tick=100ms", "--rollout.canary-steps=25,50", "--rollout.min-samples=120", "--rollout.step-timeout=60s",
		"--rollout.on-timeout=rollback")
	features := "--features.addr=" + grpcAddr["features"]
	run("inference", reg, features, "--inference.log-sample-rate=1", "--inference.log-features=full")
	run("trainer", reg, features, "--rollout.url="+d.http["rollout"], "--trainer.heartbeat=1s",
		"--trainer.retry-backoff=1s", "--trainer.latency-samples=500")
	return d
}

// client returns a REST client of target with an admin token.
func (d *deployment) client(t *testing.T, target string) *client.Client {
	t.Helper()
	tok, err := gateway.MintToken([]byte(d.secret), gateway.DefaultIssuer, gateway.DefaultAudience, "e2e", []string{gateway.ScopeAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(d.http[target], tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// remotePlatform is fraud.Platform over the deployment's REST API: events
// and labels to ingest, predictions to inference, the view's catching up
// read through the feature store's lookups.
type remotePlatform struct {
	ingest, features, inference *client.Client

	mu   sync.Mutex
	last fraud.Transaction // the latest transaction ingested
}

func (p *remotePlatform) Ingest(ctx context.Context, stream string, events [][]byte) error {
	raw := make([]json.RawMessage, len(events))
	for i, e := range events {
		raw[i] = e
	}
	res, err := p.ingest.SendEvents(ctx, stream, raw)
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 {
		return fmt.Errorf("%d events rejected, first: %+v", len(res.Rejected), res.Rejected[0])
	}
	var last fraud.Transaction
	if err := json.Unmarshal(events[len(events)-1], &last); err != nil {
		return err
	}
	p.mu.Lock()
	p.last = last
	p.mu.Unlock()
	return nil
}

// WaitFeatures returns once the view shows the latest transaction as its
// card's last: events apply in stream order, so every earlier one is in.
func (p *remotePlatform) WaitFeatures(ctx context.Context, view string) error {
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	if last.ID == "" {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := p.features.LookupFeatures(ctx, view, []string{last.Card})
		if err != nil {
			return err
		}
		for j, name := range l.Names {
			if v, ok := l.Value(0, j); name == "last_amount" && ok && math.Abs(v-last.Amount) <= 1e-6*math.Max(1, last.Amount) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("view %s did not show transaction %s within 10s", view, last.ID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (p *remotePlatform) Predict(ctx context.Context, model, entity string) (fraud.Scored, error) {
	pr, err := p.inference.Predict(ctx, model, client.PredictRequest{Entity: entity})
	if err != nil {
		return fraud.Scored{}, err
	}
	s := fraud.Scored{ID: pr.ID, Version: pr.Version, Arm: pr.Arm}
	if pr.Score != nil {
		s.Score = *pr.Score
	}
	return s, nil
}

func (p *remotePlatform) Feedback(ctx context.Context, fbs ...wire.Feedback) error {
	labels := make([]client.Label, len(fbs))
	for i, fb := range fbs {
		labels[i] = client.Label{ID: fb.ID, PredictionID: fb.PredictionID, Entity: fb.Entity, EventTime: fb.EventTime, Label: &fb.Label, At: fb.At}
	}
	res, err := p.ingest.SendFeedback(ctx, fraud.Model, labels)
	if err == nil && len(res.Rejected) > 0 {
		err = fmt.Errorf("%d labels rejected, first: %+v", len(res.Rejected), res.Rejected[0])
	}
	return err
}

// TestFraudLoopAcrossProcesses runs the fraud loop with every target as its
// own process against PostgreSQL and the external NATS server: the first
// model is trained by the trainer process from the features process's
// point-in-time set, gated by the registry and promoted by the rollout
// process; after the drift the monitor process queues a retrain, which the
// rollout promotes through its canary on the monitor's verdicts. No
// version is registered twice for a job, and every process stops cleanly.
// (The stale candidate's rollback is TestFraudLoop's: across processes at
// this clock speed its live AUPRC comes too close to the champion's for a
// canary on a few hundred labels to tell them apart every time.)
func TestFraudLoopAcrossProcesses(t *testing.T) {
	d := startDeployment(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	reg := d.client(t, "registry")
	plat := &remotePlatform{ingest: d.client(t, "ingest"), features: d.client(t, "features"), inference: d.client(t, "inference")}
	if _, err := reg.CreateModel(ctx, fraud.Model, "card fraud (e2e)", map[string]string{"feature_view": fraud.View}); err != nil {
		t.Fatal(err)
	}
	g, err := fraud.Spec.Gate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetGatePolicy(ctx, fraud.Model, client.GatePolicy{Floors: g.Floors, MaxRegression: g.MaxRegression,
		LatencyP99US: g.LatencyP99US, AutoRollout: g.AutoRollout}); err != nil {
		t.Fatal(err)
	}
	driftAt := d.start.Add(6 * 24 * time.Hour)
	sim, err := fraud.NewSimulator(demo.FraudWorld(d.start, driftAt))
	if err != nil {
		t.Fatal(err)
	}
	replay := fraud.NewReplay(sim, plat)
	replay.Clock = d.clock
	l := &loop{t: t, ctx: ctx, reg: reg, rollouts: d.client(t, "rollout"), replay: replay, clock: d.clock}

	l.phase("bootstrap", func() bool { return !replay.Now().Before(d.start.Add(4 * 24 * time.Hour)) })
	spec, err := fraud.Spec.Training()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // three offline-log flushes: the set reads the segments written so far
	job, err := reg.SubmitJob(ctx, fraud.Model, client.SubmitJobRequest{ID: "fraud-first", Algorithm: spec.Algorithm, Params: spec.Params,
		Data: client.TrainData{View: spec.Data.View, From: d.start, To: replay.Now(), Split: spec.Data.Split, Holdout: spec.Data.Holdout}})
	if err != nil {
		t.Fatal(err)
	}
	var first int64
	l.phase("first model", func() bool {
		first = l.succeeded(job.ID)
		return first != 0 && l.champion() == first
	})
	replay.Score.Store(true)
	l.phase("live traffic", func() bool { return !replay.Now().Before(driftAt) })
	var retrained int64
	var retrainJob string
	l.phase("drift and retrain", func() bool {
		jobs, err := reg.ListJobs(ctx, client.JobFilter{Model: fraud.Model})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs { // newest monitor retrain
			if (j.Reason == "decay" || j.Reason == "drift") && j.Version != 0 && j.Version == l.champion() {
				retrained, retrainJob = j.Version, j.ID
				return true
			}
		}
		return false
	})
	c := replay.Stats.Snapshot()
	t.Logf("v%d by %s is champion after the drift; %d transactions, %d predictions (%d errors), %d labels",
		retrained, retrainJob, c.Transactions, c.Predictions, c.PredictErrors, c.Labels)
	if c.Predictions == 0 || c.PredictErrors*20 > c.Predictions {
		t.Errorf("predictions %d with %d errors", c.Predictions, c.PredictErrors)
	}
	l.checkCanaryPromoted(retrained)

	l.checkOneVersionPerJob()
	for _, target := range []string{"trainer", "inference", "rollout", "monitor", "ingest", "features", "registry"} {
		if _, err := d.procs[target].stop(t, 30*time.Second); err != nil {
			t.Errorf("%s exited with %v\n%s", target, err, d.procs[target].log())
		}
	}
}

// loop drives the replay between checks of the platform.
type loop struct {
	t        *testing.T
	ctx      context.Context
	reg      *client.Client
	rollouts *client.Client
	replay   *fraud.Replay
	clock    func() time.Time
}

// phase keeps the world running, two simulated hours at a time, until
// done reports true, or fails the test after two minutes.
func (l *loop) phase(name string, done func() bool) {
	l.t.Helper()
	began := time.Now()
	for !done() {
		if time.Since(began) > 2*time.Minute {
			c := l.replay.Stats.Snapshot()
			l.t.Fatalf("phase %s: no outcome within 2m (simulated %s, counts %+v)", name, l.replay.Now(), c)
		}
		if err := l.replay.Run(l.ctx, l.replay.Now().Add(2*time.Hour)); err != nil {
			l.t.Fatalf("phase %s: replay: %v", name, err)
		}
	}
	l.t.Logf("phase %s done in %.1fs (simulated %s, %s behind the clock)", name, time.Since(began).Seconds(),
		l.replay.Now().Format("Jan 2 15:04"), l.clock().Sub(l.replay.Now()).Round(time.Minute))
}

// succeeded returns the version a job registered once it succeeded (0
// before), failing the test if it failed.
func (l *loop) succeeded(id string) int64 {
	j, err := l.reg.GetJob(l.ctx, id)
	if err != nil {
		l.t.Fatal(err)
	}
	switch j.Status {
	case "failed", "cancelled":
		l.t.Fatalf("job %s %s: %s", id, j.Status, j.Error)
	case "succeeded":
		return j.Version
	}
	return 0
}

func (l *loop) champion() int64 {
	a, err := l.reg.GetAlias(l.ctx, fraud.Model, "champion")
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == 404 {
		return 0
	}
	if err != nil {
		l.t.Fatal(err)
	}
	return a.Version
}

// checkCanaryPromoted: the retrain went through canary steps on verdicts
// of the monitor process, and its rollout ends promoted (the champion
// alias moves while it is promoting).
func (l *loop) checkCanaryPromoted(version int64) {
	l.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ro, ok := l.rolloutOf(version)
		switch {
		case !ok:
			l.t.Errorf("no rollout of v%d", version)
			return
		case ro.Final() || time.Now().After(deadline):
			if ro.State != client.RolloutPromoted || ro.LastVerdict.Decision != "promote" || ro.LastVerdict.ChallengerSamples == 0 {
				l.t.Errorf("rollout of v%d: %s (%s), last verdict %+v; want promoted on a monitor verdict", version, ro.State, ro.Reason, ro.LastVerdict)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rolloutOf returns the newest rollout of version.
func (l *loop) rolloutOf(version int64) (client.Rollout, bool) {
	ros, err := l.rollouts.ListRollouts(l.ctx, fraud.Model)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, ro := range ros {
		if ro.Version == version {
			return ro, true
		}
	}
	return client.Rollout{}, false
}

func (l *loop) checkOneVersionPerJob() {
	l.t.Helper()
	vs, err := l.reg.ListVersions(l.ctx, fraud.Model, true)
	if err != nil {
		l.t.Fatal(err)
	}
	byJob := map[string]int64{}
	for _, v := range vs {
		if prev, ok := byJob[v.Lineage.JobID]; ok && v.Lineage.JobID != "" {
			l.t.Errorf("job %s registered v%d and v%d", v.Lineage.JobID, prev, v.Version)
		}
		byJob[v.Lineage.JobID] = v.Version
	}
}
