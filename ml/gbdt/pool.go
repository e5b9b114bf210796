package gbdt

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pool runs parallel sections, run(n, fn), on goroutines that live for one
// training run. Training issues sections back to back, a few µs to a few
// hundred µs apart, and on small data many sections take less time than
// waking a parked thread (measured 7–9 µs on a 2-core VM against 1.5 µs
// back to back), so between sections each worker spins for up to spinFor
// before it parks, as OpenMP runtimes do by default. Workers spin only
// when there are no more goroutines than GOMAXPROCS, so a spinning worker
// never holds a processor that the caller needs.
//
// The caller's goroutine works through the section's indexes too, and it
// waits only for the workers that joined the section before it ran out of
// indexes: on a busy machine a worker's thread may not run for
// milliseconds, and a section must not wait for a worker that has nothing
// left to do. A worker that arrives after that skips the section.
//
// A pool is used by one goroutine at a time (the trainer's); fn runs on
// up to threads goroutines at once and must not care which goroutine runs
// which index. close stops the workers and waits for them to exit.
type pool struct {
	threads int
	spin    bool

	// The current section. state packs its epoch (bits 33 up), whether it
	// is closed to new workers (bit 32) and how many workers are inside
	// it (the low 32 bits).
	fn     func(i int)
	n      int64
	next   atomic.Int64 // next index to hand out
	state  atomic.Uint64
	closed atomic.Bool // the pool, not the section

	mu       sync.Mutex
	work     *sync.Cond // signalled when a section opens
	done     *sync.Cond // signalled when the last worker leaves a closed section
	sleepers atomic.Int32
	wg       sync.WaitGroup
}

const (
	epochShift = 33
	closedBit  = 1 << 32
	insideMask = closedBit - 1
)

// spinFor bounds how long a worker waits actively for the next section
// (and the caller for the workers to finish one) before blocking.
const spinFor = 100 * time.Microsecond

// newPool starts threads−1 workers; the caller's goroutine is the last.
func newPool(threads int) *pool {
	p := &pool{threads: max(threads, 1), spin: threads <= runtime.GOMAXPROCS(0)}
	p.work = sync.NewCond(&p.mu)
	p.done = sync.NewCond(&p.mu)
	for range p.threads - 1 {
		p.wg.Add(1)
		go p.worker()
	}
	return p
}

// run calls fn(i) for every i in [0, n), on up to p.threads goroutines,
// and returns when all calls have returned.
func (p *pool) run(n int, fn func(i int)) {
	if p.threads <= 1 || n <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	p.fn, p.n = fn, int64(n)
	p.next.Store(0)
	p.open()
	p.drain()
	p.closeSection()
	p.waitDone()
	p.fn = nil
}

// open starts a new section and wakes parked workers.
func (p *pool) open() {
	epoch := p.state.Load()>>epochShift + 1
	p.state.Store(epoch << epochShift)
	if p.sleepers.Load() > 0 {
		p.mu.Lock()
		p.work.Broadcast()
		p.mu.Unlock()
	}
}

// closeSection stops workers from joining the current section.
func (p *pool) closeSection() {
	for {
		s := p.state.Load()
		if p.state.CompareAndSwap(s, s|closedBit) {
			return
		}
	}
}

// drain runs indexes of the current section until none is left.
func (p *pool) drain() {
	for {
		i := p.next.Add(1) - 1
		if i >= p.n {
			return
		}
		p.fn(int(i))
	}
}

// waitDone waits until every worker that joined the closed section has
// left it.
func (p *pool) waitDone() {
	empty := func() bool { return p.state.Load()&insideMask == 0 }
	if p.spinUntil(empty) {
		return
	}
	p.mu.Lock()
	for !empty() {
		p.done.Wait()
	}
	p.mu.Unlock()
}

// spinUntil polls cond for up to spinFor (not at all when p.spin is
// false) and reports whether it became true.
func (p *pool) spinUntil(cond func() bool) bool {
	if !p.spin {
		return cond()
	}
	var start time.Time
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if i&255 == 255 {
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				return false
			}
		}
	}
}

// worker runs sections until the pool is closed.
func (p *pool) worker() {
	defer p.wg.Done()
	var seen uint64 // epoch 0 is before the first section
	for {
		seen = p.await(seen)
		if p.closed.Load() {
			return
		}
		if !p.join(seen) {
			continue
		}
		p.drain()
		if s := p.state.Add(^uint64(0)); s&insideMask == 0 && s&closedBit != 0 {
			p.mu.Lock()
			p.done.Broadcast()
			p.mu.Unlock()
		}
	}
}

// join enters section epoch unless it is closed or already over.
func (p *pool) join(epoch uint64) bool {
	for {
		s := p.state.Load()
		if s>>epochShift != epoch || s&closedBit != 0 {
			return false
		}
		if p.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// await waits until a section after seen opens (or the pool closes) and
// returns its epoch.
func (p *pool) await(seen uint64) uint64 {
	moved := func() bool { return p.state.Load()>>epochShift != seen || p.closed.Load() }
	if !p.spinUntil(moved) {
		p.mu.Lock()
		p.sleepers.Add(1)
		for !moved() {
			p.work.Wait()
		}
		p.sleepers.Add(-1)
		p.mu.Unlock()
	}
	return p.state.Load() >> epochShift
}

// close stops the workers and waits for them to exit.
func (p *pool) close() {
	p.closed.Store(true)
	p.mu.Lock()
	p.work.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}
