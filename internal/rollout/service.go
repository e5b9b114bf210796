package rollout

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout/migrations"
)

// Notifier is poked after a commit that wrote outbox rows.
type Notifier interface{ Notify() }

// Service is the rollout controller and its API. Every replica serves the
// API; only the one holding the lease advances sagas. It is safe for
// concurrent use.
type Service struct {
	cfg      Config
	db       *sqlstore.DB
	registry registry.API
	verdicts Verdicts
	relay    Notifier
	logger   *slog.Logger
	holder   string
	now      func() time.Time
	kick     chan struct{}
}

var _ API = (*Service)(nil)

// New returns a rollout service that drives reg and asks verdicts (nil:
// steps advance only on their timeout policy). relay may be nil.
func New(cfg Config, db *sqlstore.DB, reg registry.API, verdicts Verdicts, relay Notifier, logger *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	holder := cfg.Holder
	if holder == "" {
		host, _ := os.Hostname()
		holder = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(4))
	}
	return &Service{cfg: cfg, db: db, registry: reg, verdicts: verdicts, relay: relay, logger: logger, holder: holder,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }, kick: make(chan struct{}, 1)}, nil
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Holder is this controller's name in the lease.
func (s *Service) Holder() string { return s.holder }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Starting runs the migrations of the saga log and of the outbox.
func (s *Service) Starting(ctx context.Context) error {
	if err := outbox.Migrate(ctx, s.db); err != nil {
		return err
	}
	if err := s.db.Migrate(ctx, migrations.FS, "rollout_db_version"); err != nil {
		return fmt.Errorf("migrate rollout: %w", err)
	}
	return nil
}

// Running advances sagas every tick while this replica holds the lease,
// and stays passive otherwise. It returns nil when ctx ends.
func (s *Service) Running(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("rollout tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kick:
		}
	}
}

// Stopping releases the lease so a replica takes over without waiting.
func (s *Service) Stopping(ctx context.Context) error { return release(ctx, s.db, s.holder) }

// CheckReady pings the database.
func (s *Service) CheckReady(ctx context.Context) error { return s.db.Ready(ctx) }

// Tick takes or renews the lease and, if held, advances every active saga
// as far as it can go now. It reports whether this controller held the
// lease (and so acted).
func (s *Service) Tick(ctx context.Context) (bool, error) {
	held, err := acquire(ctx, s.db, s.holder, s.now(), s.cfg.LeaseTTL)
	if err != nil || !held {
		return false, err
	}
	sagas, err := activeSagas(ctx, s.db)
	if err != nil {
		return true, err
	}
	var errs []error
	for _, r := range sagas {
		if err := s.drive(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("rollout %s of %s v%d: %w", r.ID, r.Model, r.Version, err))
		}
	}
	return true, errors.Join(errs...)
}

func (s *Service) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func checkPolicy(p Policy) error {
	if len(p.CanarySteps) == 0 {
		return problem.Field("canary_steps", "name at least one traffic percentage")
	}
	for i, pc := range p.CanarySteps {
		if !(pc > 0 && pc <= 100) || (i > 0 && pc <= p.CanarySteps[i-1]) {
			return problem.Field(fmt.Sprintf("canary_steps[%d]", i), "percentages must rise within (0, 100], got %v", p.CanarySteps)
		}
	}
	switch {
	case p.MinSamples < 0:
		return problem.Field("min_samples", "must not be negative")
	case p.StepTimeout <= 0:
		return problem.Field("step_timeout", "must be positive")
	case p.OnTimeout != OnTimeoutPromote && p.OnTimeout != OnTimeoutRollback:
		return problem.Field("on_timeout", "%q is not promote or rollback", p.OnTimeout)
	}
	return nil
}

func (s *Service) policy(req StartRequest) Policy {
	p := Policy{CanarySteps: req.CanarySteps, MinSamples: req.MinSamples, StepTimeout: req.StepTimeout, OnTimeout: req.OnTimeout}
	if len(p.CanarySteps) == 0 {
		p.CanarySteps = slices.Clone(s.cfg.CanarySteps)
	}
	if p.MinSamples == 0 {
		p.MinSamples = s.cfg.MinSamples
	}
	if p.StepTimeout == 0 {
		p.StepTimeout = s.cfg.StepTimeout
	}
	if p.OnTimeout == "" {
		p.OnTimeout = s.cfg.OnTimeout
	}
	return p
}

// Start implements API: the saga starts pending, with its rollout_pending
// event, and the controller takes it from there.
func (s *Service) Start(ctx context.Context, req StartRequest) (Rollout, error) {
	return s.start(ctx, req, s.policy(req), "")
}

func (s *Service) start(ctx context.Context, req StartRequest, p Policy, jobID string) (Rollout, error) {
	if err := checkPolicy(p); err != nil {
		return Rollout{}, err
	}
	if _, err := s.registry.GetVersion(ctx, req.Model, req.Version); err != nil {
		return Rollout{}, err
	}
	if champ, err := s.registry.GetAlias(ctx, req.Model, registry.AliasChampion); err == nil && champ.Version == req.Version {
		return Rollout{}, problem.FieldKind(problem.ErrConflict, "version", "version %d of %q is the champion already", req.Version, req.Model)
	}
	now := s.now()
	r := Rollout{ID: "ro-" + randomHex(10), Model: req.Model, Version: req.Version, State: StatePending, Policy: p,
		JobID: jobID, CreatedAt: now, UpdatedAt: now, CreatedBy: auth.From(ctx).Subject}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := insertSaga(ctx, tx, r); err != nil {
			if sqlstore.IsUniqueViolation(err) {
				return fmt.Errorf("model %q: %w", req.Model, ErrActive)
			}
			return err
		}
		return s.announce(ctx, tx, r)
	})
	if err != nil {
		return Rollout{}, err
	}
	s.notify()
	s.poke()
	return r, nil
}

// StartAuto starts a rollout with the default policy for a version the
// trainer registered and whose gate passed (it implements
// trainer.Rollouts). Calling it again for the same version returns
// without starting another.
func (s *Service) StartAuto(ctx context.Context, model string, version int64, jobID string) error {
	prior, err := listSagas(ctx, s.db, `model = $1 AND version = $2`, model, version)
	if err != nil || len(prior) > 0 {
		return err
	}
	p := s.policy(StartRequest{})
	p.Auto = true
	_, err = s.start(ctx, StartRequest{Model: model, Version: version}, p, jobID)
	return err
}

// StartAutoRollout is StartAuto answering with the version's newest
// rollout (the one it started, or the one that was there).
func (s *Service) StartAutoRollout(ctx context.Context, model string, version int64, jobID string) (Rollout, error) {
	if version < 1 {
		return Rollout{}, problem.Field("version", "must be a version number ≥ 1, got %d", version)
	}
	if err := s.StartAuto(ctx, model, version, jobID); err != nil {
		return Rollout{}, err
	}
	prior, err := listSagas(ctx, s.db, `model = $1 AND version = $2 ORDER BY created_at DESC, id DESC`, model, version)
	if err != nil {
		return Rollout{}, err
	}
	if len(prior) == 0 {
		return Rollout{}, fmt.Errorf("rollout of %s v%d: started but not found", model, version)
	}
	return prior[0], nil
}

// Get implements API.
func (s *Service) Get(ctx context.Context, id string) (Rollout, error) { return getSaga(ctx, s.db, id) }

// List implements API.
func (s *Service) List(ctx context.Context, model string) ([]Rollout, error) {
	return listSagas(ctx, s.db, `model = $1 ORDER BY created_at DESC, id DESC`, model)
}

// Steps returns a rollout's saga log.
func (s *Service) Steps(ctx context.Context, id string) ([]Step, error) {
	return listSteps(ctx, s.db, id)
}

// Abort implements API: an active rollout goes to rolling_back at once
// (the controller compensates); a final one is returned unchanged.
func (s *Service) Abort(ctx context.Context, id, reason string) (Rollout, error) {
	for {
		r, err := getSaga(ctx, s.db, id)
		if err != nil || r.Final() || r.State == StateRollingBack || r.State == StatePromoting {
			return r, err
		}
		next := r
		next.State, next.Reason = StateRollingBack, "aborted by "+auth.From(ctx).Subject+": "+reason
		ok, err := s.persist(ctx, r, next, false)
		if err != nil {
			return r, err
		}
		if ok {
			s.poke()
			return next, nil
		}
	}
}

// RolloutEvent is the body of a models.<model>.rollout_<state> event.
type RolloutEvent struct {
	Type      string    `json:"type"`
	Model     string    `json:"model"`
	Version   int64     `json:"version"`
	Rollout   string    `json:"rollout"`
	State     string    `json:"state"`
	Percent   float64   `json:"percent,omitempty"`
	StepIndex int       `json:"step_index"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}

// EventType returns the event type of a state: rollout_<state>.
func EventType(state string) string { return "rollout_" + state }

// announce writes the event of r's current state into the outbox in tx.
func (s *Service) announce(ctx context.Context, tx *sql.Tx, r Rollout) error {
	ev := RolloutEvent{Type: EventType(r.State), Model: r.Model, Version: r.Version, Rollout: r.ID, State: r.State,
		Percent: r.Percent(), StepIndex: r.StepIndex, Reason: r.Reason, At: r.UpdatedAt}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if _, err := outbox.Enqueue(ctx, tx, registry.Subject(r.Model, ev.Type), body, nil); err != nil {
		return fmt.Errorf("enqueue %s: %w", ev.Type, err)
	}
	return nil
}

// persist moves the saga from cur to next with its event, if it is still
// at cur; with leased, only while this controller holds the lease.
func (s *Service) persist(ctx context.Context, cur, next Rollout, leased bool) (bool, error) {
	next.UpdatedAt = s.now()
	var ok bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if leased {
			if err := checkLease(ctx, tx, s.holder, next.UpdatedAt); err != nil {
				return err
			}
		}
		var err error
		if ok, err = updateSaga(ctx, tx, next, cur.State, cur.StepIndex); err != nil || !ok {
			return err
		}
		return s.announce(ctx, tx, next)
	})
	if ok {
		s.notify()
		s.logger.Info("rollout moved", "rollout", next.ID, "model", next.Model, "version", next.Version,
			"state", next.State, "percent", next.Percent(), "reason", next.Reason)
	}
	return ok, err
}

func (s *Service) notify() {
	if s.relay != nil {
		s.relay.Notify()
	}
}
