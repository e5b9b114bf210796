package inference

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// errBatcherClosed tells a caller to run its rows itself: the version was
// swapped out and its batcher stopped while the request was on its way.
var errBatcherClosed = errors.New("batcher closed")

// batchCall is one request's rows waiting in a batch. done is reused
// across requests (the call is pooled), so it is buffered and read once per
// submit.
type batchCall struct {
	ctx  context.Context
	rows []float32
	n    int
	out  []float64
	err  error
	done chan struct{}
}

// batcher coalesces concurrent requests for one loaded version into one
// model call of up to maxRows rows. It is adaptive: a batch waits (at most
// maxDelay after its first request) only while more requests of the model
// are in flight than the batch holds, so a lone request never waits.
type batcher struct {
	rt       runtime
	outs     []outputSpec
	width    int
	maxRows  int
	maxDelay time.Duration
	inflight *atomic.Int64
	m        *versionMetrics

	mu     sync.RWMutex
	closed bool
	in     chan *batchCall

	// Owned by the run goroutine.
	calls []*batchCall
	rows  []float32
	out   []float64
}

func newBatcher(rt runtime, sig *signature, maxRows int, maxDelay time.Duration, inflight *atomic.Int64, m *versionMetrics) *batcher {
	return &batcher{
		rt: rt, outs: sig.outputs, width: sig.width(), maxRows: maxRows, maxDelay: maxDelay,
		inflight: inflight, m: m, in: make(chan *batchCall, 4*maxRows),
	}
}

// submit queues c and blocks until its batch ran, returning the model's
// error. It returns errBatcherClosed without running when the batcher was
// stopped.
func (b *batcher) submit(c *batchCall) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errBatcherClosed
	}
	b.in <- c
	b.mu.RUnlock()
	<-c.done
	return c.err
}

// close stops taking calls; run finishes the queued ones and returns.
func (b *batcher) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
}

// run serves batches until close.
func (b *batcher) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for first := range b.in {
		b.calls = append(b.calls[:0], first)
		b.collect(first.n, timer)
		b.flush()
	}
}

// collect adds queued calls to the batch, waiting for more only while
// others are in flight.
func (b *batcher) collect(rows int, timer *time.Timer) {
	deadline := time.Now().Add(b.maxDelay)
	for rows < b.maxRows {
		select {
		case c, ok := <-b.in:
			if !ok {
				return
			}
			b.calls = append(b.calls, c)
			rows += c.n
			continue
		default:
		}
		wait := time.Until(deadline)
		if wait <= 0 || int64(len(b.calls)) >= b.inflight.Load() {
			return
		}
		timer.Reset(wait)
		select {
		case c, ok := <-b.in:
			timer.Stop()
			if !ok {
				return
			}
			b.calls = append(b.calls, c)
			rows += c.n
		case <-timer.C:
			return
		}
	}
}

// flush runs the batch as one model call and hands each call its rows'
// outputs.
func (b *batcher) flush() {
	if len(b.calls) == 1 {
		c := b.calls[0]
		c.err = safePredict(c.ctx, b.rt, c.rows, c.n, c.out)
		b.m.batch.Observe(float64(c.n))
		c.done <- struct{}{}
		return
	}
	n := 0
	b.rows = b.rows[:0]
	for _, c := range b.calls {
		b.rows = append(b.rows, c.rows[:c.n*b.width]...)
		n += c.n
	}
	outWidth := 0
	for _, o := range b.outs {
		outWidth += o.width
	}
	b.out = grow(b.out, n*outWidth)
	err := safePredict(context.WithoutCancel(b.calls[0].ctx), b.rt, b.rows, n, b.out)
	b.m.batch.Observe(float64(n))
	at := 0
	for _, c := range b.calls {
		c.err = err
		if err == nil {
			b.scatter(c, at, n)
		}
		at += c.n
		c.done <- struct{}{}
	}
}

// scatter copies rows [at, at+c.n) of every output block of the batch into
// c.out's blocks.
func (b *batcher) scatter(c *batchCall, at, n int) {
	off := 0
	for _, o := range b.outs {
		src := b.out[off*n+at*o.width : off*n+(at+c.n)*o.width]
		copy(c.out[off*c.n:], src)
		off += o.width
	}
}

// safePredict calls the runtime, turning a panic into ErrModelFailed so
// one bad model call fails only its requests.
func safePredict(ctx context.Context, rt runtime, rows []float32, n int, out []float64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: panic: %v", ErrModelFailed, p)
		}
	}()
	return rt.predict(ctx, rows, n, out)
}

// grow returns s resized to n, reusing its array when large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n, max(n, 2*cap(s)))
}
