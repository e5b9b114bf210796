package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/gbdt"
)

// AliasChampion is the alias that serves a model's traffic; moving it is
// guarded by the validation gate. AliasChallenger is the canary's alias.
const (
	AliasChampion   = "champion"
	AliasChallenger = "challenger"
)

// ScopeAdmin is the scope a caller needs to force champion past its gate.
const ScopeAdmin = "admin"

// GatePolicy is a model's validation gate: what a version must show before
// it may become champion. The zero policy (every model's until one is set)
// checks only schema compatibility with the champion.
type GatePolicy struct {
	Model string `json:"model"`
	// Floors are absolute bounds per metric on the candidate's holdout:
	// a minimum, or a maximum for metrics where lower is better (see
	// LowerIsBetter).
	Floors map[string]float64 `json:"floors,omitempty"`
	// MaxRegression bounds, per metric, how much worse than the current
	// champion on the same holdout the candidate may be (ε).
	MaxRegression map[string]float64 `json:"max_regression,omitempty"`
	// LatencyP99US is the budget for the candidate's p99 single-row predict
	// latency in microseconds; 0 means none.
	LatencyP99US float64 `json:"latency_p99_us,omitempty"`
	// SkipSchemaCheck turns off the check that every input of the
	// candidate is one the champion's callers send, with the same type.
	SkipSchemaCheck bool `json:"skip_schema_check,omitempty"`
	// AutoRollout asks the trainer to start a rollout of every version it
	// registers whose gate passes.
	AutoRollout bool `json:"auto_rollout,omitempty"`
	// Revision increases on every change; a gate record is current only
	// for the revision it was evaluated under.
	Revision  int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// GateRecord is the outcome of evaluating a version against its model's
// gate. It lets champion move to the version only while it is current:
// passed, under the policy revision in force, against the champion in
// place.
type GateRecord struct {
	Model    string   `json:"model"`
	Version  int64    `json:"version"`
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`
	Checks   []string `json:"checks,omitempty"`
	// Champion is the champion version compared with, 0 when none.
	Champion       int64     `json:"champion"`
	PolicyRevision int64     `json:"policy_revision"`
	EvaluatedAt    time.Time `json:"evaluated_at"`
	EvaluatedBy    string    `json:"evaluated_by,omitempty"`
}

func checkPolicy(p GatePolicy) error {
	errs := []error{checkName("model", p.Model), checkMetrics("floors", p.Floors), checkMetrics("max_regression", p.MaxRegression)}
	for m, eps := range p.MaxRegression {
		if !(eps >= 0) {
			errs = append(errs, problem.Field("max_regression."+m, "must be ≥ 0, got %v", eps))
		}
	}
	if !(p.LatencyP99US >= 0) {
		errs = append(errs, problem.Field("latency_p99_us", "must be ≥ 0, got %v", p.LatencyP99US))
	}
	return firstErr(errors.Join(errs...))
}

// SetGatePolicy implements API: it replaces the model's policy and bumps
// its revision, which makes every earlier gate record stale.
func (s *Service) SetGatePolicy(ctx context.Context, p GatePolicy) (GatePolicy, error) {
	if err := checkPolicy(p); err != nil {
		return GatePolicy{}, err
	}
	ev := s.event(ctx, EventGatePolicySet, p.Model)
	err := s.change(ctx, "set_gate_policy", func(tx *sql.Tx) error {
		cur, err := getGatePolicy(ctx, tx, p.Model)
		if err != nil {
			return err
		}
		p.Revision, p.UpdatedAt, p.UpdatedBy = cur.Revision+1, ev.At, ev.Actor
		if err := putGatePolicy(ctx, tx, p); err != nil {
			return err
		}
		return s.record(ctx, tx, ev, p)
	})
	return p, err
}

// GetGatePolicy implements API: the zero policy (revision 0) for a model
// that has none.
func (s *Service) GetGatePolicy(ctx context.Context, model string) (GatePolicy, error) {
	if err := checkName("model", model); err != nil {
		return GatePolicy{}, err
	}
	return getGatePolicy(ctx, s.db, model)
}

// GetGateRecord implements API: ErrNotFound when the version was never
// evaluated.
func (s *Service) GetGateRecord(ctx context.Context, model string, version int64) (GateRecord, error) {
	if err := firstErr(errors.Join(checkName("model", model), checkVersion("version", version))); err != nil {
		return GateRecord{}, err
	}
	if _, err := getVersion(ctx, s.db, model, version); err != nil {
		return GateRecord{}, err
	}
	r, ok, err := getGateRecord(ctx, s.db, model, version)
	if err == nil && !ok {
		err = problem.Wrap(problem.ErrNotFound, "version %d of %q has no gate record", version, model)
	}
	return r, err
}

// EvaluateGate implements API: it evaluates the version against the
// model's policy and current champion, and records the outcome (replacing
// an earlier record of the version). A failed gate is a result, not an
// error.
func (s *Service) EvaluateGate(ctx context.Context, model string, version int64) (GateRecord, error) {
	if err := firstErr(errors.Join(checkName("model", model), checkVersion("version", version))); err != nil {
		return GateRecord{}, err
	}
	in, err := s.gateInput(ctx, model, version)
	if err != nil {
		return GateRecord{}, err
	}
	ev := s.event(ctx, EventGateEvaluated, model)
	ev.Version = version
	checks, failures := evaluateGate(in)
	r := GateRecord{Model: model, Version: version, Passed: len(failures) == 0, Failures: failures, Checks: checks,
		PolicyRevision: in.policy.Revision, EvaluatedAt: ev.At, EvaluatedBy: ev.Actor}
	if in.champion != nil {
		r.Champion = in.champion.Version
	}
	ev.Gate = &GateRef{Passed: r.Passed, Failures: failures}
	err = s.change(ctx, "evaluate_gate", func(tx *sql.Tx) error {
		if err := putGateRecord(ctx, tx, r); err != nil {
			return err
		}
		return s.record(ctx, tx, ev, ev.Gate)
	})
	return r, err
}

// gateInput gathers the policy, versions and schemas an evaluation needs.
// Schemas are read from the artifacts outside any transaction.
func (s *Service) gateInput(ctx context.Context, model string, version int64) (gateInput, error) {
	var in gateInput
	var err error
	if in.candidate, err = getVersion(ctx, s.db, model, version); err != nil {
		return in, err
	}
	if in.policy, err = getGatePolicy(ctx, s.db, model); err != nil {
		return in, err
	}
	champ, err := getAlias(ctx, s.db, model, AliasChampion)
	if errors.Is(err, ErrAliasNotFound) || (err == nil && champ.Version == version) {
		return in, nil
	}
	if err != nil {
		return in, err
	}
	cv, err := getVersion(ctx, s.db, model, champ.Version)
	if err != nil {
		return in, err
	}
	in.champion = &cv
	if !in.policy.SkipSchemaCheck {
		in.candSchema, in.candErr = s.schemaOf(ctx, in.candidate)
		in.champSchema, in.champErr = s.schemaOf(ctx, cv)
	}
	return in, nil
}

// schemaOf reads a version's input schema: from the artifact header of a
// Plinth artifact, from the feature names (or count) of an imported
// XGBoost model. A remote model's schema lives with its server.
func (s *Service) schemaOf(ctx context.Context, v Version) ([]artifact.Field, error) {
	if v.Format != FormatPlinth && v.Format != FormatXGBoost {
		return nil, fmt.Errorf("version %d is %s, whose schema the registry cannot read", v.Version, v.Format)
	}
	rc, _, err := s.OpenArtifact(ctx, v.ArtifactSHA256)
	if err != nil {
		return nil, fmt.Errorf("version %d: %w", v.Version, err)
	}
	defer rc.Close()
	if v.Format == FormatXGBoost {
		m, err := gbdt.ImportXGBoostJSON(rc, s.cfg.MaxArtifactBytes)
		if err != nil {
			return nil, fmt.Errorf("version %d: read XGBoost model: %w", v.Version, err)
		}
		return m.Schema(), nil
	}
	h, _, err := artifact.Read(rc, artifact.Limits{MaxHeader: artifact.DefaultMaxHeader, MaxPayload: s.cfg.MaxArtifactBytes})
	if err != nil {
		return nil, fmt.Errorf("version %d: read artifact: %w", v.Version, err)
	}
	if len(h.Schema) == 0 {
		return nil, fmt.Errorf("version %d: artifact declares no input schema", v.Version)
	}
	return h.Schema, nil
}

// checkChampionGate decides, inside SetAlias's transaction, whether
// champion may move to req.Version. It returns the audit detail to add.
func (s *Service) checkChampionGate(ctx context.Context, tx *sql.Tx, req SetAliasRequest, current int64) (map[string]any, error) {
	reason := gateRefusal(ctx, tx, req, current)
	if reason == "" {
		return map[string]any{"gate": "passed"}, nil
	}
	if !req.Force {
		return nil, fmt.Errorf("champion of %q cannot move to version %d: %s (an admin may force it with a reason): %w",
			req.Model, req.Version, reason, ErrGateNotPassed)
	}
	if !auth.HasScope(ctx, ScopeAdmin) {
		return nil, fmt.Errorf("champion of %q to version %d (%s): %w", req.Model, req.Version, reason, ErrForceNotAllowed)
	}
	if strings.TrimSpace(req.Reason) == "" {
		return nil, problem.Field("reason", "a forced champion move needs a reason")
	}
	return map[string]any{"gate": reason, "forced": true, "reason": req.Reason}, nil
}

// gateRefusal says why the version's gate record does not allow the move,
// or "" when it does.
func gateRefusal(ctx context.Context, tx *sql.Tx, req SetAliasRequest, current int64) string {
	if current == req.Version {
		return ""
	}
	r, ok, err := getGateRecord(ctx, tx, req.Model, req.Version)
	if err != nil {
		return err.Error()
	}
	p, err := getGatePolicy(ctx, tx, req.Model)
	switch {
	case err != nil:
		return err.Error()
	case !ok:
		return fmt.Sprintf("version %d has no gate record; evaluate its gate first", req.Version)
	case !r.Passed:
		return fmt.Sprintf("version %d failed its gate: %s", req.Version, strings.Join(r.Failures, "; "))
	case r.PolicyRevision != p.Revision:
		return fmt.Sprintf("version %d was evaluated under gate policy revision %d, the policy is at %d; evaluate again", req.Version, r.PolicyRevision, p.Revision)
	case r.Champion != current:
		return fmt.Sprintf("version %d was evaluated against champion %d, the champion is %d; evaluate again", req.Version, r.Champion, current)
	}
	return ""
}

// ReadAuditDetail decodes the JSON detail of an audit entry into v.
func ReadAuditDetail(e AuditEntry, v any) error { return decodeJSON(e.Detail, v) }
