package inference

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/wire"
)

// Publisher publishes prediction logs; *bus.Bus implements it. Publish
// blocks until the bus acknowledges, so it is only called off the request
// path.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte, msgID string, hdr nats.Header) (*jetstream.PubAck, error)
}

// Prediction log tuning.
const (
	logWorkers        = 2
	logPublishTimeout = 5 * time.Second
	logDrainTimeout   = 2 * time.Second
)

// logEntry is a prediction captured for the log: copies of the row and the
// output, so the request's pooled buffers can be reused at once.
type logEntry struct {
	id      string
	model   string
	version int64
	arm     arm
	entity  string
	names   []string
	row     []float32
	out     []float64
	latency time.Duration
	at      time.Time
	errText string
	// items is how many items a row's recommendation holds (0 for a
	// scorer): the log names the first row's items.
	items int
}

// predLog samples predictions and publishes them to PREDICTIONS from a few
// workers. offer never blocks: when the queue is full (the bus is slow) the
// entry is dropped and counted.
type predLog struct {
	pub      Publisher
	rate     float64
	features string
	q        chan *logEntry
	m        *metrics
	logger   *slog.Logger
	pool     sync.Pool
}

func newPredLog(pub Publisher, cfg Config, m *metrics, logger *slog.Logger) *predLog {
	return &predLog{
		pub: pub, rate: cfg.LogSampleRate, features: cfg.LogFeatures,
		q: make(chan *logEntry, cfg.LogQueue), m: m, logger: logger,
		pool: sync.Pool{New: func() any { return new(logEntry) }},
	}
}

// sample reports whether this prediction is logged.
func (p *predLog) sample() bool {
	if p == nil || p.pub == nil || p.rate <= 0 {
		return false
	}
	return p.rate >= 1 || rand.Float64() < p.rate
}

// entry returns a cleared pooled entry.
func (p *predLog) entry() *logEntry {
	e := p.pool.Get().(*logEntry)
	row, out := e.row[:0], e.out[:0]
	*e = logEntry{row: row, out: out}
	return e
}

// offer queues e or, when the queue is full, drops and counts it.
func (p *predLog) offer(e *logEntry) {
	select {
	case p.q <- e:
	default:
		p.m.logs.WithLabelValues("dropped").Inc()
		p.pool.Put(e)
	}
}

// run publishes queued entries until ctx is done, then what is queued
// within a short drain deadline.
func (p *predLog) run(ctx context.Context, wg *sync.WaitGroup) {
	for range logWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.work(ctx)
		}()
	}
}

func (p *predLog) work(ctx context.Context) {
	for {
		select {
		case e := <-p.q:
			p.publish(ctx, e)
		case <-ctx.Done():
			p.drain()
			return
		}
	}
}

func (p *predLog) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), logDrainTimeout)
	defer cancel()
	for {
		select {
		case e := <-p.q:
			p.publish(ctx, e)
		default:
			return
		}
	}
}

func (p *predLog) publish(ctx context.Context, e *logEntry) {
	defer p.pool.Put(e)
	data, err := json.Marshal(p.wire(e))
	if err != nil {
		p.m.logs.WithLabelValues("failed").Inc()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, logPublishTimeout)
	defer cancel()
	if _, err := p.pub.Publish(ctx, wire.PredictionSubject(e.model), data, e.id, nil); err != nil {
		p.m.logs.WithLabelValues("failed").Inc()
		p.logger.Debug("publish prediction log", "model", e.model, "err", err)
		return
	}
	p.m.logs.WithLabelValues("published").Inc()
}

// wire builds the contract message of an entry.
func (p *predLog) wire(e *logEntry) wire.PredictionLog {
	l := wire.PredictionLog{
		ID: e.id, Model: e.model, Version: e.version, Arm: e.arm.String(), Entity: e.entity,
		Output: e.out, LatencyUS: e.latency.Microseconds(), Error: e.errText, At: e.at,
	}
	if e.items > 0 {
		l.Items, l.Output = recommendedItems(e)
	}
	switch p.features {
	case LogFeaturesFull:
		l.Features = make(map[string]float64, len(e.row))
		for i, v := range e.row {
			if i < len(e.names) && v == v {
				l.Features[e.names[i]] = float64(v)
			}
		}
	case LogFeaturesHash:
		l.FeaturesHash = rowHash(e.row)
	}
	return l
}

// recommendedItems returns the first row's item ids, as the monitor joins
// them with the items the user goes on to consume, and its scores. The
// outputs of n rows are the n·k items, then the n·k scores.
func recommendedItems(e *logEntry) ([]string, []float64) {
	n := 1
	if len(e.names) > 0 {
		n = max(1, len(e.row)/len(e.names))
	}
	k := e.items
	if len(e.out) < 2*n*k {
		return nil, nil
	}
	items := make([]string, 0, k)
	for _, v := range e.out[:k] {
		if v >= 0 {
			items = append(items, strconv.FormatInt(int64(v), 10))
		}
	}
	return items, e.out[n*k : n*k+len(items)]
}

// rowHash is the FNV-1a hash of a row's float32 bits, as 16 hex digits.
func rowHash(row []float32) string {
	h := uint64(14695981039346656037)
	for _, v := range row {
		b := math.Float32bits(v)
		for range 4 {
			h = (h ^ uint64(b&0xff)) * 1099511628211
			b >>= 8
		}
	}
	s := strconv.FormatUint(h, 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}
