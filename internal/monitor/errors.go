package monitor

import (
	"fmt"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Sentinels of the monitor. Each wraps a kind of package problem, so the
// transports map them to status codes without knowing them.
var (
	// ErrUnknownModel means this replica does not watch the model (see
	// Config.Models).
	ErrUnknownModel = fmt.Errorf("model not watched by this monitor: %w", problem.ErrNotFound)
	// ErrWebhook means an alert could not be delivered after every retry.
	ErrWebhook = fmt.Errorf("alert webhook failed: %w", problem.ErrUnavailable)
)
