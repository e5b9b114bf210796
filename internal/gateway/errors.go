package gateway

import (
	"fmt"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Sentinels of the gateway. Each wraps a kind of package problem.
var (
	// ErrFaultsDisabled means fault rules were sent to a process started
	// without --faults.enabled.
	ErrFaultsDisabled = fmt.Errorf("fault injection is off; start the process with --faults.enabled: %w", problem.ErrConflict)
	// ErrIdempotencyInFlight means a request with the same Idempotency-Key
	// is still being served.
	ErrIdempotencyInFlight = problem.FieldKind(problem.ErrConflict, IdempotencyKeyHeader,
		"a request with this key is still in progress; retry after it finishes")
	// ErrIdempotencyMismatch means the key was used before for a different
	// request.
	ErrIdempotencyMismatch = problem.FieldKind(problem.ErrUnprocessable, IdempotencyKeyHeader,
		"this key was used for a different request (method, path or body); use a new key")
)

var errFaultsDisabled = ErrFaultsDisabled

// fieldErr names field as the culprit of err.
func fieldErr(field string, err error) error { return problem.Field(field, "%v", err) }
