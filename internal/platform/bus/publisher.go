package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Publisher publishes batches of messages to JetStream and collects their
// acknowledgements. It does what jetstream.PublishMsgAsync does, a core
// NATS publish whose reply subject the stream answers with its
// acknowledgement once the message is persisted, but for a whole batch at
// once: one wildcard subscription receives every acknowledgement, a reply
// subject names the batch and the message's index in it
// (<inbox>.<batch>.<index>), and the batch waits on one channel. There is
// no future, timer, channel or decoded JSON document per message, and the
// reply subjects of a batch share one allocation.
//
// A message counts as persisted only on an acknowledgement naming a
// stream and no error. A "no responders" status (no stream takes the
// subject, or none is ready), an error acknowledgement, a failed publish,
// a reconnection before the acknowledgement came, a timeout or a done
// context all count as not persisted, and nothing is resent: the caller
// decides whether to retry (a Msg-Id makes a retry harmless).
//
// A Bus makes one Publisher on its connection ([Bus.Publisher]) and closes
// it with the connection. It is safe for concurrent use.
type Publisher struct {
	nc     *nats.Conn
	prefix string // reply subjects are prefix + "<batch>.<index>"
	sub    *nats.Subscription
	status chan nats.Status
	done   chan struct{} // closed when watch returns

	mu      sync.Mutex
	batches map[uint64]*batch
	next    uint64
	closed  bool
}

// Outcome is what became of one message of a batch.
type Outcome uint8

const (
	pending Outcome = iota // no answer yet; never in a BatchResult
	// Stored means JetStream persisted the message.
	Stored
	// Duplicate means JetStream had persisted a message with the same
	// Msg-Id within the stream's duplicate window and dropped this one.
	Duplicate
	// Failed means the message is not known to be persisted: retry it.
	Failed
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Stored:
		return "stored"
	case Duplicate:
		return "duplicate"
	case Failed:
		return "failed"
	}
	return "pending"
}

// BatchResult is what became of the messages of one [Publisher.Publish].
type BatchResult struct {
	// Outcomes holds each message's outcome, by index: Stored, Duplicate
	// or Failed. The caller owns it.
	Outcomes []Outcome
	// Persisted counts the Stored and Duplicate outcomes.
	Persisted int
	// Err is the first reason a message failed, nil when none did, and
	// ErrIndex that message's index (-1 when Err is nil). Err wraps
	// ctx.Err() when the context ended the wait.
	Err      error
	ErrIndex int
}

// batch is the state of one Publish call. outcomes, left, err and
// errIndex are written under the publisher's lock; Publish reads them
// after it has unregistered the batch, when nothing writes them any more.
type batch struct {
	outcomes []Outcome
	left     int
	done     chan struct{} // closed when left reaches 0
	err      error
	errIndex int
}

var (
	errConnLost = errors.New("connection to NATS lost before the acknowledgement")
	errClosed   = errors.New("bus publisher closed")
)

// newPublisher subscribes to the acknowledgements on nc.
func newPublisher(nc *nats.Conn) (*Publisher, error) {
	p := &Publisher{nc: nc, prefix: nc.NewInbox() + ".", batches: map[uint64]*batch{}, done: make(chan struct{})}
	sub, err := nc.Subscribe(p.prefix+">", p.handleAck)
	if err != nil {
		return nil, fmt.Errorf("subscribe to publish acknowledgements: %w", err)
	}
	p.sub = sub
	// A reconnection loses the acknowledgements on the way: fail what waits
	// for them rather than let it time out.
	p.status = nc.StatusChanged(nats.RECONNECTING, nats.CLOSED)
	go p.watch()
	return p, nil
}

// close stops watching the connection, fails every message still waiting
// and every later Publish, and unsubscribes.
func (p *Publisher) close() error {
	p.nc.RemoveStatusListener(p.status)
	<-p.done
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.failAll(errClosed)
	if err := p.sub.Unsubscribe(); err != nil && p.nc.Status() != nats.CLOSED {
		return fmt.Errorf("unsubscribe from publish acknowledgements: %w", err)
	}
	return nil
}

func (p *Publisher) watch() {
	defer close(p.done)
	for st := range p.status {
		p.failAll(errConnLost)
		if st == nats.CLOSED {
			return
		}
	}
}

// Publish publishes n messages and waits until JetStream acknowledged
// them all, timeout passed (timeout <= 0: no limit but ctx) or ctx is
// done; what had not been acknowledged by then is Failed. It publishes
// nothing when ctx is done already.
//
// fill(i, m) sets message i in m: Subject (the full subject, with the
// bus's prefix: see [Bus.Subject]), Data and Header (with
// jetstream.MsgIDHeader for de-duplication). m is the same Msg for every
// index and holds what the previous call left, so one header map can
// serve the whole batch with its values changed in place; the publisher
// sets m.Reply after fill returns. Each message is copied into the
// connection's buffer before fill is called for the next, so fill may
// reuse memory, and nothing of m is kept once Publish returns.
func (p *Publisher) Publish(ctx context.Context, n int, timeout time.Duration, fill func(i int, m *nats.Msg)) BatchResult {
	if n == 0 {
		return BatchResult{ErrIndex: -1}
	}
	if err := ctx.Err(); err != nil {
		return failedResult(n, err)
	}
	id, b, err := p.register(n)
	if err != nil {
		return failedResult(n, err)
	}
	replies, fixed := replySubjects(p.prefix, id, n)
	var m nats.Msg
	pos := 0
	for i := range n {
		fill(i, &m)
		end := pos + fixed + decimalLen(i)
		m.Reply, pos = replies[pos:end], end
		if err := p.nc.PublishMsg(&m); err != nil {
			p.fail(b, i, err)
		}
	}
	return p.wait(ctx, id, b, timeout)
}

func failedResult(n int, err error) BatchResult {
	res := BatchResult{Outcomes: make([]Outcome, n), Err: err, ErrIndex: 0}
	for i := range res.Outcomes {
		res.Outcomes[i] = Failed
	}
	return res
}

// replySubjects builds the reply subjects of a batch into one string,
// one after the other: message i's is fixed+decimalLen(i) bytes long.
func replySubjects(prefix string, id uint64, n int) (replies string, fixed int) {
	var num, idx [20]byte
	batch := strconv.AppendUint(num[:0], id, 10)
	fixed = len(prefix) + len(batch) + 1
	var sb strings.Builder
	sb.Grow(n*fixed + n*decimalLen(n-1))
	for i := range n {
		sb.WriteString(prefix)
		sb.Write(batch)
		sb.WriteByte('.')
		sb.Write(strconv.AppendInt(idx[:0], int64(i), 10))
	}
	// String does not copy: the subjects share the builder's one allocation.
	return sb.String(), fixed
}

// decimalLen is the number of digits of i >= 0.
func decimalLen(i int) int {
	n := 1
	for ; i >= 10; i /= 10 {
		n++
	}
	return n
}

func (p *Publisher) register(n int) (uint64, *batch, error) {
	b := &batch{outcomes: make([]Outcome, n), left: n, done: make(chan struct{}), errIndex: -1}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, nil, errClosed
	}
	p.next++
	p.batches[p.next] = b
	return p.next, b, nil
}

// set records an outcome, and err as the batch's first error; the lock is
// held.
func (b *batch) set(i int, o Outcome, err error) {
	b.outcomes[i] = o
	if err != nil && b.err == nil {
		b.err, b.errIndex = err, i
	}
	if b.left--; b.left == 0 {
		close(b.done)
	}
}

func (p *Publisher) fail(b *batch, i int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b.outcomes[i] == pending {
		b.set(i, Failed, err)
	}
}

// failAll fails every message still waiting, with reason err.
func (p *Publisher) failAll(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.batches {
		for i, o := range b.outcomes {
			if o == pending {
				b.set(i, Failed, err)
			}
		}
	}
}

// wait waits for the batch, then unregisters it and hands over its state.
func (p *Publisher) wait(ctx context.Context, id uint64, b *batch, timeout time.Duration) BatchResult {
	var cause error
	select {
	case <-b.done:
	default:
		cause = await(ctx, b.done, timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.batches, id)
	for i, o := range b.outcomes {
		if o == pending {
			b.set(i, Failed, cause)
		}
	}
	res := BatchResult{Outcomes: b.outcomes, Err: b.err, ErrIndex: b.errIndex}
	for _, o := range b.outcomes {
		if o != Failed {
			res.Persisted++
		}
	}
	return res
}

// await waits for done, and reports why it stopped waiting otherwise.
func await(ctx context.Context, done <-chan struct{}, timeout time.Duration) error {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-done:
		return nil
	case <-expired:
		return fmt.Errorf("no acknowledgement within %s", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handleAck records one acknowledgement; it runs on the subscription's
// goroutine.
func (p *Publisher) handleAck(m *nats.Msg) {
	id, i, ok := parseReply(m.Subject[min(len(p.prefix), len(m.Subject)):])
	if !ok {
		return
	}
	o, reason := parseAck(m)
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.batches[id]
	if b == nil || i >= len(b.outcomes) || b.outcomes[i] != pending {
		return // the batch gave up waiting, or a repeat
	}
	var err error
	if reason != "" && b.err == nil {
		err = errors.New(reason)
	}
	b.set(i, o, err)
}
