package gateway

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Latency distributions of a fault rule.
const (
	DistFixed       = "fixed"
	DistUniform     = "uniform"
	DistNormal      = "normal"
	DistExponential = "exponential"
)

// FaultRule injects faults into matching requests: latency drawn from a
// distribution, then an abort (the connection closed without a response)
// or an error response, each with a probability. A rule matches by route
// pattern, by target (an operation's first tag), or, with neither, every
// operation but the fault API itself.
type FaultRule struct {
	Route        string  `json:"route,omitempty"`
	Target       string  `json:"target,omitempty"`
	Latency      string  `json:"latency,omitempty"`
	Jitter       string  `json:"jitter,omitempty"`
	Distribution string  `json:"distribution,omitempty"`
	ErrorRate    float64 `json:"error_rate,omitempty"`
	ErrorStatus  int     `json:"error_status,omitempty"`
	AbortRate    float64 `json:"abort_rate,omitempty"`

	latency, jitter time.Duration
}

// compile parses and checks the rule's fields.
func (f *FaultRule) compile() error {
	var errs []error
	var err error
	if f.Latency != "" {
		if f.latency, err = time.ParseDuration(f.Latency); err != nil || f.latency < 0 {
			errs = append(errs, fmt.Errorf("latency: %q is not a non-negative Go duration", f.Latency))
		}
	}
	if f.Jitter != "" {
		if f.jitter, err = time.ParseDuration(f.Jitter); err != nil || f.jitter < 0 {
			errs = append(errs, fmt.Errorf("jitter: %q is not a non-negative Go duration", f.Jitter))
		}
	}
	switch f.Distribution {
	case "", DistFixed, DistUniform, DistNormal, DistExponential:
	default:
		errs = append(errs, fmt.Errorf("distribution: %q is not fixed, uniform, normal or exponential", f.Distribution))
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 || f.AbortRate < 0 || f.AbortRate > 1 {
		errs = append(errs, errors.New("error_rate and abort_rate: must be within [0, 1]"))
	}
	if f.ErrorStatus != 0 && (f.ErrorStatus < 400 || f.ErrorStatus > 599) {
		errs = append(errs, fmt.Errorf("error_status: %d is not a 4xx or 5xx status", f.ErrorStatus))
	}
	return errors.Join(errs...)
}

func (f *FaultRule) matches(op Operation) bool {
	if op.Target == faultAPITarget && op.Path == "/v1/faults" {
		return false
	}
	return (f.Route == "" || f.Route == op.Pattern()) && (f.Target == "" || f.Target == op.Target)
}

// delay draws the added latency.
func (f *FaultRule) delay() time.Duration {
	base, j := float64(f.latency), float64(f.jitter)
	var d float64
	switch f.Distribution {
	case DistUniform:
		d = base + (rand.Float64()*2-1)*j
	case DistNormal:
		d = base + rand.NormFloat64()*j
	case DistExponential:
		d = rand.ExpFloat64() * base
	default:
		d = base
	}
	return time.Duration(math.Max(d, 0))
}

// faultAPITarget is the target whose fault API no rule touches, so a rule
// can always be removed.
const faultAPITarget = "gateway"

// faultOutcome is what a rule decided for one request.
type faultOutcome int

const (
	faultNone faultOutcome = iota
	faultError
	faultAbort
)

// Faults holds the rules in force. It is safe for concurrent use.
type Faults struct {
	enabled bool
	mu      sync.RWMutex
	rules   []FaultRule
}

// NewFaults returns the fault injector; rules apply only when enabled.
func NewFaults(enabled bool, rules []FaultRule) *Faults {
	return &Faults{enabled: enabled, rules: rules}
}

// Rules returns a copy of the rules in force.
func (f *Faults) Rules() []FaultRule {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return append([]FaultRule{}, f.rules...)
}

// Set replaces the rules after checking them. It fails when fault
// injection is not enabled.
func (f *Faults) Set(rules []FaultRule) error {
	if !f.enabled {
		return errFaultsDisabled
	}
	for i := range rules {
		if err := rules[i].compile(); err != nil {
			return fieldErr(fmt.Sprintf("rules[%d]", i), err)
		}
	}
	f.mu.Lock()
	f.rules = rules
	f.mu.Unlock()
	return nil
}

// Enabled reports whether fault injection is allowed.
func (f *Faults) Enabled() bool { return f.enabled }

// apply waits the latency of the first matching rule and returns what to
// do with the request and the status of an injected error.
func (f *Faults) apply(ctx context.Context, op Operation) (faultOutcome, int, time.Duration) {
	rule, ok := f.match(op)
	if !ok {
		return faultNone, 0, 0
	}
	d := rule.delay()
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	switch {
	case rule.AbortRate > 0 && rand.Float64() < rule.AbortRate:
		return faultAbort, 0, d
	case rule.ErrorRate > 0 && rand.Float64() < rule.ErrorRate:
		status := rule.ErrorStatus
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		return faultError, status, d
	}
	return faultNone, 0, d
}

func (f *Faults) match(op Operation) (FaultRule, bool) {
	if !f.enabled {
		return FaultRule{}, false
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, r := range f.rules {
		if r.matches(op) {
			return r, true
		}
	}
	return FaultRule{}, false
}

// Len returns how many rules are in force.
func (f *Faults) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.rules)
}
