package drift

import "fmt"

// Rolling keeps the last N intervals of live data as N windows in a ring:
// Add counts into the current interval, Advance starts a new one and drops
// the oldest, and Snapshot merges them. Memory is N windows, fixed by the
// profile's bins. A Rolling is not safe for concurrent use.
type Rolling struct {
	ring []*Window
	cur  int
}

// NewRolling returns a ring of n ≥ 1 intervals over p.
func NewRolling(p *Profile, n int) (*Rolling, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: rolling window of %d intervals, want ≥ 1", ErrInput, n)
	}
	r := &Rolling{ring: make([]*Window, n)}
	for i := range r.ring {
		r.ring[i] = NewWindow(p)
	}
	return r, nil
}

// Current returns the window of the current interval, to Add into.
func (r *Rolling) Current() *Window { return r.ring[r.cur] }

// Advance starts a new interval, forgetting the oldest one.
func (r *Rolling) Advance() {
	r.cur = (r.cur + 1) % len(r.ring)
	r.ring[r.cur].Reset()
}

// Snapshot returns a new window holding the last N intervals merged.
func (r *Rolling) Snapshot() *Window {
	out := NewWindow(r.ring[0].profile)
	for _, w := range r.ring {
		_ = out.Merge(w) // same profile by construction
	}
	return out
}
