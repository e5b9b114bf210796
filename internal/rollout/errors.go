package rollout

import (
	"fmt"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Sentinels of the rollout service, each wrapping a problem kind.
var (
	// ErrNotFound means no rollout has the id.
	ErrNotFound = fmt.Errorf("rollout not found: %w", problem.ErrNotFound)
	// ErrActive means the model has an active rollout already.
	ErrActive = fmt.Errorf("a rollout of the model is active: %w", problem.ErrConflict)
)
