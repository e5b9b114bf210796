package inference

import (
	"errors"
	"fmt"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Sentinel errors. Each wraps a problem kind, so the transports map them to
// status codes without knowing them: 404 for an unknown model or version,
// 503 while a version loads, 500 for a model that failed.
var (
	// ErrModelNotFound means no model of that name is served here.
	ErrModelNotFound = problem.Wrap(problem.ErrNotFound, "model not found")
	// ErrVersionNotFound means the model has no such version.
	ErrVersionNotFound = problem.Wrap(problem.ErrNotFound, "model version not found")
	// ErrLoading means the model or version is being loaded; retry shortly.
	ErrLoading = problem.Wrap(problem.ErrUnavailable, "model is loading")
	// ErrModelFailed means the model itself failed (it panicked or its
	// runtime returned an error); the request fails, the service stays up.
	ErrModelFailed = errors.New("model failed")
	// ErrNoFeatureStore means a request named entity keys but this process
	// has no feature store, or the model names no feature view.
	ErrNoFeatureStore = problem.Wrap(problem.ErrInvalid, "no feature store")
)

// errBadRow means a row's values are not what the model accepts (an MF
// user index out of range, say): the client's fault, 400.
var errBadRow = problem.Wrap(problem.ErrInvalid, "bad input row")

// inferError is an error with a client-facing message and a kind from the
// sentinels above; its message carries no kind suffix, so both the
// problem documents and the protocol's {"error": …} read cleanly.
type inferError struct {
	msg  string
	kind error
}

func (e *inferError) Error() string { return e.msg }
func (e *inferError) Unwrap() error { return e.kind }

// errorf returns an error of the given kind with a formatted message.
func errorf(kind error, format string, args ...any) error {
	return &inferError{msg: fmt.Sprintf(format, args...), kind: kind}
}
