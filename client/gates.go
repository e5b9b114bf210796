package client

import (
	"context"
	"net/http"
	"time"
)

// GatePolicy is a model's validation gate: what a version must show
// before it may become champion. Floors bound metrics absolutely (a
// maximum for metrics where lower is better), MaxRegression bounds how much
// worse than the champion a candidate may be, LatencyP99US is a p99
// predict budget in microseconds (0: none). Revision, UpdatedAt and
// UpdatedBy are set by the server.
type GatePolicy struct {
	Model           string             `json:"model,omitempty"`
	Floors          map[string]float64 `json:"floors,omitempty"`
	MaxRegression   map[string]float64 `json:"max_regression,omitempty"`
	LatencyP99US    float64            `json:"latency_p99_us,omitempty"`
	SkipSchemaCheck bool               `json:"skip_schema_check,omitempty"`
	AutoRollout     bool               `json:"auto_rollout,omitempty"`
	Revision        int64              `json:"revision"`
	UpdatedAt       time.Time          `json:"updated_at,omitzero"`
	UpdatedBy       string             `json:"updated_by,omitempty"`
}

// GateRecord is the outcome of evaluating a version against its model's
// gate: every check that ran, and those that failed.
type GateRecord struct {
	Model          string    `json:"model"`
	Version        int64     `json:"version"`
	Passed         bool      `json:"passed"`
	Failures       []string  `json:"failures,omitempty"`
	Checks         []string  `json:"checks,omitempty"`
	Champion       int64     `json:"champion"`
	PolicyRevision int64     `json:"policy_revision"`
	EvaluatedAt    time.Time `json:"evaluated_at"`
	EvaluatedBy    string    `json:"evaluated_by,omitempty"`
}

// GetGatePolicy returns a model's gate policy (revision 0 when none is set).
func (c *Client) GetGatePolicy(ctx context.Context, model string) (GatePolicy, error) {
	var p GatePolicy
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/models/" + esc(model) + "/gate", out: &p})
	return p, err
}

// SetGatePolicy replaces a model's gate policy with the settable fields of
// p, which makes every earlier gate record of the model stale.
func (c *Client) SetGatePolicy(ctx context.Context, model string, p GatePolicy) (GatePolicy, error) {
	body := struct {
		Floors          map[string]float64 `json:"floors,omitempty"`
		MaxRegression   map[string]float64 `json:"max_regression,omitempty"`
		LatencyP99US    float64            `json:"latency_p99_us,omitempty"`
		SkipSchemaCheck bool               `json:"skip_schema_check,omitempty"`
		AutoRollout     bool               `json:"auto_rollout,omitempty"`
	}{p.Floors, p.MaxRegression, p.LatencyP99US, p.SkipSchemaCheck, p.AutoRollout}
	var out GatePolicy
	_, err := c.do(ctx, request{method: http.MethodPut, path: "/v1/models/" + esc(model) + "/gate", body: body, out: &out})
	return out, err
}

// EvaluateGate evaluates a version against its model's gate and current
// champion, and records the outcome. A failed gate is a record with
// Passed false, not an error.
func (c *Client) EvaluateGate(ctx context.Context, model string, version int64) (GateRecord, error) {
	var r GateRecord
	_, err := c.do(ctx, request{method: http.MethodPost, path: versionPath(model, version) + "/gate", out: &r})
	return r, err
}

// GetGateRecord returns a version's last gate record (a 404 *Error when it
// was never evaluated).
func (c *Client) GetGateRecord(ctx context.Context, model string, version int64) (GateRecord, error) {
	var r GateRecord
	_, err := c.do(ctx, request{method: http.MethodGet, path: versionPath(model, version) + "/gate", out: &r})
	return r, err
}

// ForceAlias points an alias at a version past its validation gate. Only
// champion is gated; forcing needs the admin scope and a reason, and both
// are audited.
func (c *Client) ForceAlias(ctx context.Context, model, alias string, version int64, reason string) (Alias, error) {
	var a Alias
	body := map[string]any{"version": version, "force": true, "reason": reason}
	_, err := c.do(ctx, request{method: http.MethodPut, path: aliasPath(model, alias), body: body, out: &a})
	return a, err
}
