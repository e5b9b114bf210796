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
// A pool is used by one goroutine at a time (the trainer's); fn runs on
// up to threads goroutines at once and must not care which goroutine runs
// which index. close stops the workers and waits for them to exit.
type pool struct {
	threads int
	spin    bool

	// The current section, published by bumping epoch.
	fn      func(i int)
	n       int64
	next    atomic.Int64 // next index to hand out
	pending atomic.Int32 // workers still inside the section
	epoch   atomic.Uint64
	closed  atomic.Bool

	mu       sync.Mutex
	work     *sync.Cond // signalled when epoch changes
	done     *sync.Cond // signalled when pending reaches 0
	sleepers atomic.Int32
	wg       sync.WaitGroup
}

// spinFor bounds how long a worker waits actively for the next section
// (and the caller for the workers to finish one) before blocking.
const spinFor = 200 * time.Microsecond

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
	p.pending.Store(int32(p.threads - 1))
	p.epoch.Add(1)
	if p.sleepers.Load() > 0 {
		p.mu.Lock()
		p.work.Broadcast()
		p.mu.Unlock()
	}
	p.drain()
	p.waitDone()
	p.fn = nil
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

// waitDone waits until every worker has left the current section.
func (p *pool) waitDone() {
	if p.spinUntil(func() bool { return p.pending.Load() == 0 }) {
		return
	}
	p.mu.Lock()
	for p.pending.Load() != 0 {
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
	var seen uint64 // the epoch before the first section, not read here: the first may already be out
	for {
		seen = p.await(seen)
		if p.closed.Load() {
			return
		}
		p.drain()
		if p.pending.Add(-1) == 0 {
			p.mu.Lock()
			p.done.Broadcast()
			p.mu.Unlock()
		}
	}
}

// await waits until the epoch moves past seen and returns the new one.
func (p *pool) await(seen uint64) uint64 {
	if p.spinUntil(func() bool { return p.epoch.Load() != seen }) {
		return p.epoch.Load()
	}
	p.mu.Lock()
	p.sleepers.Add(1)
	for p.epoch.Load() == seen {
		p.work.Wait()
	}
	p.sleepers.Add(-1)
	p.mu.Unlock()
	return p.epoch.Load()
}

// close stops the workers and waits for them to exit.
func (p *pool) close() {
	p.closed.Store(true)
	p.epoch.Add(1)
	p.mu.Lock()
	p.work.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}
