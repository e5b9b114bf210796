package client

import (
	"context"
	"net/http"
	"time"
)

// Rollout states; promoted, rolled_back and failed are final.
const (
	RolloutPending     = "pending"
	RolloutValidating  = "validating"
	RolloutCanary      = "canary"
	RolloutPromoting   = "promoting"
	RolloutPromoted    = "promoted"
	RolloutRollingBack = "rolling_back"
	RolloutRolledBack  = "rolled_back"
	RolloutFailed      = "failed"
)

// RolloutPolicy says how a canary advances: the challenger's traffic
// percentages in order, the samples a promote verdict needs, how long a
// step may take and what happens then ("promote" or "rollback").
type RolloutPolicy struct {
	CanarySteps []float64     `json:"canary_steps"`
	MinSamples  int           `json:"min_samples"`
	StepTimeout time.Duration `json:"step_timeout"`
	OnTimeout   string        `json:"on_timeout"`
	Auto        bool          `json:"auto,omitempty"`
}

// CanaryVerdict is the monitor's judgement of a challenger against the
// champion on live traffic.
type CanaryVerdict struct {
	Model             string    `json:"model"`
	Champion          int64     `json:"champion"`
	Challenger        int64     `json:"challenger"`
	Decision          string    `json:"decision"`
	Reason            string    `json:"reason"`
	Metric            string    `json:"metric"`
	ChampionValue     float64   `json:"champion_value"`
	ChallengerValue   float64   `json:"challenger_value"`
	ChampionSamples   int       `json:"champion_samples"`
	ChallengerSamples int       `json:"challenger_samples"`
	ChallengerP99MS   float64   `json:"challenger_p99_ms"`
	ChampionP99MS     float64   `json:"champion_p99_ms"`
	At                time.Time `json:"at"`
}

// Rollout is one rollout saga and where it stands.
type Rollout struct {
	ID            string        `json:"id"`
	Model         string        `json:"model"`
	Version       int64         `json:"version"`
	Champion      int64         `json:"champion,omitempty"`
	State         string        `json:"state"`
	StepIndex     int           `json:"step_index"`
	StepStartedAt time.Time     `json:"step_started_at,omitzero"`
	Policy        RolloutPolicy `json:"policy"`
	Reason        string        `json:"reason,omitempty"`
	JobID         string        `json:"job_id,omitempty"`
	LastVerdict   CanaryVerdict `json:"last_verdict,omitzero"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	CreatedBy     string        `json:"created_by,omitempty"`
}

// Final reports whether the rollout is over.
func (r Rollout) Final() bool {
	return r.State == RolloutPromoted || r.State == RolloutRolledBack || r.State == RolloutFailed
}

// RolloutStep is one entry of a rollout's saga log.
type RolloutStep struct {
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"started_at"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	Detail    string    `json:"detail,omitempty"`
}

// StartRolloutRequest starts a rollout of a version; zero fields take the
// server's configured defaults.
type StartRolloutRequest struct {
	Version     int64
	CanarySteps []float64
	MinSamples  int
	StepTimeout time.Duration
	OnTimeout   string
}

// StartRollout starts a rollout; a 409 *Error when the model has one
// active or the version is champion already.
func (c *Client) StartRollout(ctx context.Context, model string, req StartRolloutRequest) (Rollout, error) {
	body := struct {
		Version     int64     `json:"version"`
		CanarySteps []float64 `json:"canary_steps,omitempty"`
		MinSamples  int       `json:"min_samples,omitempty"`
		StepTimeout string    `json:"step_timeout,omitempty"`
		OnTimeout   string    `json:"on_timeout,omitempty"`
	}{Version: req.Version, CanarySteps: req.CanarySteps, MinSamples: req.MinSamples, OnTimeout: req.OnTimeout}
	if req.StepTimeout > 0 {
		body.StepTimeout = req.StepTimeout.String()
	}
	var r Rollout
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/models/" + esc(model) + "/rollouts", body: body, out: &r})
	return r, err
}

// StartAutoRollout starts an automatic rollout of a version whose gate
// passed, on the server's configured policy, recording the job that
// registered it. It is idempotent per version: a version that has a
// rollout already returns its newest.
func (c *Client) StartAutoRollout(ctx context.Context, model string, version int64, jobID string) (Rollout, error) {
	body := struct {
		Version int64  `json:"version"`
		Auto    bool   `json:"auto"`
		JobID   string `json:"job_id,omitempty"`
	}{Version: version, Auto: true, JobID: jobID}
	var r Rollout
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/models/" + esc(model) + "/rollouts", body: body, out: &r})
	return r, err
}

// ListRollouts returns a model's rollouts, newest first.
func (c *Client) ListRollouts(ctx context.Context, model string) ([]Rollout, error) {
	var out struct{ Rollouts []Rollout }
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/models/" + esc(model) + "/rollouts", out: &out})
	return out.Rollouts, err
}

// GetRollout returns a rollout.
func (c *Client) GetRollout(ctx context.Context, id string) (Rollout, error) {
	var r Rollout
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/rollouts/" + esc(id), out: &r})
	return r, err
}

// RolloutSteps returns a rollout's saga log in the order the steps started.
func (c *Client) RolloutSteps(ctx context.Context, id string) ([]RolloutStep, error) {
	var out struct{ Steps []RolloutStep }
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/rollouts/" + esc(id) + "/steps", out: &out})
	return out.Steps, err
}

// AbortRollout rolls an active rollout back; a final one comes back
// unchanged.
func (c *Client) AbortRollout(ctx context.Context, id, reason string) (Rollout, error) {
	var r Rollout
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/rollouts/" + esc(id) + "/abort", body: map[string]string{"reason": reason}, out: &r})
	return r, err
}
