package features

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/features/online"
	"github.com/plinthai/plinth/internal/features/view"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/wire"
)

// maxAckPendingFactor sizes the consumer's window of unacknowledged
// events: events wait for their offline segment before the ack.
const maxAckPendingFactor = 4

// viewConsumer feeds one view from its durable consumer.
type viewConsumer struct {
	s       *Service
	v       *view.View
	cons    jetstream.Consumer
	offline *offlineLog
}

// ConsumerName is the durable consumer of a view.
func ConsumerName(viewName string) string { return "features-" + viewName }

func (s *Service) newConsumer(ctx context.Context, v *view.View) (*viewConsumer, error) {
	b := s.deps.Bus
	stream := b.Stream(bus.StreamEvents)
	cfg := jetstream.ConsumerConfig{
		Durable: ConsumerName(v.Name), AckPolicy: jetstream.AckExplicitPolicy, AckWait: s.cfg.AckWait,
		FilterSubject: b.Subject(wire.EventSubject(v.Source)), DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: maxAckPendingFactor * s.cfg.OfflineFlushEvents, MaxDeliver: -1,
	}
	pos, local, err := s.store.Position(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("view %q: online position: %w", v.Name, err)
	}
	if local {
		// The store's snapshot is the online truth, and the consumer's ack
		// floor the offline one (an event is acknowledged once its offline
		// segment is written): resume just after the older of the two, so
		// that a crash between a snapshot and the next offline flush loses
		// nothing from the offline log. The online store ignores what it
		// applied already; training sets drop duplicate sequences.
		if floor, ok, err := ackFloor(ctx, b.JetStream(), stream, cfg.Durable); err != nil {
			return nil, fmt.Errorf("view %q: read consumer: %w", v.Name, err)
		} else if ok {
			pos = min(pos, floor)
		}
		err := b.JetStream().DeleteConsumer(ctx, stream, cfg.Durable)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("view %q: reset consumer: %w", v.Name, err)
		}
		if pos > 0 {
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, pos+1
		}
	}
	cons, err := b.JetStream().CreateOrUpdateConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("view %q: create consumer: %w", v.Name, err)
	}
	return &viewConsumer{s: s, v: v, cons: cons, offline: newOfflineLog(s, v)}, nil
}

// ackFloor returns the stream sequence up to which the durable consumer
// has every message acknowledged, and false when it does not exist.
func ackFloor(ctx context.Context, js jetstream.JetStream, stream, durable string) (uint64, bool, error) {
	c, err := js.Consumer(ctx, stream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return c.CachedInfo().AckFloor.Stream, true, nil
}

// run consumes until ctx is done, then writes what waits for the offline
// log and returns nil; it fails only when the iterator cannot be opened.
func (c *viewConsumer) run(ctx context.Context) error {
	it, err := c.cons.Messages(jetstream.PullMaxMessages(c.s.cfg.BatchSize), jetstream.PullExpiry(bus.PullExpiry))
	if err != nil {
		return fmt.Errorf("view %q: consume: %w", c.v.Name, err)
	}
	msgs, done := pump(it)
	written := make(chan struct{})
	go func() { c.offline.run(ctx); close(written) }()
	defer func() {
		it.Stop()
		// The pump may be blocked handing over a message nobody will read
		// now: drain until it closes the channel. What it drained is not
		// acknowledged, so JetStream delivers it again after the restart.
		for range msgs {
		}
		<-done
		close(c.offline.in)
		<-written
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				return nil
			}
			// A fresh slice each time, sized for what is ready: the offline
			// log keeps the batch.
			batch := drain(append(make([]jetstream.Msg, 0, min(c.s.cfg.BatchSize, 1+len(msgs))), m), msgs, c.s.cfg.BatchSize)
			c.handle(ctx, batch)
		}
	}
}

// pumpBuffer lets the pump run ahead of the consumer by this many
// messages, so that a batch gathers what has arrived.
const pumpBuffer = 256

// pump moves messages from the iterator to a channel until it is stopped.
func pump(it jetstream.MessagesContext) (<-chan jetstream.Msg, <-chan struct{}) {
	msgs, done := make(chan jetstream.Msg, pumpBuffer), make(chan struct{})
	go func() {
		defer close(done)
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				return // ErrMsgIteratorClosed after Stop
			}
			msgs <- m
		}
	}()
	return msgs, done
}

// drain adds the messages that are ready now, up to max in all.
func drain(batch []jetstream.Msg, msgs <-chan jetstream.Msg, max int) []jetstream.Msg {
	for len(batch) < max {
		select {
		case m, ok := <-msgs:
			if !ok {
				return batch
			}
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

// handle applies a batch to the online store and hands it to the offline
// log, which acknowledges it once written. A failed apply asks for
// redelivery of the whole batch (applying twice is harmless).
func (c *viewConsumer) handle(ctx context.Context, batch []jetstream.Msg) {
	rows := make([]view.Row, 0, len(batch))
	recs := make([]record, 0, len(batch))
	var last uint64
	var invalid int
	// Arrival is when the store applies the batch, on the service's clock:
	// the moment the online store starts serving it, which point-in-time
	// training sets reproduce, and a replay in accelerated time can set.
	arrived := c.s.now().UnixNano()
	var persisted time.Time
	for _, m := range batch {
		rec, row, err := c.decode(m, arrived, &persisted)
		if err != nil {
			invalid++
			c.s.logger.Debug("skipping event", "view", c.v.Name, "err", err)
			_ = m.Term()
			continue
		}
		rows, recs, last = append(rows, row), append(recs, rec), max(last, rec.Seq)
	}
	counts, err := c.s.store.Apply(ctx, c.v, rows, c.s.now())
	if err != nil {
		c.s.logger.Warn("apply events; asking for redelivery", "view", c.v.Name, "events", len(rows), "err", err)
		for _, m := range batch {
			_ = m.NakWithDelay(time.Second)
		}
		return
	}
	c.observe(counts, invalid, recs, persisted)
	if seqr, ok := c.s.store.(online.Sequencer); ok {
		seqr.SetPosition(c.v, last)
	}
	// Terminated messages are in batch too: acknowledging them after the
	// flush is harmless.
	select {
	case c.offline.in <- offlineBatch{recs: recs, msgs: batch}:
	case <-ctx.Done():
		// Not acknowledged: JetStream delivers them again after the restart.
	}
}

// observe counts the batch's outcomes; visibility is wall time from
// JetStream's persist of the batch's newest event to now.
func (c *viewConsumer) observe(counts online.Counts, invalid int, recs []record, persisted time.Time) {
	m := c.s.metrics
	m.events.WithLabelValues(c.v.Name, outcomeApplied).Add(float64(counts.Applied))
	m.events.WithLabelValues(c.v.Name, outcomeDuplicate).Add(float64(counts.Duplicates))
	m.events.WithLabelValues(c.v.Name, outcomeLate).Add(float64(counts.Late))
	m.events.WithLabelValues(c.v.Name, outcomeInvalid).Add(float64(invalid))
	if len(recs) > 0 && !persisted.IsZero() {
		m.visible.WithLabelValues(c.v.Name).Observe(time.Since(persisted).Seconds())
	}
}

// decode reads a message into its offline record and its row, stamped
// arrived; it moves *persisted to the message's JetStream persist time.
func (c *viewConsumer) decode(m jetstream.Msg, arrived int64, persisted *time.Time) (record, view.Row, error) {
	meta, err := m.Metadata()
	if err != nil {
		return record{}, view.Row{}, fmt.Errorf("message metadata: %w", err)
	}
	*persisted = meta.Timestamp
	rec := record{Seq: meta.Sequence.Stream, Arrived: arrived, Time: meta.Timestamp.UnixNano(), Data: m.Data()}
	if h := m.Headers(); h != nil {
		if t, err := strconv.ParseInt(h.Get(ingest.HeaderEventTime), 10, 64); err == nil {
			rec.Time = t
		}
		rec.ID = h.Get(ingest.HeaderEventID)
	}
	row, err := rec.row(c.v)
	return rec, row, err
}
