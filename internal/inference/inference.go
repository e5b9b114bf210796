package inference

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/lifecycle"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// Registry is what the service reads of the model registry. registry.API
// (the service in process, or its gRPC client) implements it.
type Registry interface {
	GetModel(ctx context.Context, name string) (registry.Model, error)
	ListModels(ctx context.Context, pageSize int, pageToken string) ([]registry.Model, string, error)
	GetVersion(ctx context.Context, model string, version int64) (registry.Version, error)
	OpenArtifact(ctx context.Context, sha256 string) (io.ReadCloser, registry.Artifact, error)
}

// FeatureStore answers online feature lookups for /v1 predict by entity
// key. For entity i, feature j is Values[i*len(Names)+j], NaN when unknown.
type FeatureStore interface {
	Lookup(ctx context.Context, view string, entities []string) (*wire.FeatureValues, error)
}

// Background work tuning.
const (
	shadowWorkers    = 1
	loadConcurrency  = 2
	listPageSize     = 200
	eventsRetryDelay = time.Second
)

// Service answers predictions for every model with a champion. It is a
// lifecycle.Service: Starting loads each model's champion and challenger
// and subscribes to MODELS; afterwards versions are loaded in the
// background and swapped in atomically, and a request finishes on the
// version it started with. All methods are safe for concurrent use.
type Service struct {
	cfg      Config
	logger   *slog.Logger
	registry Registry
	bus      *bus.Bus
	features FeatureStore
	metrics  *metrics
	models   table
	logs     *predLog
	shadowQ  chan *shadowJob
	idPrefix string
	idSeq    atomic.Uint64
	ready    atomic.Bool
	calls    sync.Pool

	refreshMu sync.Mutex
	dirty     map[string][]int64 // model → versions to pin (0: just refresh)
	kick      chan struct{}

	bgCancel context.CancelFunc
	bg       sync.WaitGroup
	cons     jetstream.ConsumeContext

	// httpClient serves remote runtimes.
	httpClient *http.Client
	// testRuntime, when set by tests, builds runtimes for versions it
	// recognises.
	testRuntime func(registry.Version) (runtime, *signature, bool)
	// now stamps logged predictions; time.Now unless WithClock.
	now func() time.Time
	// epoch anchors monoNow.
	epoch time.Time
}

// Option configures a Service beyond its Config.
type Option func(*Service)

// WithClock stamps logged predictions with now instead of time.Now, so a
// replay in accelerated time logs predictions at the replay's time, as
// the monitor (given the same clock) expects.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

var _ lifecycle.Service = (*Service)(nil)

// New builds the service; Starting loads the models. reg is required. b
// (nil: no MODELS events are followed and no predictions logged) is the
// bus; features (nil: predict by entity key answers 400) the feature
// store. Metrics go to promReg.
func New(cfg Config, reg Registry, b *bus.Bus, features FeatureStore, logger *slog.Logger, promReg prometheus.Registerer, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if reg == nil {
		return nil, errors.New("inference: no registry")
	}
	var prefix [6]byte
	_, _ = rand.Read(prefix[:])
	s := &Service{
		cfg: cfg, logger: logger, registry: reg, bus: b, features: features,
		metrics: newMetrics(promReg), idPrefix: hex.EncodeToString(prefix[:]) + "-",
		shadowQ: make(chan *shadowJob, cfg.ShadowQueue), dirty: map[string][]int64{}, kick: make(chan struct{}, 1),
		httpClient: &http.Client{Timeout: 30 * time.Second}, now: time.Now, epoch: time.Now(),
	}
	for _, o := range opts {
		o(s)
	}
	s.calls.New = func() any { return newCall() }
	var pub Publisher
	if b != nil {
		pub = b
	}
	s.logs = newPredLog(pub, cfg, s.metrics, logger)
	return s, nil
}

// Starting follows MODELS from now on, starts the background workers and
// loads every model's champion and challenger. A model that fails to load
// is logged and answers 503; it does not fail the start.
func (s *Service) Starting(ctx context.Context) error {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.bgCancel = cancel
	if err := s.follow(ctx); err != nil {
		cancel()
		return err
	}
	s.logs.run(bg, &s.bg)
	for range shadowWorkers {
		s.bg.Add(1)
		go s.shadowWork(bg)
	}
	s.bg.Add(1)
	go s.refreshLoop(bg)
	if err := s.loadAll(ctx); err != nil {
		s.stopBackground()
		return err
	}
	s.ready.Store(true)
	return nil
}

// Running waits for ctx.
func (s *Service) Running(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Stopping stops following events, the workers and the batchers, and waits
// for them within ctx's deadline. The servers drained in-flight requests
// before this is called.
func (s *Service) Stopping(ctx context.Context) error {
	s.ready.Store(false)
	done := make(chan struct{})
	go func() { s.stopBackground(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop inference: %w", ctx.Err())
	}
}

func (s *Service) stopBackground() {
	if s.cons != nil {
		s.cons.Stop()
	}
	if s.bgCancel != nil {
		s.bgCancel()
	}
	for _, e := range s.models.entries() {
		e.mu.Lock()
		if d := e.dep.Load(); d != nil {
			for _, l := range d.all() {
				l.stop()
			}
		}
		e.mu.Unlock()
	}
	s.bg.Wait()
}

// CheckReady is nil once the models are loaded, until stopping.
func (s *Service) CheckReady(context.Context) error {
	if !s.ready.Load() {
		return lifecycle.ErrNotReady
	}
	return nil
}

// follow subscribes to every MODELS event published from now on. Events
// only mark models for refresh: the refresh reads the registry's current
// state, so a missed, repeated or reordered event cannot leave a stale
// version serving once a later event arrives.
func (s *Service) follow(ctx context.Context) error {
	if s.bus == nil {
		return nil
	}
	js := s.bus.JetStream()
	cons, err := js.OrderedConsumer(ctx, s.bus.Stream(bus.StreamModels), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{s.bus.Subject(registry.SubjectAll)},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("follow model events: %w", err)
	}
	cc, err := cons.Consume(s.onEvent, jetstream.PullExpiry(bus.PullExpiry),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			s.logger.Warn("model events", "err", err)
		}))
	if err != nil {
		return fmt.Errorf("follow model events: %w", err)
	}
	s.cons = cc
	return nil
}

func (s *Service) onEvent(msg jetstream.Msg) {
	var ev registry.Event
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		s.logger.Warn("undecodable model event", "subject", msg.Subject(), "err", err)
		return
	}
	switch ev.Type {
	case registry.EventAliasMoved, registry.EventAliasDeleted:
		if ev.Alias == aliasChampion || ev.Alias == aliasChallenger {
			s.requestRefresh(ev.Model, 0)
		}
	case registry.EventTrafficChanged, registry.EventVersionUpdated, registry.EventVersionArchived:
		if s.models.get(ev.Model) != nil {
			s.requestRefresh(ev.Model, 0)
		}
	}
}

// requestRefresh marks a model for the refresh loop; pin > 0 also asks for
// that version to be loaded for pinned requests.
func (s *Service) requestRefresh(model string, pin int64) {
	s.refreshMu.Lock()
	pins := s.dirty[model]
	if pin > 0 {
		pins = append(pins, pin)
	}
	s.dirty[model] = pins
	s.refreshMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// refreshLoop refreshes the models marked dirty, one at a time, off the
// request path.
func (s *Service) refreshLoop(ctx context.Context) {
	defer s.bg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		s.refreshMu.Lock()
		dirty := s.dirty
		s.dirty = map[string][]int64{}
		s.refreshMu.Unlock()
		for model, pins := range dirty {
			if err := s.refresh(ctx, model, pins); err != nil && ctx.Err() == nil {
				s.logger.Error("refresh model", "model", model, "err", err)
			}
		}
	}
}

// loadAll loads every model's champion and challenger, a few at a time.
func (s *Service) loadAll(ctx context.Context) error {
	var names []string
	token := ""
	for {
		page, next, err := s.registry.ListModels(ctx, listPageSize, token)
		if err != nil {
			return fmt.Errorf("list models: %w", err)
		}
		for _, m := range page {
			if m.Aliases[aliasChampion] != 0 {
				names = append(names, m.Name)
			}
		}
		if token = next; token == "" {
			break
		}
	}
	sem := make(chan struct{}, loadConcurrency)
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.refresh(ctx, name, nil); err != nil {
				s.logger.Error("load model", "model", name, "err", err)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// refresh reads a model's aliases and traffic, loads the versions it does
// not have yet, and swaps in the new deployment. A version that fails to
// load leaves the one it would replace serving.
func (s *Service) refresh(ctx context.Context, name string, pins []int64) error {
	m, err := s.registry.GetModel(ctx, name)
	if errors.Is(err, problem.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get model: %w", err)
	}
	e := s.models.getOrAdd(name, s.metrics.inflight.WithLabelValues(name))
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.dep.Load()
	if old == nil {
		old = &deployment{}
	}
	next := &deployment{traffic: m.Traffic, threshold: threshold(m.Traffic)}
	var errs []error
	next.champion, err = s.versionFor(ctx, e, m, old, m.Aliases[aliasChampion], old.champion)
	errs = append(errs, err)
	next.challenger, err = s.versionFor(ctx, e, m, old, m.Aliases[aliasChallenger], old.challenger)
	errs = append(errs, err)
	next.pinned, err = s.pinnedFor(ctx, e, m, old, next, pins)
	errs = append(errs, err)
	e.dep.Store(next)
	s.retire(old, next)
	s.metrics.loaded.WithLabelValues(name).Set(float64(len(next.all())))
	return errors.Join(errs...)
}

// versionFor returns version v loaded, reusing a loaded one; on a failed
// load it keeps fallback.
func (s *Service) versionFor(ctx context.Context, e *modelEntry, m registry.Model, old *deployment, v int64, fallback *loaded) (*loaded, error) {
	if v == 0 {
		return nil, nil
	}
	if l := old.find(v); l != nil {
		return l, nil
	}
	l, err := s.load(ctx, e, m, v)
	if err != nil {
		return fallback, err
	}
	return l, nil
}

// pinnedFor keeps the previously pinned versions that are still wanted and
// adds the requested ones, up to the configured number, newest first.
func (s *Service) pinnedFor(ctx context.Context, e *modelEntry, m registry.Model, old, next *deployment, pins []int64) ([]*loaded, error) {
	var out []*loaded
	var errs []error
	for _, v := range pins {
		if next.find(v) != nil || containsVersion(out, v) {
			continue
		}
		l := old.find(v)
		if l == nil {
			var err error
			if l, err = s.load(ctx, e, m, v); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		out = append(out, l)
	}
	for _, l := range append(old.pinned, old.champion, old.challenger) {
		if l != nil && next.find(l.version) == nil && !containsVersion(out, l.version) {
			out = append(out, l) // a swapped-out version stays pinnable
		}
	}
	if len(out) > s.cfg.PinnedVersions {
		out = out[:s.cfg.PinnedVersions]
	}
	return out, errors.Join(errs...)
}

func containsVersion(ls []*loaded, v int64) bool {
	for _, l := range ls {
		if l.version == v {
			return true
		}
	}
	return false
}

// retire stops the versions of old that next no longer serves. Requests
// still holding one finish on it: its batcher, once stopped, lets them
// run unbatched.
func (s *Service) retire(old, next *deployment) {
	for _, l := range old.all() {
		if next.find(l.version) == nil {
			l.stop()
			s.metrics.dropVersion(l.model, l.version)
		}
	}
}

// load fetches and builds one version.
func (s *Service) load(ctx context.Context, e *modelEntry, m registry.Model, version int64) (*loaded, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LoadTimeout)
	defer cancel()
	start := time.Now()
	v, err := s.registry.GetVersion(ctx, m.Name, version)
	if err == nil {
		var l *loaded
		if l, err = s.build(ctx, e, m, v); err == nil {
			s.metrics.loads.WithLabelValues(m.Name, "ok").Inc()
			s.logger.Info("model version loaded", "model", m.Name, "version", version, "format", v.Format, "took", time.Since(start))
			return l, nil
		}
	}
	s.metrics.loads.WithLabelValues(m.Name, "error").Inc()
	return nil, fmt.Errorf("load %s version %d: %w", m.Name, version, err)
}

func (s *Service) build(ctx context.Context, e *modelEntry, m registry.Model, v registry.Version) (*loaded, error) {
	rt, sig, err := s.loadRuntime(ctx, v)
	if err != nil {
		return nil, err
	}
	l := &loaded{
		model: m.Name, version: v.Version, versionStr: strconv.FormatInt(v.Version, 10),
		rt: rt, sig: sig, m: s.metrics.forVersion(m.Name, v.Version),
		featureView: v.Tags[tagFeatureView],
	}
	if l.featureView == "" {
		l.featureView = m.Tags[tagFeatureView]
	}
	if s.batchingOn(m) {
		l.batch = newBatcher(rt, sig, s.cfg.BatchMaxSize, s.cfg.BatchMaxDelay, &e.inflight, l.m)
		s.bg.Add(1)
		go func() { defer s.bg.Done(); l.batch.run() }()
	}
	return l, nil
}

// batchingOn applies the model's tag over the flag.
func (s *Service) batchingOn(m registry.Model) bool {
	switch m.Tags[tagBatching] {
	case "on", "true":
		return true
	case "off", "false":
		return false
	}
	return s.cfg.Batching
}

// stop stops the version's batcher, if any.
func (l *loaded) stop() {
	if l.batch != nil {
		l.batch.close()
	}
}
