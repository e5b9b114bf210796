package features

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/plinthai/plinth/internal/features/online"
	"github.com/plinthai/plinth/internal/features/online/embedded"
	"github.com/plinthai/plinth/internal/features/online/redisstore"
	"github.com/plinthai/plinth/internal/features/view"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// API is the feature store's contract, implemented in process by Service
// and over gRPC by client.Client.
type API interface {
	// Lookup returns the current features of entities in view: for entity
	// i, feature j is Values[i*len(Names)+j], NaN when unknown, and Found[i]
	// is false for an entity the view has not seen (or whose TTL passed).
	// Names is shared and Entities is the caller's slice: neither may be
	// modified. It fails with ErrViewNotFound, or a field error on
	// "entities" for an empty list or one over the limit (ErrTooLarge).
	Lookup(ctx context.Context, view string, entities []string) (*wire.FeatureValues, error)
	// TrainingSet returns, for each label, the features of its entity as
	// of its time (see the package doc for the exact rule), from the
	// offline log.
	TrainingSet(ctx context.Context, view string, labels []Label) (*TrainingSet, error)
}

// Bus is what the service needs of the event bus (*bus.Bus has it).
type Bus interface {
	JetStream() jetstream.JetStream
	Stream(name string) string
	Subject(s string) string
}

// Blobs is what the offline log needs of the blob store (*blob.Store has it).
type Blobs interface {
	PutKey(ctx context.Context, key string, data []byte) error
	GetKey(ctx context.Context, key string) ([]byte, error)
	ListKeys(ctx context.Context, prefix string) ([]string, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Bus   Bus
	Blobs Blobs
	// Redis selects the Redis online store; nil selects the embedded one,
	// snapshotting into SnapshotDir (empty: no snapshots).
	Redis       redis.UniversalClient
	SnapshotDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service implements API. It is safe for concurrent use.
type Service struct {
	cfg     Config
	deps    Deps
	views   map[string]*view.View
	store   online.Store
	local   *embedded.Store // the store when embedded, for snapshots
	logger  *slog.Logger
	metrics *metrics
	now     func() time.Time
	writer  string // names this process's offline segments

	consumers []*viewConsumer
	wg        sync.WaitGroup
}

var _ API = (*Service)(nil)

// New loads the views of cfg.ViewsFile and opens the online store.
func New(cfg Config, d Deps, logger *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	views, err := view.Load(cfg.ViewsFile)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, deps: d, views: views, logger: logger, metrics: m, now: d.Now, writer: writerID()}
	if s.now == nil {
		s.now = time.Now
	}
	if d.Redis != nil {
		s.store = redisstore.New(d.Redis, cfg.RedisPrefix)
		return s, nil
	}
	s.local, err = embedded.New(d.SnapshotDir, s.viewList(), logger)
	if err != nil {
		return nil, fmt.Errorf("open embedded online store: %w", err)
	}
	s.store = s.local
	return s, nil
}

func (s *Service) viewList() []*view.View {
	out := make([]*view.View, 0, len(s.views))
	for _, n := range s.ViewNames() {
		out = append(out, s.views[n])
	}
	return out
}

// ViewNames lists the declared views, sorted.
func (s *Service) ViewNames() []string {
	names := make([]string, 0, len(s.views))
	for n := range s.views {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// View returns a declared view, or ErrViewNotFound.
func (s *Service) View(name string) (*view.View, error) {
	v, ok := s.views[name]
	if !ok {
		return nil, fmt.Errorf("view %q: %w", name, ErrViewNotFound)
	}
	return v, nil
}

// Store returns the online store (for tests and benchmarks).
func (s *Service) Store() online.Store { return s.store }

// Starting creates each view's durable consumer at the right position.
func (s *Service) Starting(ctx context.Context) error {
	for _, v := range s.viewList() {
		c, err := s.newConsumer(ctx, v)
		if err != nil {
			return err
		}
		s.consumers = append(s.consumers, c)
	}
	s.logger.Info("feature views loaded", "views", s.ViewNames())
	return nil
}

// Running consumes every view until ctx is done, snapshotting the
// embedded store meanwhile. It returns the first consumer failure.
func (s *Service) Running(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(s.consumers)+1)
	for _, c := range s.consumers {
		s.wg.Go(func() { errs <- c.run(ctx) })
	}
	if s.local != nil {
		s.wg.Go(func() { errs <- s.local.Run(ctx, s.cfg.SnapshotInterval, s.now) })
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	cancel()
	s.wg.Wait()
	return first
}

// Stopping closes the online store (the embedded one snapshots).
func (s *Service) Stopping(context.Context) error { return s.store.Close() }

// CheckReady reports whether the bus answers.
func (s *Service) CheckReady(ctx context.Context) error {
	if _, err := s.deps.Bus.JetStream().AccountInfo(ctx); err != nil {
		return fmt.Errorf("features: jetstream: %w", err)
	}
	return nil
}

// Lookup implements API.
func (s *Service) Lookup(ctx context.Context, name string, entities []string) (*wire.FeatureValues, error) {
	v, err := s.View(name)
	if err != nil {
		return nil, err
	}
	switch {
	case len(entities) == 0:
		return nil, problem.Field("entities", "name at least one entity")
	case len(entities) > s.cfg.MaxLookupEntities:
		return nil, problem.FieldKind(problem.ErrTooLarge, "entities", "%d entities, more than the limit of %d", len(entities), s.cfg.MaxLookupEntities)
	}
	fv := &wire.FeatureValues{View: v.Name, Names: v.Names(), Entities: entities,
		Values: make([]float64, len(entities)*v.Width()), Found: make([]bool, len(entities))}
	if err := s.store.Lookup(ctx, v, entities, s.now(), fv.Values, fv.Found); err != nil {
		return nil, fmt.Errorf("lookup view %q: %w", v.Name, errors.Join(err, problem.ErrUnavailable))
	}
	return fv, nil
}
