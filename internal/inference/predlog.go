package inference

import (
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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
	// length). A batch goes as one message per model (see publish), so
	// the bus's cost per message is paid per batch; lingering for company
	// (Config.LogLinger) makes batches of a sampled rate of a few hundred
	// logs a second worth it, and the monitor's windows are minutes, a log
	// 50 ms late changes nothing there.
	logBatch = 256
	// maxLogMessageBytes bounds one message of logs, well under NATS's
	// default 1 MiB payload limit.
	maxLogMessageBytes = 256 << 10
	logPublishTimeout  = 5 * time.Second
	logDrainTimeout    = 2 * time.Second
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
	full     chan struct{} // a batch's worth is queued: wakes the lingering worker
	gather   sync.Mutex    // held by the one worker gathering a batch
	m        *metrics
	logger   *slog.Logger
	pool     sync.Pool
}

func newPredLog(pub Publisher, cfg Config, m *metrics, logger *slog.Logger) *predLog {
	return &predLog{
		pub: pub, rate: cfg.LogSampleRate, features: cfg.LogFeatures, batch: max(1, min(logBatch, cfg.LogQueue)), linger: cfg.LogLinger,
		q: make(chan *logEntry, cfg.LogQueue), full: make(chan struct{}, 1), m: m, logger: logger,
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

// offer queues e or, when the queue is full, drops and counts it. It
// wakes a lingering worker only once a batch's worth is waiting.
func (p *predLog) offer(e *logEntry) {
	p.m.logsWaiting.Inc()
	select {
	case p.q <- e:
		if len(p.q) >= p.batch-1 {
			select {
			case p.full <- struct{}{}:
			default:
			}
		}
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

// work publishes batches: it waits for an entry, then for the linger to
// pass or a batch's worth to be queued, and publishes what is queued,
// up to a batch. One worker gathers at a time, the others publish. It
// does not take entries one by one as they come: a
// worker woken on every prediction is run next by the scheduler each
// time, and with one CPU that kept connections waiting (p99 at c=64 went
// from about 75 ms to 7 ms when it stopped).
func (p *predLog) work(ctx context.Context) {
	batch := make([]*logEntry, 0, p.batch)
	var buf []byte
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		p.gather.Lock()
		select {
		case e := <-p.q:
			batch = append(batch, e)
		case <-ctx.Done():
			p.gather.Unlock()
			p.drain(batch, &buf)
			return
		}
		if p.linger > 0 && len(p.q) < p.batch-1 {
			linger.Reset(p.linger)
			select {
			case <-linger.C:
			case <-p.full:
			case <-ctx.Done():
			}
			linger.Stop()
		}
		batch = p.fill(batch)
		p.gather.Unlock() // the next batch gathers while this one publishes
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logPublishTimeout)
		batch = p.publish(pctx, batch, &buf)
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
func (p *predLog) drain(batch []*logEntry, buf *[]byte) {
	ctx, cancel := context.WithTimeout(context.Background(), logDrainTimeout)
	defer cancel()
	for {
		batch = p.fill(batch)
		if len(batch) == 0 || ctx.Err() != nil {
			return
		}
		batch = p.publish(ctx, batch, buf)
	}
}

// publish publishes batch, counts the outcomes, returns the entries to
// the pool and returns batch emptied. The logs of one model go as one
// message, a JSON array (split past maxLogMessageBytes): what the bus
// costs per message (the store's write, the consumer's delivery and
// acknowledgement) is then paid once per batch. buf is the worker's
// encoding buffer.
func (p *predLog) publish(ctx context.Context, batch []*logEntry, buf *[]byte) []*logEntry {
	slices.SortStableFunc(batch, func(a, b *logEntry) int { return strings.Compare(a.model, b.model) })
	published, failed := 0, 0
	b, n, first := (*buf)[:0], 0, ""
	flush := func(model string) {
		if n == 0 {
			return
		}
		b = append(b, ']')
		msg := []bus.Message{{Subject: wire.PredictionSubject(model), Data: b, MsgID: first + "+" + strconv.Itoa(n)}}
		if ok, err := p.pub.PublishBatch(ctx, msg); ok == 1 {
			published += n
		} else {
			failed += n
			p.logger.Debug("publish prediction logs", "model", model, "logs", n, "err", err)
		}
		b, n = b[:0], 0
	}
	for i, e := range batch {
		mark := len(b)
		if n == 0 {
			b = append(b, '[')
		} else {
			b = append(b, ',')
		}
		var ok bool
		b, ok = p.appendLog(b, e)
		switch {
		case !ok:
			b = b[:mark]
			failed++
		case n > 0 && len(b) >= maxLogMessageBytes:
			one := append([]byte(nil), b[mark+1:]...) // the log without its comma
			b = b[:mark]
			flush(e.model)
			b, first, n = append(append(b, '['), one...), e.id, 1
		default:
			if n == 0 {
				first = e.id
			}
			n++
		}
		if i+1 == len(batch) || batch[i+1].model != e.model {
			flush(e.model)
		}
	}
	*buf = b
	for i, e := range batch {
		p.pool.Put(e)
		batch[i] = nil
	}
	p.m.logsWaiting.Sub(float64(len(batch)))
	p.m.logs.WithLabelValues("published").Add(float64(published))
	if failed > 0 {
		p.m.logs.WithLabelValues("failed").Add(float64(failed))
	}
	return batch[:0]
}

// appendLog writes e as a wire.PredictionLog JSON object, the document
// json.Marshal would write (the features in row order rather than sorted:
// an object's order means nothing), without reflection or a map. It
// reports false, as json.Marshal fails, for an output or a feature JSON
// cannot carry (NaN, ±Inf); a NaN feature is left out, as a missing one.
func (p *predLog) appendLog(b []byte, e *logEntry) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, []byte(e.id))
	b = append(b, `,"model":`...)
	b = appendJSONString(b, []byte(e.model))
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, e.version, 10)
	b = append(b, `,"arm":`...)
	b = appendJSONString(b, []byte(e.arm.String()))
	if e.entity != "" {
		b = append(b, `,"entity":`...)
		b = appendJSONString(b, []byte(e.entity))
	}
	switch p.features {
	case LogFeaturesFull:
		if len(e.row) > 0 {
			b = append(b, `,"features":{`...)
			comma := false
			for i, v := range e.row {
				if i >= len(e.names) || v != v {
					continue
				}
				if math.IsInf(float64(v), 0) {
					return b, false
				}
				if comma {
					b = append(b, ',')
				}
				b = appendJSONString(b, []byte(e.names[i]))
				b = append(b, ':')
				b = appendLogFloat(b, float64(v))
				comma = true
			}
			b = append(b, '}')
		}
	case LogFeaturesHash:
		b = append(b, `,"features_hash":"`...)
		b = append(append(b, rowHash(e.row)...), '"')
	}
	out, items := e.out, []string(nil)
	if e.items > 0 {
		items, out = recommendedItems(e)
	}
	if len(out) > 0 {
		b = append(b, `,"output":[`...)
		for i, v := range out {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return b, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendLogFloat(b, v)
		}
		b = append(b, ']')
	}
	if len(items) > 0 {
		b = append(b, `,"items":[`...)
		for i, it := range items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(append(append(b, '"'), it...), '"') // decimal digits
		}
		b = append(b, ']')
	}
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendInt(b, e.latency.Microseconds(), 10)
	if e.errText != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, []byte(e.errText))
	}
	b = append(b, `,"at":"`...)
	b = e.at.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...), true
}

// appendLogFloat writes a finite v as encoding/json does: the shortest
// decimal that reads back as the same float64.
func appendLogFloat(b []byte, v float64) []byte {
	if a := math.Abs(v); a == 0 || a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	b = strconv.AppendFloat(b, v, 'e', -1, 64)
	if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2], b = b[n-1], b[:n-1] // e-07 as e-7
	}
	return b
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
