package registry

import (
	"strings"
	"time"
)

// Event types published to the MODELS stream.
const (
	EventModelCreated    = "model_created"
	EventVersionCreated  = "version_created"
	EventVersionUpdated  = "version_updated"
	EventVersionArchived = "version_archived"
	EventAliasMoved      = "alias_moved"
	EventAliasDeleted    = "alias_deleted"
	EventTrafficChanged  = "traffic_changed"
	EventGatePolicySet   = "gate_policy_set"
	EventGateEvaluated   = "gate_evaluated"
)

// Event is the JSON body of a MODELS message.
type Event struct {
	Type        string    `json:"type"`
	Model       string    `json:"model"`
	Version     int64     `json:"version,omitempty"`
	Alias       string    `json:"alias,omitempty"`
	PrevVersion int64     `json:"prev_version,omitempty"`
	Traffic     *Traffic  `json:"traffic,omitempty"`
	Job         *JobRef   `json:"job,omitempty"`
	Gate        *GateRef  `json:"gate,omitempty"`
	Actor       string    `json:"actor"`
	At          time.Time `json:"at"`
}

// Subject returns the MODELS subject for an event of a model:
// models.<model>.<event>. A dot in a model name would split the token, so
// it is written as "~", which names never contain.
func Subject(model, event string) string {
	return "models." + strings.ReplaceAll(model, ".", "~") + "." + event
}

// SubjectAll matches every registry event of every model.
const SubjectAll = "models.>"

// JobRef is the state of a job carried by its events.
type JobRef struct {
	ID       string  `json:"id"`
	Status   string  `json:"status"`
	Progress float64 `json:"progress"`
	Message  string  `json:"message,omitempty"`
	Error    string  `json:"error,omitempty"`
	Attempts int     `json:"attempts"`
}

// GateRef is the outcome of a gate evaluation carried by its event.
type GateRef struct {
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`
}
