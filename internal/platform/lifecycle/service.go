// Package lifecycle gives Plinth's services a common life and starts them in
// dependency order. It has the meaning of grafana/dskit's services and
// modules packages in a few hundred lines and no dependencies:
//
//	         Start ok            ctx cancelled or Stop
//	New ──► Starting ──► Running ──────────────► Stopping ──► Terminated
//	            │            │ Run returned error       │
//	            └─ error ────┴──────────────────────────┴──► Failed
//
// A Service is three functions: Starting prepares it (open stores, load
// state) and returns once it can serve; Running blocks until its context is
// cancelled, returning nil, or until it fails, returning the error; Stopping
// releases what Starting took, within the deadline of its context. Readiness
// is separate from liveness: CheckReady says whether the service can take
// work now.
package lifecycle

import (
	"context"
	"errors"
)

// Service is a long-running component managed by a Manager.
type Service interface {
	// Starting prepares the service. An error fails the whole start.
	Starting(ctx context.Context) error
	// Running blocks until ctx is cancelled (return nil) or the service fails
	// (return the error). A service with nothing to run returns
	// after ctx is done.
	Running(ctx context.Context) error
	// Stopping releases resources within ctx's deadline. It is called once,
	// after Running has returned, also when Running failed.
	Stopping(ctx context.Context) error
	// CheckReady reports whether the service can take work now.
	CheckReady(ctx context.Context) error
}

// Drainer is implemented by services that must stop taking new work before
// any service is stopped, such as the HTTP and gRPC servers: the manager
// calls Drain on every service that has it, in reverse dependency order,
// before stopping the first one.
type Drainer interface {
	Drain(ctx context.Context) error
}

// Funcs builds a Service from functions; nil functions do nothing, and a nil
// RunFn waits for its context.
type Funcs struct {
	StartFn func(ctx context.Context) error
	RunFn   func(ctx context.Context) error
	StopFn  func(ctx context.Context) error
	ReadyFn func(ctx context.Context) error
}

// Starting calls StartFn.
func (f Funcs) Starting(ctx context.Context) error {
	if f.StartFn == nil {
		return nil
	}
	return f.StartFn(ctx)
}

// Running calls RunFn, or waits for ctx when RunFn is nil.
func (f Funcs) Running(ctx context.Context) error {
	if f.RunFn == nil {
		<-ctx.Done()
		return nil
	}
	return f.RunFn(ctx)
}

// Stopping calls StopFn.
func (f Funcs) Stopping(ctx context.Context) error {
	if f.StopFn == nil {
		return nil
	}
	return f.StopFn(ctx)
}

// CheckReady calls ReadyFn.
func (f Funcs) CheckReady(ctx context.Context) error {
	if f.ReadyFn == nil {
		return nil
	}
	return f.ReadyFn(ctx)
}

// ErrNotReady is returned by readiness checks while starting or stopping.
var ErrNotReady = errors.New("not ready")
