package inference

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// call is one prediction's working state. It is pooled: every slice is
// reused, so a warm request allocates nothing for its rows, outputs, body
// or response.
type call struct {
	body []byte
	resp []byte
	rows []float32
	n    int
	out  []float64
	set  []uint64 // bitmap of the features a /v1 request named
	key  uint64
	pin  int64
	id   []byte
	ent  []byte
	req  inferRequest
	v1   v1Request
	bc   batchCall
	// grpcIn is the gRPC request message that fills body.
	grpcIn grpcRequest
}

func newCall() *call {
	c := &call{bc: batchCall{done: make(chan struct{}, 1)}}
	c.grpcIn.c = c
	return c
}

func (s *Service) getCall() *call {
	c := s.calls.Get().(*call)
	c.n, c.key, c.pin, c.id, c.ent = 0, 0, 0, nil, nil
	return c
}

func (s *Service) putCall(c *call) {
	if cap(c.body) > 1<<20 || cap(c.resp) > 1<<20 {
		return // let a huge request's buffers go
	}
	s.calls.Put(c)
}

// filler writes a request's rows for a version's signature into c.rows and
// sets c.n.
type filler func(c *call, l *loaded) error

// result is what predict tells the transport.
type result struct {
	l   *loaded
	arm arm
}

// entry returns the served model, or ErrModelNotFound.
func (s *Service) entry(name string) (*modelEntry, error) {
	e := s.models.get(name)
	if e == nil {
		return nil, errorf(ErrModelNotFound, "model %q is not served", name)
	}
	return e, nil
}

// predict picks the version (pinned, or routed by c.key), fills the rows
// for it, runs the model (batched when the version batches), then logs and
// shadows off the response path. c.out holds the outputs on return.
func (s *Service) predict(ctx context.Context, e *modelEntry, c *call, fill filler) (result, error) {
	e.inflight.Add(1)
	e.gauge.Inc()
	defer func() { e.inflight.Add(-1); e.gauge.Dec() }()
	d := e.dep.Load()
	if d == nil || d.champion == nil {
		return result{}, errorf(ErrLoading, "model %q has no champion loaded yet", e.name)
	}
	r, err := s.pick(ctx, e, d, c)
	if err != nil {
		return r, err
	}
	if err := fill(c, r.l); err != nil {
		return r, err
	}
	start := s.monoNow()
	err = s.run(ctx, r.l, c)
	took := s.monoNow() - start
	r.l.m.requests[r.arm].Inc()
	r.l.m.latency.Observe(took.Seconds())
	if err != nil {
		if !errors.Is(err, problem.ErrInvalid) {
			r.l.m.errors.Inc()
			err = errors.Join(ErrModelFailed, err)
		}
		return r, err
	}
	if s.logs.sample() {
		s.logPrediction(r.l, r.arm, c, took)
	}
	if sh := d.shadow(r.arm); sh != nil {
		s.offerShadow(sh, c)
	}
	return r, nil
}

// pick chooses the version that answers.
func (s *Service) pick(ctx context.Context, e *modelEntry, d *deployment, c *call) (result, error) {
	if c.pin == 0 {
		l, a := d.route(c.key)
		return result{l, a}, nil
	}
	if l := d.find(c.pin); l != nil {
		return result{l, armPinned}, nil
	}
	if _, err := s.registry.GetVersion(ctx, e.name, c.pin); err != nil {
		if errors.Is(err, problem.ErrNotFound) {
			return result{}, errorf(ErrVersionNotFound, "model %q has no version %d", e.name, c.pin)
		}
		return result{}, err
	}
	s.requestRefresh(e.name, c.pin)
	return result{}, errorf(ErrLoading, "model %q version %d is loading", e.name, c.pin)
}

// run calls the model, through the version's batcher when it has one.
func (s *Service) run(ctx context.Context, l *loaded, c *call) error {
	c.out = grow(c.out, c.n*l.sig.outWidth)
	if l.batch != nil {
		c.bc.ctx, c.bc.rows, c.bc.n, c.bc.out, c.bc.err = ctx, c.rows, c.n, c.out, nil
		err := l.batch.submit(&c.bc)
		c.bc.ctx = nil
		if !errors.Is(err, errBatcherClosed) {
			return err
		}
	}
	err := safePredict(ctx, l.rt, c.rows, c.n, c.out)
	l.m.batch.Observe(float64(c.n))
	return err
}

// monoNow is a monotonic reading for timing a model call: one clock read
// where time.Now takes two (wall and monotonic), which shows on the
// request path of a VM whose clock reads cost about 50 ns each.
func (s *Service) monoNow() time.Duration { return time.Since(s.epoch) }

// predictionID returns the request's id, or a new process-unique one
// appended to dst.
func (s *Service) predictionID(dst []byte, c *call) []byte {
	if len(c.id) > 0 {
		return append(dst, c.id...)
	}
	dst = append(dst, s.idPrefix...)
	return strconv.AppendUint(dst, s.idSeq.Add(1), 36)
}

// logPrediction queues a copy of the prediction for the log.
func (s *Service) logPrediction(l *loaded, a arm, c *call, took time.Duration) {
	le := s.logs.entry()
	le.id = string(s.predictionID(nil, c))
	if len(c.id) == 0 {
		c.id = []byte(le.id) // the response reports the logged id
	}
	le.model, le.version, le.arm, le.entity = l.model, l.version, a, string(c.ent)
	le.names, le.items = l.sig.features, l.sig.items()
	le.row = append(le.row, c.rows[:c.n*l.sig.width()]...)
	le.out = append(le.out, c.out[:c.n*l.sig.outWidth]...)
	le.latency, le.at = took, s.now()
	s.logs.offer(le)
}

// shadowJob is a challenger scoring of a champion request's rows.
type shadowJob struct {
	l    *loaded
	id   string
	ent  string
	rows []float32
	n    int
	out  []float64
}

// offerShadow queues the rows for the shadow version, dropping (and
// counting) when the queue is full. The shadow never answers.
func (s *Service) offerShadow(l *loaded, c *call) {
	j := &shadowJob{l: l, ent: string(c.ent), n: c.n, rows: append([]float32(nil), c.rows[:c.n*l.sig.width()]...)}
	j.id = string(s.predictionID(nil, c))
	select {
	case s.shadowQ <- j:
	default:
		s.metrics.shadowDrops.Inc()
	}
}

func (s *Service) shadowWork(ctx context.Context) {
	defer s.bg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-s.shadowQ:
			s.runShadow(ctx, j)
		}
	}
}

func (s *Service) runShadow(ctx context.Context, j *shadowJob) {
	j.out = make([]float64, j.n*j.l.sig.outWidth)
	start := time.Now()
	err := safePredict(ctx, j.l.rt, j.rows, j.n, j.out)
	took := time.Since(start)
	j.l.m.requests[armShadow].Inc()
	j.l.m.latency.Observe(took.Seconds())
	if err != nil {
		j.l.m.errors.Inc()
	}
	if !s.logs.sample() {
		return
	}
	le := s.logs.entry()
	le.id, le.model, le.version, le.arm, le.entity = j.id, j.l.model, j.l.version, armShadow, j.ent
	le.names, le.row, le.out, le.latency, le.at = j.l.sig.features, j.rows, j.out, took, s.now()
	le.items = j.l.sig.items()
	if err != nil {
		le.errText = err.Error()
	}
	s.logs.offer(le)
}
