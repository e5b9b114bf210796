package monitor

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// API is the monitor's contract, implemented by Service in process and by
// client.Client over gRPC. Verdict is what the rollout saga asks; Status
// is what the console and operators read.
type API interface {
	// Verdict judges challenger against champion on the current window.
	Verdict(ctx context.Context, model string, champion, challenger int64) (wire.CanaryVerdict, error)
	// Status returns the live figures of every version of model in the
	// window (none is not an error).
	Status(ctx context.Context, model string) (ModelStatus, error)
}

// ModelStatus is a model's live figures per version.
type ModelStatus struct {
	Model    string         `json:"model"`
	Window   time.Duration  `json:"window_ns"`
	At       time.Time      `json:"at"`
	Versions []VersionStats `json:"versions"`
}

// Registry is what the monitor needs of the registry: a version's
// artifact, whose header carries the training data's drift profile, and
// the model's aliases (a retrain waits while a challenger is on trial).
type Registry interface {
	GetModel(ctx context.Context, name string) (registry.Model, error)
	GetVersion(ctx context.Context, model string, version int64) (registry.Version, error)
	OpenArtifact(ctx context.Context, sha256 string) (io.ReadCloser, registry.Artifact, error)
}

// Option changes a Service built by New.
type Option func(*Service)

// WithClock makes the Service read time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithRules replaces the rules read from Config.RulesFile.
func WithRules(r *Rules) Option { return func(s *Service) { s.rules = r } }

// Jobs records and queues training jobs; the registry implements it. With
// it, retrain requests go through the registry (the job is recorded and
// queued in one transaction, so trainers know it); without it they are
// published straight to JOBS.
type Jobs interface {
	SubmitJob(ctx context.Context, req registry.SubmitJobRequest) (registry.Job, error)
}

// WithJobs makes retrain requests submit jobs through j.
func WithJobs(j Jobs) Option { return func(s *Service) { s.jobs = j } }

// WithEventClock sets the clock of event time, which bounds a retrain
// job's data range (now − look-back to now). It defaults to the monitor's
// clock; replays in accelerated time, whose events run ahead of the wall
// clock, set it to the replay's clock.
func WithEventClock(now func() time.Time) Option { return func(s *Service) { s.eventNow = now } }

// WithHTTPClient sets the webhook's HTTP client.
func WithHTTPClient(c *http.Client) Option { return func(s *Service) { s.httpClient = c } }

type versionKey struct {
	model   string
	version int64
}

// Service consumes PREDICTIONS and FEEDBACK, keeps rolling windows per
// model version, evaluates rules into alerts and retrain requests, and
// answers verdicts. Its methods are safe for concurrent use.
type Service struct {
	cfg        Config
	rules      *Rules
	bus        *bus.Bus // nil: no consumers and no retrain requests (tests)
	registry   Registry // nil: no drift, no hold during a canary
	logger     *slog.Logger
	metrics    *metrics
	notifier   *notifier
	httpClient *http.Client
	now        func() time.Time
	eventNow   func() time.Time // nil: now
	jobs       Jobs             // nil: publish retrain jobs straight to JOBS

	consumers []consumer

	mu        sync.Mutex
	join      *joiner
	windows   map[versionKey]*versionWindow
	profiles  map[versionKey]time.Time // last failed profile load, for retry
	alerted   map[alertKey]time.Time
	retrainAt map[string]time.Time
}

var _ API = (*Service)(nil)

// profileRetry is how long a failed profile load waits before a retry.
const profileRetry = time.Minute

// New returns a monitor. b may be nil (nothing consumed or published) and
// reg may be nil (no drift). Rules come from cfg.RulesFile unless an
// option gives them.
func New(cfg Config, b *bus.Bus, reg Registry, logger *slog.Logger, promReg prometheus.Registerer, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(promReg)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, bus: b, registry: reg, logger: logger, metrics: m, httpClient: &http.Client{Timeout: 10 * time.Second},
		now:     time.Now,
		windows: map[versionKey]*versionWindow{}, profiles: map[versionKey]time.Time{},
		alerted: map[alertKey]time.Time{}, retrainAt: map[string]time.Time{}}
	s.join = newJoiner(cfg.MaxPending, cfg.Lateness, cfg.JoinWindow, func(kind string) { m.evicted.WithLabelValues(kind).Inc() })
	for _, o := range opts {
		o(s)
	}
	if s.rules == nil {
		if s.rules, err = LoadRules(cfg.RulesFile); err != nil {
			return nil, err
		}
	}
	s.notifier = newNotifier(cfg, s.httpClient, logger, m)
	return s, nil
}

// Starting creates the stream consumers, starting a bounded look-back ago
// so the windows are rebuilt from the streams.
func (s *Service) Starting(ctx context.Context) error {
	if s.bus == nil {
		return nil
	}
	cs, err := s.createConsumers(ctx)
	if err != nil {
		return err
	}
	s.consumers = cs
	return nil
}

// Running consumes, delivers alerts and evaluates the rules every
// EvalInterval until ctx is cancelled.
func (s *Service) Running(ctx context.Context) error {
	stop, err := s.consume(ctx)
	if err != nil {
		return err
	}
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { s.notifier.run(ctx) })
	defer wg.Wait()
	t := time.NewTicker(s.cfg.EvalInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Evaluate(ctx)
		}
	}
}

// Stopping does nothing: Running released its consumers; the bus belongs
// to its own module.
func (s *Service) Stopping(context.Context) error { return nil }

// CheckReady reports nil once started: verdicts answer from whatever the
// windows hold (a fresh monitor says wait).
func (s *Service) CheckReady(context.Context) error { return nil }

// watches reports whether this replica watches model.
func (s *Service) watches(model string) bool {
	return len(s.cfg.Models) == 0 || slices.Contains(s.cfg.Models, model)
}

// handlePrediction counts one prediction log into its version's window
// and joins it with waiting labels. Redelivery is a no-op.
func (s *Service) handlePrediction(ctx context.Context, pl wire.PredictionLog) {
	if !s.watches(pl.Model) {
		return
	}
	key := versionKey{pl.Model, pl.Version}
	s.ensureProfile(ctx, key)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.window(key)
	b := w.bucketAt(pl.At, now)
	if b == nil {
		s.metrics.predictions.WithLabelValues(pl.Model, "outside_window").Inc()
		return
	}
	p := &pred{id: pl.ID, model: pl.Model, entity: pl.Entity, arm: pl.Arm, version: pl.Version, at: pl.At, items: pl.Items}
	if len(pl.Output) > 0 {
		p.score, p.hasScore = pl.Output[0], true
	}
	var matches []match
	if pl.Error == "" {
		var ok bool
		if matches, ok = s.join.addPrediction(p, now); !ok {
			s.metrics.predictions.WithLabelValues(pl.Model, outcomeDuplicate).Inc()
			return
		}
	} else if !s.join.seenPreds.add(pl.ID) {
		s.metrics.predictions.WithLabelValues(pl.Model, outcomeDuplicate).Inc()
		return
	}
	s.metrics.predictions.WithLabelValues(pl.Model, "counted").Inc()
	if pl.Arm != "" {
		w.lastArm = pl.Arm
	}
	w.addPrediction(b, pl.Error != "", pl.LatencyUS, pl.Features)
	s.record(matches, now)
}

// handleFeedback joins one label with waiting predictions.
func (s *Service) handleFeedback(fb wire.Feedback) {
	if !s.watches(fb.Model) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	matches, outcome := s.join.addFeedback(fb, now)
	if outcome == outcomeJoined && s.record(matches, now) == 0 {
		outcome = outcomeLate
	}
	s.metrics.feedback.WithLabelValues(fb.Model, outcome).Inc()
}

// record adds joined pairs to the windows of their predictions' times and
// returns how many landed inside a window. The caller holds s.mu.
func (s *Service) record(matches []match, now time.Time) int {
	n := 0
	for _, m := range matches {
		w := s.window(versionKey{m.p.model, m.p.version})
		b := w.bucketAt(m.p.at, now)
		if b == nil {
			continue
		}
		n++
		if len(m.p.items) > 0 || len(m.fb.Items) > 0 {
			if len(m.fb.Items) > 0 {
				hit, ndcg := rankingScores(m.p.items, m.fb.Items)
				w.addRanking(b, hit, ndcg)
			}
			continue
		}
		if m.p.hasScore {
			w.addPair(b, m.p.score, m.fb.Label)
		}
	}
	s.metrics.pending.WithLabelValues("prediction").Set(float64(len(s.join.preds)))
	s.metrics.pending.WithLabelValues("label").Set(float64(s.join.labels))
	return n
}

// window returns the version's window, creating it. The caller holds s.mu.
func (s *Service) window(key versionKey) *versionWindow {
	w, ok := s.windows[key]
	if !ok {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%d", key.model, key.version)
		w = newVersionWindow(s.cfg.BucketWidth, s.cfg.Buckets, s.cfg.MaxPairs, h.Sum64())
		s.windows[key] = w
	}
	return w
}
