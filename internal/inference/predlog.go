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

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/wire"
)

// Publisher publishes prediction logs; *bus.Bus implements it.
// PublishBatch waits until the bus acknowledges the batch, so it is only
// called off the request path.
type Publisher interface {
	PublishBatch(ctx context.Context, msgs []bus.Message) (int, error)
}

// Prediction log tuning.
const (
	logWorkers = 2
	// logBatch is the most entries one publish carries (at most the queue's
	// length). One batch costs the bus about what one message did (a
	// write, a wake-up of its reader, one store flush, the
	// acknowledgements in one read), so at a sampled rate of a few hundred
	// logs a second lingering for company (Config.LogLinger) is most of the
	// saving; the monitor's windows are minutes, a log 50 ms late changes
	// nothing there.
	logBatch          = 256
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
// workers, in batches. offer never blocks: when the queue is full (the bus
// is slow) the entry is dropped and counted. Besides the queue, each
// worker holds at most one batch.
type predLog struct {
	pub      Publisher
	rate     float64
	features string
	batch    int
	linger   time.Duration
	q        chan *logEntry
	m        *metrics
	logger   *slog.Logger
	pool     sync.Pool
}

func newPredLog(pub Publisher, cfg Config, m *metrics, logger *slog.Logger) *predLog {
	return &predLog{
		pub: pub, rate: cfg.LogSampleRate, features: cfg.LogFeatures, batch: max(1, min(logBatch, cfg.LogQueue)), linger: cfg.LogLinger,
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
	p.m.logsWaiting.Inc()
	select {
	case p.q <- e:
	default:
		p.m.logsWaiting.Dec()
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

// work publishes batches: it waits for an entry, gathers more for up to
// the linger or until the batch is full, and publishes them together.
func (p *predLog) work(ctx context.Context) {
	batch := make([]*logEntry, 0, p.batch)
	msgs := make([]bus.Message, 0, p.batch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		select {
		case e := <-p.q:
			batch = append(batch, e)
		case <-ctx.Done():
			p.drain(batch, msgs)
			return
		}
		if p.linger > 0 {
			linger.Reset(p.linger)
		gather:
			for len(batch) < p.batch {
				select {
				case e := <-p.q:
					batch = append(batch, e)
				case <-linger.C:
					break gather
				case <-ctx.Done():
					break gather
				}
			}
			linger.Stop()
		} else {
			batch = p.fill(batch)
		}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logPublishTimeout)
		batch = p.publish(pctx, batch, msgs)
		cancel()
	}
}

// fill adds what is queued to batch, up to its size, without waiting.
func (p *predLog) fill(batch []*logEntry) []*logEntry {
	for len(batch) < p.batch {
		select {
		case e := <-p.q:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// drain publishes batch and what is queued within logDrainTimeout.
func (p *predLog) drain(batch []*logEntry, msgs []bus.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), logDrainTimeout)
	defer cancel()
	for {
		batch = p.fill(batch)
		if len(batch) == 0 || ctx.Err() != nil {
			return
		}
		batch = p.publish(ctx, batch, msgs)
	}
}

// publish publishes batch, counts the outcomes, returns the entries to
// the pool and returns batch emptied.
func (p *predLog) publish(ctx context.Context, batch []*logEntry, msgs []bus.Message) []*logEntry {
	msgs = msgs[:0]
	failed := 0
	for _, e := range batch {
		data, err := json.Marshal(p.wire(e))
		if err != nil {
			failed++
			continue
		}
		msgs = append(msgs, bus.Message{Subject: wire.PredictionSubject(e.model), Data: data, MsgID: e.id})
	}
	for i, e := range batch {
		p.pool.Put(e)
		batch[i] = nil
	}
	n, err := 0, error(nil)
	if len(msgs) > 0 {
		n, err = p.pub.PublishBatch(ctx, msgs)
	}
	p.m.logsWaiting.Sub(float64(len(batch)))
	failed += len(msgs) - n
	if err != nil {
		p.logger.Debug("publish prediction logs", "published", n, "failed", len(msgs)-n, "err", err)
	}
	p.m.logs.WithLabelValues("published").Add(float64(n))
	if failed > 0 {
		p.m.logs.WithLabelValues("failed").Add(float64(failed))
	}
	clear(msgs)
	return batch[:0]
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
