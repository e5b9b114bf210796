package rollout

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// drive advances one saga until it is final or must wait (for a verdict,
// or after an error it retries next tick).
func (s *Service) drive(ctx context.Context, r Rollout) error {
	for !r.Final() {
		next, err := s.advance(ctx, r)
		if err != nil {
			return err
		}
		if next.State == r.State && next.StepIndex == r.StepIndex {
			return nil // waiting
		}
		ok, err := s.persist(ctx, r, next, true)
		if err != nil {
			return err
		}
		if !ok { // moved by Abort meanwhile: reload
			if next, err = getSaga(ctx, s.db, r.ID); err != nil {
				return err
			}
		}
		r = next
	}
	return nil
}

// advance does the idempotent steps of r's state and returns the state to
// move to (r itself to wait).
func (s *Service) advance(ctx context.Context, r Rollout) (Rollout, error) {
	switch r.State {
	case StatePending:
		return moveTo(r, StateValidating, ""), nil
	case StateValidating:
		return s.validate(ctx, r)
	case StateCanary:
		return s.canary(ctx, r)
	case StatePromoting:
		return s.promote(ctx, r)
	case StateRollingBack:
		return s.compensate(ctx, r)
	}
	return r, fmt.Errorf("rollout %s in unknown state %q", r.ID, r.State)
}

func moveTo(r Rollout, state, reason string) Rollout {
	r.State = state
	if reason != "" {
		r.Reason = reason
	}
	return r
}

// validate evaluates the version's gate (unless a current passed record
// exists), then sets the challenger alias, or goes straight to promoting
// when the model has no champion yet.
func (s *Service) validate(ctx context.Context, r Rollout) (Rollout, error) {
	var rec registry.GateRecord
	err := s.step(ctx, r, "validate", func(ctx context.Context) (string, error) {
		var err error
		rec, err = s.registry.EvaluateGate(ctx, r.Model, r.Version)
		return fmt.Sprintf("passed=%v %s", rec.Passed, strings.Join(rec.Failures, "; ")), err
	})
	if err != nil {
		return r, err
	}
	if rec.Model == "" { // the step was done before a restart
		if rec, err = s.registry.GetGateRecord(ctx, r.Model, r.Version); err != nil {
			return r, err
		}
	}
	if !rec.Passed {
		return moveTo(r, StateFailed, "gate failed: "+strings.Join(rec.Failures, "; ")), nil
	}
	if rec.Champion == 0 {
		return moveTo(r, StatePromoting, "no champion: promoted without a canary"), nil
	}
	if err := s.step(ctx, r, "set_challenger", func(ctx context.Context) (string, error) {
		return s.ensureAlias(ctx, r.Model, registry.AliasChallenger, r.Version)
	}); err != nil {
		if problem.Status(err) < 500 {
			return moveTo(r, StateRollingBack, "set challenger: "+err.Error()), nil
		}
		return r, err
	}
	next := moveTo(r, StateCanary, "")
	next.Champion, next.StepIndex, next.StepStartedAt = rec.Champion, 0, s.now()
	return next, nil
}

// canary sets the step's traffic and reads the verdict.
func (s *Service) canary(ctx context.Context, r Rollout) (Rollout, error) {
	pc := r.Percent()
	if err := s.step(ctx, r, fmt.Sprintf("traffic_%d_%g", r.StepIndex, pc), func(ctx context.Context) (string, error) {
		return s.ensureTraffic(ctx, r.Model, pc)
	}); err != nil {
		if problem.Status(err) < 500 {
			return moveTo(r, StateRollingBack, "set traffic: "+err.Error()), nil
		}
		return r, err
	}
	v, err := s.verdict(ctx, r)
	if err != nil {
		s.logger.Warn("canary verdict unavailable", "rollout", r.ID, "err", err)
	}
	return s.decide(r, v, err), nil
}

func (s *Service) verdict(ctx context.Context, r Rollout) (wire.CanaryVerdict, error) {
	if s.verdicts == nil {
		return wire.CanaryVerdict{}, errors.New("no verdict source wired")
	}
	return s.verdicts.Verdict(ctx, r.Model, r.Champion, r.Version)
}

// decide applies the canary policy to a verdict: roll back on a rollback
// verdict; advance on a promote verdict with enough samples on both arms;
// apply on_timeout once the step has waited step_timeout; else wait.
func (s *Service) decide(r Rollout, v wire.CanaryVerdict, err error) Rollout {
	if err == nil && v.Challenger != 0 && v.Challenger != r.Version {
		err = fmt.Errorf("verdict is about version %d", v.Challenger)
	}
	if err == nil {
		r.LastVerdict = v
		switch {
		case v.Decision == wire.VerdictRollback:
			return moveTo(r, StateRollingBack, "verdict rollback: "+v.Reason)
		case v.Decision == wire.VerdictPromote && v.ChallengerSamples >= r.Policy.MinSamples && v.ChampionSamples >= r.Policy.MinSamples:
			return nextStep(r, s.now())
		}
	}
	if s.now().Sub(r.StepStartedAt) < r.Policy.StepTimeout {
		return r
	}
	if r.Policy.OnTimeout == OnTimeoutPromote {
		return nextStep(r, s.now())
	}
	return moveTo(r, StateRollingBack, fmt.Sprintf("no promote verdict within %s at %g%%", r.Policy.StepTimeout, r.Percent()))
}

func nextStep(r Rollout, now time.Time) Rollout {
	if r.StepIndex+1 < len(r.Policy.CanarySteps) {
		r.StepIndex++
		r.StepStartedAt = now
		return r
	}
	return moveTo(r, StatePromoting, "")
}

// promote moves champion to the version, then clears the canary. A gate
// that refuses champion (the policy changed meanwhile) rolls back.
func (s *Service) promote(ctx context.Context, r Rollout) (Rollout, error) {
	err := s.step(ctx, r, "set_champion", func(ctx context.Context) (string, error) {
		return s.ensureAlias(ctx, r.Model, registry.AliasChampion, r.Version)
	})
	if errors.Is(err, problem.ErrConflict) {
		return moveTo(r, StateRollingBack, "champion refused: "+err.Error()), nil
	}
	if err != nil {
		return r, err
	}
	if err := s.clearCanary(ctx, r, "promote"); err != nil {
		return r, err
	}
	return moveTo(r, StatePromoted, ""), nil
}

// compensate undoes the canary: traffic back to the champion, challenger
// alias gone. The champion itself never moved.
func (s *Service) compensate(ctx context.Context, r Rollout) (Rollout, error) {
	if err := s.clearCanary(ctx, r, "compensate"); err != nil {
		return r, err
	}
	return moveTo(r, StateRolledBack, ""), nil
}

func (s *Service) clearCanary(ctx context.Context, r Rollout, prefix string) error {
	if err := s.step(ctx, r, prefix+"_traffic", func(ctx context.Context) (string, error) {
		return s.ensureTraffic(ctx, r.Model, 0)
	}); err != nil {
		return err
	}
	return s.step(ctx, r, prefix+"_challenger", func(ctx context.Context) (string, error) {
		return s.ensureNoChallenger(ctx, r.Model, r.Version)
	})
}

// step runs one idempotent action of the saga under the log: written
// started before it acts and done after, both only while the lease is
// held. A done step is skipped; a started one is redone (its action checks
// the registry first, so redoing it changes nothing twice).
func (s *Service) step(ctx context.Context, r Rollout, name string, act func(context.Context) (string, error)) error {
	st, err := stepStatus(ctx, s.db, r.ID, name)
	if err != nil || st == stepDone {
		return err
	}
	if st == "" {
		if err := s.leased(ctx, func(tx *sql.Tx) error { return startStep(ctx, tx, r.ID, name, s.now()) }); err != nil {
			return err
		}
	}
	detail, err := act(ctx)
	if err != nil {
		return fmt.Errorf("step %s: %w", name, err)
	}
	return s.leased(ctx, func(tx *sql.Tx) error { return finishStep(ctx, tx, r.ID, name, detail, s.now()) })
}

// leased runs fn in a transaction that first checks the lease.
func (s *Service) leased(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := checkLease(ctx, tx, s.holder, s.now()); err != nil {
			return err
		}
		return fn(tx)
	})
}
