package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// ConsumerName is the durable JOBS consumer every trainer shares.
const ConsumerName = "trainer"

// Rollouts starts a rollout of a version whose gate passed; the rollout
// service implements it. It must be idempotent for a (model, version).
type Rollouts interface {
	StartAuto(ctx context.Context, model string, version int64, jobID string) error
}

// Deps are the trainer's optional collaborators; nil ones disable what
// needs them (feature-view jobs, automatic rollouts) with a clear job error.
type Deps struct {
	TrainingSets TrainingSets
	Labels       Labels
	Rollouts     Rollouts
}

// Service pulls training jobs and runs them. It is safe for concurrent use;
// Running blocks until its context ends, then waits for the jobs in hand.
type Service struct {
	cfg      Config
	registry registry.API
	bus      *bus.Bus
	sets     TrainingSets
	labels   Labels
	rollouts Rollouts
	logger   *slog.Logger
	metrics  *serviceMetrics
	now      func() time.Time

	cons jetstream.Consumer
}

// New returns a trainer over the registry and the bus.
func New(cfg Config, reg registry.API, b *bus.Bus, deps Deps, logger *slog.Logger, promReg prometheus.Registerer) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(promReg)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, registry: reg, bus: b, sets: deps.TrainingSets, labels: deps.Labels, rollouts: deps.Rollouts,
		logger: logger, metrics: m, now: func() time.Time { return time.Now().UTC() }}, nil
}

// Starting creates or updates the shared JOBS consumer.
func (s *Service) Starting(ctx context.Context) error {
	cons, err := s.bus.JetStream().CreateOrUpdateConsumer(ctx, s.bus.Stream(bus.StreamJobs), jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		FilterSubject: s.bus.Subject(wire.TrainJobSubject("*")),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       3 * s.cfg.Heartbeat,
		MaxDeliver:    s.cfg.MaxAttempts,
	})
	if err != nil {
		return fmt.Errorf("create JOBS consumer: %w", err)
	}
	s.cons = cons
	return nil
}

// Running pulls jobs until ctx ends, at most Workers at a time. On stop it
// cancels the jobs in hand, returns their messages for redelivery and
// waits for the workers.
func (s *Service) Running(ctx context.Context) error {
	slots := make(chan struct{}, s.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	cc, err := s.cons.Consume(func(msg jetstream.Msg) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			_ = msg.Nak()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			s.handle(ctx, msg)
		}()
	}, jetstream.PullExpiry(bus.PullExpiry), jetstream.PullMaxMessages(s.cfg.Workers),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			s.logger.Warn("JOBS consumer", "err", err)
		}))
	if err != nil {
		return fmt.Errorf("consume JOBS: %w", err)
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}

// Stopping does nothing: Running waited for the workers.
func (s *Service) Stopping(context.Context) error { return nil }

// CheckReady reports whether the consumer exists and the bus answers.
func (s *Service) CheckReady(ctx context.Context) error {
	if s.cons == nil {
		return errors.New("trainer: JOBS consumer not created")
	}
	return s.bus.Ready(ctx)
}

// handle works on one delivery and settles its message.
func (s *Service) handle(ctx context.Context, msg jetstream.Msg) {
	attempt := 1
	if md, err := msg.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	var job wire.TrainJob
	if err := json.Unmarshal(msg.Data(), &job); err != nil || job.ID == "" {
		s.logger.Error("dropping undecodable job message", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	start := time.Now()
	outcome := s.attempt(ctx, job, attempt, msg)
	s.metrics.jobs.WithLabelValues(outcome).Inc()
	s.metrics.duration.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
}
