// Package online is the family of online feature stores: the state of
// every entity of every view, updated by the features consumer and read by
// lookups. Store is the interface; each backend is a sub-package (embedded:
// in process, sharded, snapshots to disk; redisstore: Redis, shared by
// replicas) and every backend passes the one behaviour suite in
// onlinetest.
package online

import (
	"context"
	"time"

	"github.com/plinthai/plinth/internal/features/view"
)

// Counts reports what Apply did with a batch of rows.
type Counts struct {
	Applied, Duplicates, Late int
}

// Add adds the outcome of one row.
func (c *Counts) Add(o view.Outcome) {
	switch o {
	case view.Applied:
		c.Applied++
	case view.Duplicate:
		c.Duplicates++
	default:
		c.Late++
	}
}

// Store is an online feature store. Implementations are safe for
// concurrent use, including Apply from several goroutines or processes on
// the same entities (the Redis store serialises them per entity).
type Store interface {
	// Apply applies rows of view v in order, atomically per entity, and
	// refreshes the entities' cached features as of now. Applying a row
	// twice changes nothing the second time (see package view).
	Apply(ctx context.Context, v *view.View, rows []view.Row, now time.Time) (Counts, error)
	// Lookup writes the features of each entity as of now into
	// out[i*v.Width():(i+1)*v.Width()] and whether it is known into
	// found[i]. out and found are the caller's, of the right lengths.
	Lookup(ctx context.Context, v *view.View, entities []string, now time.Time, out []float64, found []bool) error
	// State returns an entity's encoded state, nil when unknown (for tests
	// and replay checks).
	State(ctx context.Context, v *view.View, entity string) ([]byte, error)
	// Position returns the highest stream sequence applied to v, and true,
	// when the store itself remembers where the consumer must resume (the
	// embedded store, whose state lives and dies with its snapshot); false
	// when the stream consumer's acknowledgements are the position (Redis).
	Position(ctx context.Context, v *view.View) (uint64, bool, error)
	// Close releases the store (the embedded one writes a last snapshot).
	Close() error
}

// Sequencer is implemented by stores that track positions: the consumer
// reports the stream sequence a batch ended at with it.
type Sequencer interface {
	SetPosition(v *view.View, seq uint64)
}
