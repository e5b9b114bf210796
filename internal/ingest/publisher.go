package ingest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/platform/bus"
)

// publisher publishes the events of a request to JetStream and collects
// their acknowledgements. It does what jetstream.PublishMsgAsync does, a
// core NATS publish whose reply subject the stream answers with its
// acknowledgement once the message is persisted, but for a whole request
// at once: one wildcard subscription receives every acknowledgement, a
// reply subject names the request and the event's index in it, and the
// request waits on one channel. There is no future, timer, channel or
// decoded JSON document per event, and the headers and subjects of a
// request share one allocation.
//
// An event counts as persisted only on an acknowledgement naming a stream
// and no error. A "no responders" status, an error acknowledgement, a
// failed publish or a reconnection before the acknowledgement came all
// count as not persisted: the caller reports those events retryable.
//
// It is safe for concurrent use.
type publisher struct {
	nc     *nats.Conn
	prefix string // reply subjects are prefix + "<batch>.<index>"
	sub    *nats.Subscription
	status chan nats.Status
	done   chan struct{} // closed when watch returns

	mu      sync.Mutex
	batches map[uint64]*pubBatch
	next    uint64
}

// outcome is what became of one published event.
type outcome uint8

const (
	pending   outcome = iota
	stored            // persisted by JetStream
	duplicate         // a repeat of a message id JetStream had persisted
	failed            // not persisted: retry
)

// pubBatch is the state of one request's events. outcome and left are
// written under the publisher's lock; the request reads them after it has
// unregistered the batch, when nothing writes them any more.
type pubBatch struct {
	outcome []outcome
	left    int
	done    chan struct{} // closed when left reaches 0
	reason  string        // the first error JetStream gave, for the log
}

// newPublisher subscribes to the acknowledgements on nc.
func newPublisher(nc *nats.Conn) (*publisher, error) {
	p := &publisher{nc: nc, prefix: nc.NewInbox() + ".", batches: map[uint64]*pubBatch{}, done: make(chan struct{})}
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

// close unsubscribes and stops watching the connection. Requests still
// waiting time out.
func (p *publisher) close() error {
	p.nc.RemoveStatusListener(p.status)
	<-p.done
	if err := p.sub.Unsubscribe(); err != nil && p.nc.Status() != nats.CLOSED {
		return fmt.Errorf("unsubscribe from publish acknowledgements: %w", err)
	}
	return nil
}

func (p *publisher) watch() {
	defer close(p.done)
	for st := range p.status {
		p.failAll()
		if st == nats.CLOSED {
			return
		}
	}
}

// failAll marks every event still waiting as not persisted.
func (p *publisher) failAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.batches {
		for i, o := range b.outcome {
			if o == pending {
				b.set(i, failed)
			}
		}
	}
}

// set records an outcome; the lock is held.
func (b *pubBatch) set(i int, o outcome) {
	b.outcome[i] = o
	if b.left--; b.left == 0 {
		close(b.done)
	}
}

// publish sends evs to subject, each with its time header, its id and
// message id headers when idScope is not empty (the message id is
// "<idScope>/<id>"), and the trace context of ctx. It waits until
// JetStream acknowledged them all, timeout passed or ctx is done, and
// returns every event's outcome (what had not arrived by then is failed)
// with the first error JetStream reported, if any.
func (p *publisher) publish(ctx context.Context, subject, idScope string, evs []Event, timeout time.Duration) ([]outcome, string) {
	id, b := p.register(len(evs))
	strs, offs := requestStrings(p.prefix, id, idScope, evs)
	msg := nats.Msg{Subject: subject, Header: nats.Header{HeaderEventTime: {""}}}
	bus.InjectContext(ctx, msg.Header)
	timeHdr := msg.Header[HeaderEventTime]
	var idHdr, msgIDHdr []string
	if idScope != "" {
		idHdr, msgIDHdr = []string{""}, []string{""}
		msg.Header[HeaderEventID], msg.Header[jetstream.MsgIDHeader] = idHdr, msgIDHdr
	}
	for i := range evs {
		o := offs[4*i : 4*i+5]
		msg.Reply, msg.Data, timeHdr[0] = strs[o[0]:o[1]], evs[i].Data, strs[o[1]:o[2]]
		if idHdr != nil {
			idHdr[0], msgIDHdr[0] = strs[o[3]:o[4]], strs[o[2]:o[4]]
		}
		// PublishMsg copies the message into the connection's buffer, so
		// one Msg and one header map serve the whole request.
		if err := p.nc.PublishMsg(&msg); err != nil {
			p.fail(b, i, err.Error())
		}
	}
	return p.wait(ctx, id, b, timeout)
}

// requestStrings builds the reply subject, event-time header and message
// id of every event into one string; event i's pieces are
// strs[offs[4i]:offs[4i+1]], strs[offs[4i+1]:offs[4i+2]] and
// strs[offs[4i+2]:offs[4i+4]] (the message id is "<idScope>/<id>", and
// offs[4i+3] is where its id starts). idScope is "" for events without ids.
func requestStrings(prefix string, batch uint64, idScope string, evs []Event) (string, []int) {
	var sb strings.Builder
	size := 0
	for i := range evs {
		size += len(prefix) + 2*20 + 2 + len(idScope) + 1 + len(evs[i].ID)
	}
	sb.Grow(size)
	offs := make([]int, 0, 4*len(evs)+1)
	var num [20]byte
	for i := range evs {
		offs = append(offs, sb.Len())
		sb.WriteString(prefix)
		sb.Write(strconv.AppendUint(num[:0], batch, 10))
		sb.WriteByte('.')
		sb.Write(strconv.AppendInt(num[:0], int64(i), 10))
		offs = append(offs, sb.Len())
		sb.Write(strconv.AppendInt(num[:0], evs[i].Time.UnixNano(), 10))
		offs = append(offs, sb.Len())
		if idScope != "" {
			sb.WriteString(idScope)
			sb.WriteByte('/')
		}
		offs = append(offs, sb.Len())
		sb.Write(evs[i].ID)
	}
	offs = append(offs, sb.Len())
	// String does not copy: the pieces share the builder's one allocation.
	return sb.String(), offs
}

func (p *publisher) register(n int) (uint64, *pubBatch) {
	b := &pubBatch{outcome: make([]outcome, n), left: n, done: make(chan struct{})}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	p.batches[p.next] = b
	return p.next, b
}

func (p *publisher) fail(b *pubBatch, i int, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b.outcome[i] == pending {
		b.set(i, failed)
	}
	if b.reason == "" {
		b.reason = reason
	}
}

// wait waits for the batch, then unregisters it and hands over its state.
func (p *publisher) wait(ctx context.Context, id uint64, b *pubBatch, timeout time.Duration) ([]outcome, string) {
	select {
	case <-b.done:
	default:
		t := time.NewTimer(timeout)
		select {
		case <-b.done:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.batches, id)
	for i, o := range b.outcome {
		if o == pending {
			b.outcome[i] = failed
		}
	}
	return b.outcome, b.reason
}

// handleAck records one acknowledgement; it runs on the subscription's
// goroutine.
func (p *publisher) handleAck(m *nats.Msg) {
	id, i, ok := parseReply(m.Subject[min(len(p.prefix), len(m.Subject)):])
	if !ok {
		return
	}
	o, reason := parseAck(m)
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.batches[id]
	if b == nil || i >= len(b.outcome) || b.outcome[i] != pending {
		return // the request gave up waiting, or a repeat
	}
	b.set(i, o)
	if reason != "" && b.reason == "" {
		b.reason = reason
	}
}

// parseReply reads "<batch>.<index>".
func parseReply(s string) (batch uint64, index int, ok bool) {
	dot := -1
	for j := 0; j < len(s); j++ {
		if s[j] == '.' {
			dot = j
			break
		}
	}
	if dot < 0 {
		return 0, 0, false
	}
	batch, err := strconv.ParseUint(s[:dot], 10, 64)
	if err != nil {
		return 0, 0, false
	}
	index, err = strconv.Atoi(s[dot+1:])
	return batch, index, err == nil && index >= 0
}

// parseAck reads JetStream's answer to a publish: a PubAck document
// ({"stream":..., "seq":..., "duplicate":true}) when persisted, one with
// an "error" member, or a status message without data ("503" when no
// stream listens on the subject).
func parseAck(m *nats.Msg) (outcome, string) {
	if len(m.Data) == 0 {
		return failed, "no stream answered (status " + m.Header.Get("Status") + ")"
	}
	var streamOK, dup bool
	var errVal []byte
	ok := eachMember(m.Data, func(key, val []byte) {
		switch string(key) {
		case `"stream"`:
			streamOK = len(val) > 2 && val[0] == '"'
		case `"duplicate"`:
			dup = string(val) == "true"
		case `"error"`:
			if string(val) != "null" {
				errVal = val
			}
		}
	})
	switch {
	case !ok:
		return failed, "malformed acknowledgement"
	case errVal != nil:
		return failed, string(errVal)
	case !streamOK:
		return failed, "acknowledgement names no stream"
	case dup:
		return duplicate, ""
	}
	return stored, ""
}
