package features

import (
	"fmt"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Sentinels of the features service. Each wraps a kind of package problem,
// so transports map them to status codes without knowing them.
var (
	// ErrViewNotFound means no view of that name is declared.
	ErrViewNotFound = fmt.Errorf("feature view not found: %w", problem.ErrNotFound)
)
