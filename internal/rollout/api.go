package rollout

import (
	"context"
	"time"

	"github.com/plinthai/plinth/internal/wire"
)

// Saga states. Each transition is persisted, with its rollout_<state>
// event in the outbox, before the next step acts:
//
//	           gate evaluated             challenger set, traffic p₀%
//	pending ──► validating ─────────────► canary(p₀) ─► canary(p₁) ─► … ─► canary(pₙ)
//	                │  │                     │ rollback verdict,            │ promote verdict with
//	     gate failed│  │ no champion yet     │ timeout with on_timeout      │ enough samples, or
//	                ▼  │                     │ = rollback, Abort            │ timeout with promote
//	             failed│                     ▼                              ▼
//	                   └──────────────► promoting ◄──────────────────── (last step)
//	                                      │  │ champion refused by the gate
//	                                      │  └──────────────► rolling_back ──► rolled_back
//	                     champion moved,  ▼                   (traffic 0 %, challenger cleared)
//	                     traffic cleared  promoted
//
// The champion never moves before promoting, so compensation is clearing
// the canary: all traffic back to the champion, the challenger alias gone.
const (
	StatePending     = "pending"
	StateValidating  = "validating"
	StateCanary      = "canary"
	StatePromoting   = "promoting"
	StatePromoted    = "promoted"
	StateRollingBack = "rolling_back"
	StateRolledBack  = "rolled_back"
	StateFailed      = "failed"
)

// What a canary step does when its timeout passes without a verdict.
const (
	OnTimeoutPromote  = "promote"
	OnTimeoutRollback = "rollback"
)

// Policy says how a canary advances.
type Policy struct {
	// CanarySteps are the challenger's traffic percentages, in order.
	CanarySteps []float64 `json:"canary_steps"`
	// MinSamples is the least joined samples of each arm a promote verdict
	// needs to count.
	MinSamples int `json:"min_samples"`
	// StepTimeout bounds one step; OnTimeout says what happens then.
	StepTimeout time.Duration `json:"step_timeout"`
	OnTimeout   string        `json:"on_timeout"`
	// Auto marks a rollout the trainer started.
	Auto bool `json:"auto,omitempty"`
}

// Rollout is one saga and where it stands.
type Rollout struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Version int64  `json:"version"`
	// Champion is the champion when the canary began (0 before, or none).
	Champion      int64     `json:"champion,omitempty"`
	State         string    `json:"state"`
	StepIndex     int       `json:"step_index"`
	StepStartedAt time.Time `json:"step_started_at,omitzero"`
	Policy        Policy    `json:"policy"`
	// Reason says why the rollout failed or rolled back.
	Reason      string             `json:"reason,omitempty"`
	JobID       string             `json:"job_id,omitempty"`
	LastVerdict wire.CanaryVerdict `json:"last_verdict,omitzero"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	CreatedBy   string             `json:"created_by,omitempty"`
}

// Final reports whether the saga is over.
func (r Rollout) Final() bool {
	return r.State == StatePromoted || r.State == StateRolledBack || r.State == StateFailed
}

// Percent is the challenger's share in the current canary step.
func (r Rollout) Percent() float64 {
	if r.State != StateCanary || r.StepIndex >= len(r.Policy.CanarySteps) {
		return 0
	}
	return r.Policy.CanarySteps[r.StepIndex]
}

// StartRequest starts a rollout of a version; zero policy fields take the
// configured defaults.
type StartRequest struct {
	Model       string        `json:"model"`
	Version     int64         `json:"version"`
	CanarySteps []float64     `json:"canary_steps,omitempty"`
	MinSamples  int           `json:"min_samples,omitempty"`
	StepTimeout time.Duration `json:"step_timeout,omitempty"`
	OnTimeout   string        `json:"on_timeout,omitempty"`
}

// API is the rollout service's contract.
type API interface {
	// Start begins a rollout; ErrConflict when the model has one active.
	Start(ctx context.Context, req StartRequest) (Rollout, error)
	Get(ctx context.Context, id string) (Rollout, error)
	// List returns a model's rollouts, newest first.
	List(ctx context.Context, model string) ([]Rollout, error)
	// Abort rolls an active rollout back (a no-op on a final one).
	Abort(ctx context.Context, id, reason string) (Rollout, error)
}

// Verdicts judges a canary on live traffic; the monitor implements it.
type Verdicts interface {
	Verdict(ctx context.Context, model string, champion, challenger int64) (wire.CanaryVerdict, error)
}
