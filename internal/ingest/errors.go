package ingest

import (
	"fmt"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Sentinels of the ingest service. Each wraps a kind of package problem, so
// transports map them to status codes without knowing them.
var (
	// ErrStreamNotFound means no stream of that name is declared.
	ErrStreamNotFound = fmt.Errorf("stream not found: %w", problem.ErrNotFound)
	// ErrBusy means JetStream did not persist every valid event in time;
	// the Result names the events not accepted. Retry after a pause:
	// events with ids are deduplicated.
	ErrBusy = fmt.Errorf("event bus busy: %w", problem.ErrUnavailable)
	// ErrOverloaded means too many events are in flight already; nothing of
	// the request was published. HTTP answers 429.
	ErrOverloaded = fmt.Errorf("too many events in flight: %w", problem.ErrUnavailable)
)

// Reasons for events that were valid but not accepted.
const (
	reasonBusy       = "not persisted in time by the event bus; retry"
	reasonOverloaded = "too many events in flight; retry"
)
