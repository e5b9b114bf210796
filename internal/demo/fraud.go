package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/telemetry"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/products/fraud"
)

// Phases of the fraud demo, in order.
const (
	PhaseBootstrap = "bootstrap"
	PhaseFirst     = "first-model"
	PhaseLive      = "live-traffic"
	PhaseDrift     = "drift-retrain"
	PhaseBad       = "bad-candidate"
)

// The simulated world and its timeline.
const (
	bootstrapDays = 4
	driftDay      = 6
	// speed is simulated seconds per wall second while the model serves.
	speed = 8 * 3600
	// chunk is the simulated time between two looks at the platform.
	chunk = 2 * time.Hour
	// phaseTimeout bounds a waiting phase on the wall clock.
	phaseTimeout = 100 * time.Second
	// jobTimeout bounds a training job on the wall clock.
	jobTimeout = 90 * time.Second
)

// ErrPhase is the cause of a phase that did not reach its expected outcome.
var ErrPhase = errors.New("demo phase failed")

// Options configure a demo run.
type Options struct {
	// DataDir holds the platform's state; it should be empty.
	DataDir string
	// Out receives the view; Live redraws it in place (a terminal).
	Out  io.Writer
	Live bool
	// Logger receives the platform's logs; nil writes JSON lines to
	// DataDir/plinth.log.
	Logger *slog.Logger
	// Started, when set, is called once the platform is ready, before the
	// first phase (tests watch its streams from there).
	Started func(ctx context.Context, a *app.App) error
}

// PhaseResult is one phase's outcome.
type PhaseResult struct {
	Name   string
	Took   time.Duration
	Detail string
}

// Report is what a fraud demo run did.
type Report struct {
	Phases []PhaseResult
	// First, Retrained and Bad are the versions of the first model, the
	// retrain after the drift, and the bad candidate.
	First, Retrained, Bad int64
	// BadGateRefused says the bad candidate's gate refused it, so it never
	// reached a canary; otherwise BadRollout is its rollout, rolled back.
	BadGateRefused bool
	// BadRollout is the bad candidate's rollout, rolled back.
	BadRollout rollout.Rollout
	// ToPromotion is the wall time from the drift to the retrained
	// champion; Total the whole run's.
	ToPromotion, Total time.Duration
	Counts             fraud.Counts
}

// fraudRun is one run's state.
type fraudRun struct {
	loop[*fraud.Replay]
	opts     Options
	start    time.Time // simulated
	driftAt  time.Time // simulated
	report   Report
	versions int64 // latest version shown
}

// RunFraud runs the fraud loop on opts.DataDir and returns when every
// phase reached its outcome (nil), one did not (an error wrapping
// ErrPhase that names it), or ctx ended.
func RunFraud(ctx context.Context, opts Options) (Report, error) {
	began := time.Now()
	r := &fraudRun{opts: opts}
	r.loop = loop[*fraud.Replay]{model: fraud.Model, spec: fraud.Spec, chunk: chunk, refresh: r.status, seen: map[string]string{}}
	stop, err := r.startPlatform(ctx)
	if err != nil {
		return r.report, err
	}
	r.view = newView(opts.Out, opts.Live)
	if opts.Started != nil {
		err = opts.Started(ctx, r.app)
	}
	if err == nil {
		r.report.Phases, err = runPhases(ctx, r.view, r.status, []phase{
			{PhaseBootstrap, r.bootstrap},
			{PhaseFirst, r.firstModel},
			{PhaseLive, r.live},
			{PhaseDrift, r.drift},
			{PhaseBad, r.badCandidate},
		})
	}
	r.report.Total = time.Since(began)
	r.report.Counts = r.replay.Stats.Snapshot()
	r.status("done", 1)
	r.view.Close()
	if serr := stop(); err == nil {
		err = serr
	}
	return r.report, err
}

func (r *fraudRun) startPlatform(ctx context.Context) (stop func() error, err error) {
	specDir := filepath.Join(r.opts.DataDir, "fraud")
	if err := fraud.Spec.Write(specDir); err != nil {
		return nil, err
	}
	cfg, err := platformConfig(r.opts.DataDir, specDir)
	if err != nil {
		return nil, err
	}
	logger, closeLog, err := openLogger(r.opts.Logger, r.opts.DataDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeLog()
		}
	}()
	// The simulated world depends on its seed and the hour of day, so a
	// start at midnight replays the same transactions on every run.
	r.start = time.Now().UTC().Truncate(24 * time.Hour)
	r.driftAt = r.start.Add(driftDay * 24 * time.Hour)
	sim, err := fraud.NewSimulator(FraudWorld(r.start, r.driftAt))
	if err != nil {
		return nil, err
	}
	a, err := app.New(cfg, logger, new(slog.LevelVar), telemetry.NewRegistry(app.BuildVersion()))
	if err != nil {
		return nil, err
	}
	r.replay = fraud.NewReplay(sim, newPlatform(a, logger))
	a.EventClock = r.replay.Now
	r.app = a
	stopApp, err := runApp(ctx, a)
	if err != nil {
		return nil, err
	}
	return func() error { defer closeLog(); return stopApp() }, nil
}

// FraudWorld is the demo's world: 300 cards, a fraud rate near 12 %, labels
// within a day, and the fraudsters' switch at driftAt.
func FraudWorld(start, driftAt time.Time) fraud.Config {
	c := fraud.DefaultConfig()
	c.Seed, c.Customers, c.Merchants, c.Start, c.DriftAt = 7, 300, 150, start, driftAt
	c.CardTestingPerDay, c.TakeoverPerDay = 5, 4
	c.FraudLabelDelay = [2]time.Duration{time.Hour, 12 * time.Hour}
	c.LegitLabelDelay = [2]time.Duration{2 * time.Hour, 18 * time.Hour}
	return c
}

// runApp runs a until stop is called, once it is ready.
func runApp(ctx context.Context, a *app.App) (func() error, error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stop := func() error { cancel(); return <-done }
	deadline := time.Now().Add(30 * time.Second)
	for a.Ready(ctx) != nil || a.HTTPAddr() == "" {
		select {
		case err := <-done:
			cancel()
			return nil, fmt.Errorf("platform stopped before ready: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = stop()
			return nil, fmt.Errorf("platform not ready: %w", a.Ready(ctx))
		}
	}
	return stop, nil
}

// bootstrap declares the model and its gate and replays the first days
// flat out, without scoring: the history the first model learns from.
func (r *fraudRun) bootstrap(ctx context.Context) (string, error) {
	reg := r.app.Registry
	_, err := reg.CreateModel(ctx, registry.CreateModelRequest{Name: fraud.Model, Description: "card fraud scorer (demo)",
		Tags: map[string]string{"feature_view": fraud.View}})
	if err != nil && !errors.Is(err, problem.ErrConflict) {
		return "", err
	}
	g, err := fraud.Spec.Gate()
	if err != nil {
		return "", err
	}
	if _, err := reg.SetGatePolicy(ctx, registry.GatePolicy{Model: fraud.Model, Floors: g.Floors, MaxRegression: g.MaxRegression,
		LatencyP99US: g.LatencyP99US, AutoRollout: g.AutoRollout}); err != nil {
		return "", err
	}
	r.replay.Speed = 0
	until := r.start.Add(bootstrapDays * 24 * time.Hour)
	if err := r.advanceTo(ctx, PhaseBootstrap, until, chunk); err != nil {
		return "", err
	}
	c := r.replay.Stats.Snapshot()
	return fmt.Sprintf("%d transactions (%d fraud), %d labels over %d days", c.Transactions, c.Frauds, c.Labels, bootstrapDays), nil
}

// firstModel trains by the product's training spec, and waits for the
// gate and the automatic rollout to make it champion.
func (r *fraudRun) firstModel(ctx context.Context) (string, error) {
	v, err := r.trainFirst(ctx, fraud.View, func() (registry.Job, error) {
		return r.submit(ctx, "fraud-first", "bootstrap", r.start, r.replay.Now())
	})
	r.report.First = v
	if err != nil {
		return "", err
	}
	ver, _ := r.app.Registry.GetVersion(ctx, fraud.Model, v)
	return fmt.Sprintf("v%d champion, holdout AUPRC %.3f", v, ver.Metrics["auprc"]), nil
}

// live scores every transaction until the drift.
func (r *fraudRun) live(ctx context.Context) (string, error) {
	r.replay.Speed = speed
	r.replay.Score.Store(true)
	if err := r.advanceTo(ctx, PhaseLive, r.driftAt, chunk); err != nil {
		return "", err
	}
	st := r.versionStats(ctx, r.report.First)
	return fmt.Sprintf("v%d live AUPRC %.3f over %d labels", r.report.First, st.Quality["auprc"], st.Samples), nil
}

// drift replays past the fraudsters' switch until a retrain the monitor
// queued is champion, showing each retrain as the monitor queues it.
func (r *fraudRun) drift(ctx context.Context) (string, error) {
	began := time.Now()
	r.view.Event("drift: fraudsters switch patterns at %s", r.driftAt.Format("Jan 2 15:04"))
	job, tried, err := r.retrainChampion(ctx, func(j registry.Job) {
		r.view.Event("monitor queued retrain %s (%s)", j.ID, j.Reason)
	})
	if err != nil {
		return "", err
	}
	r.report.Retrained, r.report.ToPromotion = job.Version, time.Since(began)
	return fmt.Sprintf("retrain %s (reason %s) → v%d champion after the canary%s, %.1fs after the drift", job.ID, job.Reason, job.Version,
		earlierTries(tried), r.report.ToPromotion.Seconds()), nil
}

// badCandidate trains a candidate on stale, pre-drift data: its gate
// passes on its own holdout, and the canary must roll it back on live
// traffic with the champion untouched.
func (r *fraudRun) badCandidate(ctx context.Context) (string, error) {
	job, err := r.submit(ctx, "fraud-stale", "manual: trained on stale pre-drift data", r.start, r.driftAt)
	if err != nil {
		return "", err
	}
	end, detail, err := r.loop.badCandidate(ctx, r.report.Retrained, job, "the bad candidate")
	r.report.Bad, r.report.BadGateRefused, r.report.BadRollout = end.version, end.refused, end.rollout
	return detail, err
}

// status refreshes the view: figures, and events for new versions and
// rollout moves.
func (r *fraudRun) status(phase string, progress float64) {
	ctx := context.Background()
	c := r.replay.Stats.Snapshot()
	lines := []string{
		fmt.Sprintf("simulated time  %s  (drift at %s)", r.replay.Now().Format("Mon Jan 2 15:04"), r.driftAt.Format("Jan 2 15:04")),
		fmt.Sprintf("transactions    %d  (fraud %d)   labels %d   predictions %d (errors %d)", c.Transactions, c.Frauds, c.Labels, c.Predictions, c.PredictErrors),
	}
	if m, err := r.app.Registry.GetModel(ctx, fraud.Model); err == nil {
		lines = append(lines, fmt.Sprintf("model %s      champion v%d   challenger v%d at %.0f%%   latest v%d", m.Name,
			m.Aliases[registry.AliasChampion], m.Aliases[registry.AliasChallenger], m.Traffic.ChallengerPercent, m.LatestVersion))
		r.newVersions(ctx, m.LatestVersion)
	}
	if st, err := r.app.Monitor.Status(ctx, fraud.Model); err == nil {
		for _, vs := range st.Versions {
			lines = append(lines, fmt.Sprintf("  v%-3d %-10s live AUPRC %.3f  labels %5d (fraud %4d)  predictions %6d  p99 %.2f ms",
				vs.Version, vs.Arm, vs.Quality["auprc"], vs.Samples, vs.Positives, vs.Predictions, vs.P99MS))
		}
	}
	r.rolloutEvents(ctx)
	r.view.Set(Status{Phase: phase, Progress: progress, Lines: lines})
}

func (r *fraudRun) newVersions(ctx context.Context, latest int64) {
	for ; r.versions < latest; r.versions++ {
		v, err := r.app.Registry.GetVersion(ctx, fraud.Model, r.versions+1)
		if err != nil {
			return
		}
		r.view.Event("registered v%d by job %s: holdout AUPRC %.3f (champion's on the same holdout %.3f)", v.Version,
			v.Lineage.JobID, v.Metrics["auprc"], v.Metrics[registry.MetricChampionPrefix+"auprc"])
	}
}
