package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
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
	Publisher() *bus.Publisher
}

// Service implements API over JetStream. It is safe for concurrent use.
type Service struct {
	cfg      Config
	streams  map[string]*Stream
	bus      Bus
	logger   *slog.Logger
	metrics  *metrics
	scratch  sync.Pool // of *checkScratch
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
	for _, st := range streams {
		st.subject = b.Subject(wire.EventSubject(st.Name))
	}
	s := &Service{cfg: cfg, streams: streams, bus: b, logger: logger, now: now}
	s.metrics, err = newMetrics(reg, func() float64 { return float64(s.inFlight.Load()) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Starting logs the streams. It subscribes to nothing: the service
// publishes through the bus's Publisher, which the bus owns.
func (s *Service) Starting(context.Context) error {
	s.logger.Info("ingest streams loaded", "streams", s.StreamNames())
	return nil
}

// Running waits for ctx; the service has no background work.
func (s *Service) Running(ctx context.Context) error { <-ctx.Done(); return nil }

// Stopping does nothing: requests have drained, and the bus, which owns
// the publisher, is its own module.
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
	sc, _ := s.scratch.Get().(*checkScratch)
	if sc == nil {
		sc = &checkScratch{}
	}
	defer s.release(sc)
	valid, index := s.check(st, events, &res, sc)
	busy, err := s.publish(ctx, st, valid, index, &res)
	slices.SortFunc(res.Rejected, func(a, b Rejection) int { return a.Index - b.Index })
	s.metrics.count(stream, &res, busy)
	return res, err
}

// checkScratch is the memory of one request's check, reused by the next
// request once the events are on the bus.
type checkScratch struct {
	valid []Event
	index []int
	vals  [][]byte
}

func (s *Service) release(sc *checkScratch) {
	clear(sc.valid)
	clear(sc.vals)
	s.scratch.Put(sc)
}

// check validates every event, recording rejections; it returns the valid
// events and their indexes in the request, in sc's memory.
func (s *Service) check(st *Stream, events [][]byte, res *Result, sc *checkScratch) ([]Event, []int) {
	w := window{now: s.now().UTC(), maxAge: s.cfg.MaxEventAge, maxFuture: s.cfg.MaxFutureSkew}
	valid, index := slices.Grow(sc.valid[:0], len(events)), slices.Grow(sc.index[:0], len(events))
	vals := slices.Grow(sc.vals[:0], len(st.Fields))[:len(st.Fields)]
	defer func() { sc.valid, sc.index, sc.vals = valid, index, vals }()
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
	idScope := ""
	if st.IDField != "" {
		idScope = st.Name
	}
	pr := publishEvents(ctx, s.bus.Publisher(), st.subject, idScope, valid, s.cfg.PublishTimeout)
	busy := 0
	for i, o := range pr.Outcomes {
		switch o {
		case bus.Stored:
			res.Accepted++
		case bus.Duplicate:
			res.Accepted++
			res.Duplicates++
		default:
			busy++
			res.Rejected = append(res.Rejected, Rejection{Index: index[i], Reason: reasonBusy, Retryable: true})
		}
	}
	if busy == 0 {
		return 0, nil
	}
	s.logger.WarnContext(ctx, "events not persisted", "stream", st.Name, "events", busy, "reason", pr.Err)
	return busy, fmt.Errorf("%d of %d events not persisted: %w", busy, len(valid), ErrBusy)
}
