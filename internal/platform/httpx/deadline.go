package httpx

import (
	"context"
	"sync"
	"time"
)

// Deadline is context.WithDeadline's context for a request's time limit,
// made cheap for the requests that never wait on their context: it starts
// its timer and hooks onto its parent only when something first asks for
// Done (a database query, a bus publish, a derived context), not when it
// is made. A context.WithDeadline costs a timer, a child entry in the
// parent and four allocations on every request, whether or not anything
// waits; a Deadline costs one allocation.
//
// It behaves as context.WithDeadline's context does: Done is closed when
// the deadline passes, the parent is done or Cancel is called, whichever
// is first; Err is then context.DeadlineExceeded, the parent's error or
// context.Canceled, and it reports an expired deadline or a done parent
// even if Done was never asked for. The one difference: context.Cause
// reports the parent's cause (nil unless the parent was cancelled), not
// DeadlineExceeded. It is safe for concurrent use.
type Deadline struct {
	parent   context.Context
	deadline time.Time

	// Invariant: err != nil once it is done, and then done (if made) is
	// closed and the timer and the parent hook are stopped.
	mu         sync.Mutex
	done       chan struct{} // made by the first Done
	err        error
	timer      *time.Timer
	stopParent func() bool
	afters     []*afterFunc
}

var _ context.Context = (*Deadline)(nil)

// WithDeadline returns a context done at deadline (or at the parent's, if
// earlier). Cancel must be called when the request ends.
func WithDeadline(parent context.Context, deadline time.Time) *Deadline {
	c := new(Deadline)
	c.Init(parent, deadline)
	return c
}

// Init makes c, a zero Deadline, what WithDeadline returns: for a Deadline
// inside a larger context, so that the two take one allocation. It must
// not be called on a Deadline in use.
func (c *Deadline) Init(parent context.Context, deadline time.Time) {
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.parent, c.deadline = parent, deadline
}

// afterFunc is one AfterFunc registration; f is nil once it ran or was
// stopped.
type afterFunc struct{ f func() }

// Deadline implements context.Context.
func (c *Deadline) Deadline() (time.Time, bool) { return c.deadline, true }

// Value implements context.Context: the parent's values.
func (c *Deadline) Value(key any) any { return c.parent.Value(key) }

// Done starts watching the deadline and the parent on its first call.
func (c *Deadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		c.err = c.expiredLocked()
	}
	if c.err != nil {
		close(c.done)
		return c.done
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.finish(context.DeadlineExceeded) })
	c.stopParent = context.AfterFunc(c.parent, func() { c.finish(c.parent.Err()) })
	return c.done
}

// Err is nil until the context is done. Before anything watches, it looks
// at the clock and the parent, and remembers what it found.
func (c *Deadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.done == nil {
		c.err = c.expiredLocked()
	}
	return c.err
}

// expiredLocked is parent's error, else DeadlineExceeded once the deadline
// has passed, else nil.
func (c *Deadline) expiredLocked() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// AfterFunc runs f in its own goroutine once the context is done, as
// context.AfterFunc does; stop unregisters f, reporting whether it had not
// run yet. With it, contexts derived from this one (context.WithCancel and
// the like) hook onto it without a goroutine each.
func (c *Deadline) AfterFunc(f func()) (stop func() bool) {
	c.Done()
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &afterFunc{f: f}
	if c.err != nil {
		a.f = nil
		go f()
	} else {
		c.afters = append(c.afters, a)
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		ran := a.f == nil
		a.f = nil
		return !ran
	}
}

// Cancel makes the context done with context.Canceled, unless it is done
// already, and releases its timer; calling it again does nothing.
func (c *Deadline) Cancel() { c.finish(context.Canceled) }

// finish makes the context done with err, unless it is done already, and
// releases what watching it took.
func (c *Deadline) finish(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	if c.timer == nil {
		return // never watched (so no AfterFunc either), or released already
	}
	c.timer.Stop()
	c.stopParent()
	c.timer = nil
	close(c.done)
	for _, a := range c.afters {
		if a.f != nil {
			go a.f()
			a.f = nil
		}
	}
	c.afters = nil
}
