package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// Headers set on every published event.
const (
	// HeaderEventTime is the event time in Unix nanoseconds (decimal).
	HeaderEventTime = "Plinth-Event-Time"
	// HeaderEventID is the event id, when the stream declares one.
	HeaderEventID = "Plinth-Event-Id"
)

// API is the ingest contract, implemented in process by Service and over
// gRPC by client.Client.
type API interface {
	// Ingest checks each event (one JSON object each) against the schema of
	// stream and publishes the valid ones. It fails with ErrStreamNotFound
	// for an unknown stream and problem.ErrTooLarge for more events than the
	// batch limit, publishing nothing. Otherwise the Result reports every
	// event: accepted (persisted by JetStream, or a duplicate of one that
	// was) or rejected with its index, field and reason. The error is then
	// nil, or ErrBusy / ErrOverloaded when valid events could not be
	// persisted (the Result names them).
	Ingest(ctx context.Context, stream string, events [][]byte) (Result, error)
}

// Result reports what became of each event of a request.
type Result struct {
	// Accepted counts events persisted, duplicates included.
	Accepted int `json:"accepted"`
	// Duplicates counts accepted events whose id JetStream had seen within
	// its duplicate window: they were not published again.
	Duplicates int `json:"duplicates"`
	// Rejected lists the events not accepted, by ascending index.
	Rejected []Rejection `json:"rejected"`
}

// Rejection is one event that was not accepted.
type Rejection struct {
	Index  int    `json:"index"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	// Retryable is true when the event was valid but the bus could not take
	// it: send it again.
	Retryable bool `json:"retryable,omitempty"`
}

// Bus is what the service needs of the event bus (*bus.Bus has it).
type Bus interface {
	Conn() *nats.Conn
	Subject(s string) string
}

// Service implements API over JetStream. It is safe for concurrent use.
type Service struct {
	cfg      Config
	streams  map[string]*Stream
	bus      Bus
	js       jetstream.JetStream
	logger   *slog.Logger
	metrics  *metrics
	inFlight atomic.Int64
	now      func() time.Time
}

var _ API = (*Service)(nil)

// New returns the service for the streams declared in cfg.StreamsFile,
// publishing through b. now is the clock (nil: time.Now).
func New(cfg Config, b Bus, logger *slog.Logger, reg prometheus.Registerer, now func() time.Time) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	streams, err := LoadStreams(cfg.StreamsFile)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	s := &Service{cfg: cfg, streams: streams, bus: b, logger: logger, now: now}
	s.metrics, err = newMetrics(reg, func() float64 { return float64(s.inFlight.Load()) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Starting opens the service's JetStream publisher, whose window of
// unacknowledged messages is the in-flight limit.
func (s *Service) Starting(context.Context) error {
	js, err := jetstream.New(s.bus.Conn(),
		jetstream.WithPublishAsyncMaxPending(s.cfg.MaxInFlight),
		jetstream.WithPublishAsyncTimeout(s.cfg.PublishTimeout))
	if err != nil {
		return fmt.Errorf("ingest publisher: %w", err)
	}
	s.js = js
	s.logger.Info("ingest streams loaded", "streams", s.StreamNames())
	return nil
}

// Running waits for ctx; the service has no background work.
func (s *Service) Running(ctx context.Context) error { <-ctx.Done(); return nil }

// Stopping does nothing: requests have drained, and the bus is its own module.
func (s *Service) Stopping(context.Context) error { return nil }

// CheckReady reports whether the bus connection is up.
func (s *Service) CheckReady(context.Context) error {
	if st := s.bus.Conn().Status(); st != nats.CONNECTED {
		return fmt.Errorf("ingest: nats connection is %s", st)
	}
	return nil
}

// StreamNames lists the declared streams, sorted.
func (s *Service) StreamNames() []string {
	names := make([]string, 0, len(s.streams))
	for n := range s.streams {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// RetryAfter is the pause the service advises when it is busy.
func (s *Service) RetryAfter() time.Duration { return s.cfg.RetryAfter }

// Ingest implements API.
func (s *Service) Ingest(ctx context.Context, stream string, events [][]byte) (Result, error) {
	st, ok := s.streams[stream]
	if !ok {
		return Result{}, fmt.Errorf("stream %q: %w", stream, ErrStreamNotFound)
	}
	if len(events) > s.cfg.MaxBatch {
		return Result{}, tooMany(len(events), s.cfg.MaxBatch)
	}
	res := Result{Rejected: []Rejection{}}
	valid, index := s.check(st, events, &res)
	busy, err := s.publish(ctx, st, valid, index, &res)
	slices.SortFunc(res.Rejected, func(a, b Rejection) int { return a.Index - b.Index })
	s.metrics.count(stream, &res, busy)
	return res, err
}

// check validates every event, recording rejections; it returns the valid
// events and their indexes in the request.
func (s *Service) check(st *Stream, events [][]byte, res *Result) ([]Event, []int) {
	w := window{now: s.now().UTC(), maxAge: s.cfg.MaxEventAge, maxFuture: s.cfg.MaxFutureSkew}
	valid := make([]Event, 0, len(events))
	index := make([]int, 0, len(events))
	vals := make([][]byte, len(st.Fields))
	for i, raw := range events {
		if len(raw) > s.cfg.MaxEventBytes {
			res.Rejected = append(res.Rejected, Rejection{Index: i, Field: "body", Reason: fmt.Sprintf("event of %d bytes is over the limit of %d", len(raw), s.cfg.MaxEventBytes)})
			continue
		}
		ev, err := st.checkEvent(raw, w, vals)
		if err != nil {
			var fe *problem.FieldError
			errors.As(err, &fe)
			res.Rejected = append(res.Rejected, Rejection{Index: i, Field: fe.Field, Reason: fe.Reason})
			continue
		}
		valid = append(valid, ev)
		index = append(index, i)
	}
	return valid, index
}

// publish sends the valid events and waits for their acknowledgements,
// recording each outcome; it returns how many were not persisted.
func (s *Service) publish(ctx context.Context, st *Stream, valid []Event, index []int, res *Result) (int, error) {
	if len(valid) == 0 {
		return 0, nil
	}
	n := int64(len(valid))
	if s.inFlight.Add(n) > int64(s.cfg.MaxInFlight) {
		s.inFlight.Add(-n)
		for _, i := range index {
			res.Rejected = append(res.Rejected, Rejection{Index: i, Reason: reasonOverloaded, Retryable: true})
		}
		return len(index), ErrOverloaded
	}
	defer s.inFlight.Add(-n)
	futures := s.send(ctx, st, valid)
	return s.await(ctx, futures, index, res)
}

// send publishes asynchronously; a nil future means the publish failed at once.
func (s *Service) send(ctx context.Context, st *Stream, valid []Event) []jetstream.PubAckFuture {
	subject := s.bus.Subject(wire.EventSubject(st.Name))
	futures := make([]jetstream.PubAckFuture, len(valid))
	for i, ev := range valid {
		msg := &nats.Msg{Subject: subject, Data: ev.Data, Header: nats.Header{}}
		msg.Header.Set(HeaderEventTime, strconv.FormatInt(ev.Time.UnixNano(), 10))
		if ev.ID != "" {
			msg.Header.Set(HeaderEventID, ev.ID)
			// What jetstream.WithMsgID sets, without its per-call options.
			msg.Header.Set(jetstream.MsgIDHeader, st.Name+"/"+ev.ID)
		}
		bus.InjectContext(ctx, msg.Header)
		f, err := s.js.PublishMsgAsync(msg)
		if err != nil {
			s.logger.WarnContext(ctx, "publish event", "stream", st.Name, "err", err)
			continue
		}
		futures[i] = f
	}
	return futures
}

// await collects acknowledgements until all arrived, the publish timeout
// passed or ctx is done; what did not arrive is reported retryable.
func (s *Service) await(ctx context.Context, futures []jetstream.PubAckFuture, index []int, res *Result) (int, error) {
	timer := time.NewTimer(s.cfg.PublishTimeout)
	defer timer.Stop()
	busy := 0
	expired := false
	for i, f := range futures {
		var ack *jetstream.PubAck
		if f != nil {
			ack, expired = waitAck(ctx, f, timer.C, expired)
		}
		if ack == nil {
			busy++
			res.Rejected = append(res.Rejected, Rejection{Index: index[i], Reason: reasonBusy, Retryable: true})
			continue
		}
		res.Accepted++
		if ack.Duplicate {
			res.Duplicates++
		}
	}
	if busy > 0 {
		return busy, fmt.Errorf("%d of %d events not persisted: %w", busy, len(futures), ErrBusy)
	}
	return 0, nil
}

// waitAck waits for one acknowledgement; once expired it only takes one
// that has arrived already. It reports whether the wait has expired.
func waitAck(ctx context.Context, f jetstream.PubAckFuture, deadline <-chan time.Time, expired bool) (*jetstream.PubAck, bool) {
	if expired {
		select {
		case ack := <-f.Ok():
			return ack, true
		default:
			return nil, true
		}
	}
	select {
	case ack := <-f.Ok():
		return ack, false
	case <-f.Err():
		return nil, false
	case <-deadline:
		return waitAck(ctx, f, deadline, true)
	case <-ctx.Done():
		return waitAck(ctx, f, deadline, true)
	}
}
