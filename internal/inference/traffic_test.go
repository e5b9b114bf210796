package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// twoVersions serves model m with version 1 champion and 2 challenger.
func twoVersions(t *testing.T, traffic registry.Traffic, cfg Config, pub Publisher) *harness {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	reg.setAlias("m", aliasChallenger, reg.addVersion("m", "test:const", nil, nil))
	reg.setModel("m", func(m *registry.Model) { m.Traffic = traffic })
	return start(t, reg, cfg, pub)
}

type v1Answer struct {
	ID      string  `json:"id"`
	Version int64   `json:"version"`
	Arm     string  `json:"arm"`
	Score   float64 `json:"score"`
}

func (h *harness) predictV1(body string, hdr map[string]string) v1Answer {
	h.t.Helper()
	status, _, b := h.do("POST", "/v1/models/m:predict", []byte(body), hdr)
	if status != 200 {
		h.t.Fatalf("predict = %d %s", status, b)
	}
	var a v1Answer
	if err := json.Unmarshal(b, &a); err != nil {
		h.t.Fatal(err)
	}
	if a.Score != float64(a.Version) {
		h.t.Fatalf("answer %+v: score is not the version's", a)
	}
	return a
}

func TestCanaryStickyAndSplit(t *testing.T) {
	h := twoVersions(t, registry.Traffic{ChallengerPercent: 20}, testConfig(t), nil)
	const n = 2000
	challengers := 0
	for i := range n {
		ent := "card-" + strconv.Itoa(i)
		a := h.predictV1(`{"entity":"`+ent+`","features":[1,2,3]}`, nil)
		if a.Arm == wire.ArmChallenger {
			challengers++
		}
		// Sticky: the same entity, again and through the header, lands on the same arm.
		if b := h.predictV1(`{"entity":"`+ent+`","features":[1,2,3]}`, nil); b.Arm != a.Arm {
			t.Fatalf("entity %s went to %s then %s", ent, a.Arm, b.Arm)
		}
		if i%10 == 0 {
			x := h.predictV1(`{"features":[1,2,3]}`, map[string]string{"X-Plinth-Route-Key": ent})
			y := h.predictV1(`{"features":[1,2,3]}`, map[string]string{"X-Plinth-Route-Key": ent})
			if x.Arm != y.Arm {
				t.Fatalf("route header %s went to %s then %s", ent, x.Arm, y.Arm)
			}
		}
	}
	// 20% of 2000 is 400; the binomial standard deviation is about 18.
	if challengers < 330 || challengers > 470 {
		t.Errorf("challenger got %d of %d, want about 400 (20%%)", challengers, n)
	}
	if a := h.predictV1(`{"version":1,"entity":"x","features":[1,2,3]}`, nil); a.Arm != wire.ArmPinned || a.Version != 1 {
		t.Errorf("pinned answer %+v", a)
	}
}

// recorder is a Publisher that keeps prediction logs; with block set it
// blocks until released, like a stalled bus.
type recorder struct {
	mu      sync.Mutex
	logs    []wire.PredictionLog
	batches []int // the logs of each PublishBatch
	block   chan struct{}
}

func (r *recorder) PublishBatch(ctx context.Context, msgs []bus.Message) (int, error) {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	n := 0
	for i, m := range msgs {
		ls, err := wire.DecodePredictionLogs(nil, m.Data)
		if err != nil {
			return i, err
		}
		for _, l := range ls {
			if m.Subject != wire.PredictionSubject(l.Model) || m.MsgID != ls[0].ID+"+"+strconv.Itoa(len(ls)) {
				return i, fmt.Errorf("subject %q, message id %q for model %q, logs %s..+%d", m.Subject, m.MsgID, l.Model, ls[0].ID, len(ls))
			}
		}
		n += len(ls)
		r.mu.Lock()
		r.logs = append(r.logs, ls...)
		r.mu.Unlock()
	}
	r.mu.Lock()
	r.batches = append(r.batches, n)
	r.mu.Unlock()
	return len(msgs), nil
}

func (r *recorder) byArm() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, l := range r.logs {
		out[l.Arm]++
	}
	return out
}

func TestShadowNeverAnswers(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig(t)
	cfg.LogFeatures = LogFeaturesFull
	h := twoVersions(t, registry.Traffic{Shadow: true}, cfg, rec)
	for range 50 {
		if a := h.predictV1(`{"features":{"a":1,"b":2,"c":3}}`, nil); a.Arm != wire.ArmChampion || a.Version != 1 {
			t.Fatalf("with shadow on, answer %+v, want the champion", a)
		}
	}
	waitFor(t, "50 shadow logs", func() bool { return rec.byArm()[wire.ArmShadow] == 50 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, l := range rec.logs {
		if l.Arm == wire.ArmShadow && (l.Version != 2 || l.Output[0] != 2 || l.Features["b"] != 2) {
			t.Errorf("shadow log %+v, want version 2 scoring the champion's features", l)
		}
	}
}

func TestPredictionLogSamplingAndDrops(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig(t)
	cfg.LogSampleRate = 0.25
	h := twoVersions(t, registry.Traffic{}, cfg, rec)
	const n = 800
	for range n {
		h.predictV1(`{"features":[1,2,3]}`, nil)
	}
	published := func() float64 { return testutil.ToFloat64(h.s.metrics.logs.WithLabelValues("published")) }
	waitFor(t, "logs to be published", func() bool {
		return testutil.ToFloat64(h.s.metrics.logsWaiting) == 0 && published() == float64(rec.byArm()[wire.ArmChampion])
	})
	if got := rec.byArm()[wire.ArmChampion]; got < 140 || got > 260 {
		t.Errorf("logged %d of %d at rate 0.25, want about 200", got, n)
	}
	rec.mu.Lock()
	l := rec.logs[0]
	rec.mu.Unlock()
	if l.Model != "m" || l.ID == "" || l.FeaturesHash == "" || len(l.Output) != 1 || l.At.IsZero() {
		t.Errorf("log %+v lacks fields", l)
	}

	// A stalled bus: the queue fills, requests keep answering, drops are counted.
	slow := &recorder{block: make(chan struct{})}
	cfg = testConfig(t)
	cfg.LogQueue = 4
	h = twoVersions(t, registry.Traffic{}, cfg, slow)
	start := time.Now()
	for range 100 {
		h.predictV1(`{"features":[1,2,3]}`, nil)
	}
	dropped := testutil.ToFloat64(h.s.metrics.logs.WithLabelValues("dropped"))
	close(slow.block)
	// The queue holds 4 and each of the two workers one batch of at most
	// the queue's length: 12 wait, the other 88 are dropped.
	if dropped < 88 {
		t.Errorf("dropped %v of 100 with a stalled bus and a queue of 4, want ≥ 88", dropped)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("100 requests took %s with a stalled bus", took)
	}
}

func TestPredictionLogBatches(t *testing.T) {
	// With a linger far longer than the test, a batch goes out when it is
	// full (the queue's length, 8 here), and what is left goes out when the
	// service stops.
	rec := &recorder{}
	cfg := testConfig(t)
	cfg.LogQueue, cfg.LogLinger = 8, time.Hour
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	h := start(t, reg, cfg, rec)
	for range 16 {
		h.predictV1(`{"features":[1,2,3]}`, nil)
	}
	waitFor(t, "two full batches", func() bool { return rec.byArm()[wire.ArmChampion] == 16 })
	rec.mu.Lock()
	if len(rec.batches) != 2 || rec.batches[0] != 8 || rec.batches[1] != 8 {
		t.Errorf("published in batches %v, want [8 8]", rec.batches)
	}
	rec.mu.Unlock()
	for range 3 {
		h.predictV1(`{"features":[1,2,3]}`, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.s.Stopping(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.byArm()[wire.ArmChampion]; got != 19 {
		t.Errorf("after stopping, %d of 19 logs published, want all", got)
	}
	if got := testutil.ToFloat64(h.s.metrics.logs.WithLabelValues("published")); got != 19 {
		t.Errorf("published counter %v, want 19", got)
	}

	// Without a linger a worker publishes what is queued, without a timer:
	// a lone log goes out.
	rec = &recorder{}
	cfg.LogLinger = 0
	h = start(t, reg, cfg, rec)
	h.predictV1(`{"features":[1,2,3]}`, nil)
	waitFor(t, "the log", func() bool { return rec.byArm()[wire.ArmChampion] == 1 })
}

func TestHotSwapUnderLoad(t *testing.T) {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	for range 10 {
		reg.addVersion("m", "test:const", nil, nil)
	}
	for _, batching := range []bool{false, true} {
		t.Run("batching="+strconv.FormatBool(batching), func(t *testing.T) {
			reg.setAlias("m", aliasChampion, 1)
			cfg := testConfig(t)
			cfg.Batching = batching
			h := start(t, reg, cfg, nil)
			var failures, ok atomic.Int64
			var maxSeen atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client := h.srv.Client()
					for {
						select {
						case <-stop:
							return
						default:
						}
						resp, err := client.Post(h.srv.URL+"/v2/models/m/infer", "application/json",
							bytes.NewReader([]byte(`{"inputs":[{"name":"features","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`)))
						if err != nil {
							failures.Add(1)
							continue
						}
						var body struct {
							Version string                     `json:"model_version"`
							Outputs []struct{ Data []float64 } `json:"outputs"`
						}
						err = json.NewDecoder(resp.Body).Decode(&body)
						resp.Body.Close()
						if err != nil || resp.StatusCode != 200 || body.Version != strconv.FormatFloat(body.Outputs[0].Data[0], 'g', -1, 64) {
							failures.Add(1)
							continue
						}
						ok.Add(1)
						v, _ := strconv.ParseInt(body.Version, 10, 64)
						if v > maxSeen.Load() {
							maxSeen.Store(v)
						}
					}
				}()
			}
			for v := int64(2); v <= 11; v++ {
				before := ok.Load()
				waitFor(t, "traffic", func() bool { return ok.Load() > before+20 })
				reg.setAlias("m", aliasChampion, v)
				h.refresh("m")
			}
			waitFor(t, "the last version to answer", func() bool { return maxSeen.Load() == 11 })
			close(stop)
			wg.Wait()
			if failures.Load() != 0 {
				t.Errorf("%d of %d requests failed across 10 swaps", failures.Load(), ok.Load()+failures.Load())
			}
			if got := testutil.ToFloat64(h.s.metrics.loaded.WithLabelValues("m")); got > float64(1+cfg.PinnedVersions) {
				t.Errorf("%v versions loaded, want at most champion + %d pinned", got, cfg.PinnedVersions)
			}
		})
	}
}

// gate is a runtime that records batch sizes and holds every call until
// released, so concurrent requests pile up behind the first.
type gate struct {
	mu    sync.Mutex
	sizes []int
	hold  chan struct{}
}

func (g *gate) predict(_ context.Context, rows []float32, n int, out []float64) error {
	<-g.hold
	g.mu.Lock()
	g.sizes = append(g.sizes, n)
	g.mu.Unlock()
	for i := range n {
		out[i] = float64(rows[i*3])
	}
	return nil
}

func TestBatchingCoalesces(t *testing.T) {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:gate", nil, nil))
	reg.setModel("m", func(m *registry.Model) { m.Tags = map[string]string{tagBatching: "on"} })
	g := &gate{hold: make(chan struct{})}
	cfg := testConfig(t)
	cfg.BatchMaxSize = 64
	cfg.BatchMaxDelay = 50 * time.Millisecond
	h := startWith(t, reg, cfg, nil, func(registry.Version) (runtime, *signature, bool) {
		return g, scoreSig([]string{"a", "b", "c"}, "test"), true
	})
	const n = 16
	var wg sync.WaitGroup
	scores := make([]float64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := h.predictV1Raw(`{"features":[` + strconv.Itoa(i) + `,0,0]}`)
			scores[i] = a
		}()
	}
	waitFor(t, "requests to queue", func() bool { return h.s.models.get("m").inflight.Load() == n })
	close(g.hold)
	wg.Wait()
	for i, s := range scores {
		if s != float64(i) {
			t.Errorf("request %d got score %v: rows were mixed up across the batch", i, s)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sizes) >= n || maxInt(g.sizes) < 2 {
		t.Errorf("batch sizes %v for %d concurrent requests, want them coalesced", g.sizes, n)
	}
}

func (h *harness) predictV1Raw(body string) float64 {
	status, _, b := h.do("POST", "/v1/models/m:predict", []byte(body), nil)
	var a v1Answer
	if status != 200 || json.Unmarshal(b, &a) != nil {
		h.t.Errorf("predict = %d %s", status, b)
	}
	return a.Score
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// A batch of logs goes as one message per model, a JSON array in the
// order the logs came, split before a message would pass
// maxLogMessageBytes.
func TestPredictionLogMessages(t *testing.T) {
	rec := &recorder{}
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	h := start(t, reg, testConfig(t), rec)
	p := h.s.logs
	entry := func(id, model string, entityBytes int) *logEntry {
		e := p.entry()
		e.id, e.model, e.entity, e.at, e.out = id, model, strings.Repeat("e", entityBytes), time.Now(), append(e.out, 0.5)
		p.m.logsWaiting.Inc()
		return e
	}
	var buf []byte
	p.publish(t.Context(), []*logEntry{entry("1", "a", 1), entry("2", "b", 1), entry("3", "a", 1), entry("4", "b", 1), entry("5", "a", 1)}, &buf)
	rec.mu.Lock()
	var ids []string
	for _, l := range rec.logs {
		ids = append(ids, l.Model+l.ID)
	}
	if got := strings.Join(ids, " "); got != "a1 a3 a5 b2 b4" || len(rec.batches) != 2 {
		t.Errorf("published %s in %d messages, want a1 a3 a5 b2 b4 in 2", got, len(rec.batches))
	}
	rec.logs, rec.batches = nil, nil
	rec.mu.Unlock()

	big := maxLogMessageBytes/2 - 1000 // two fit one message, a third does not
	p.publish(t.Context(), []*logEntry{entry("6", "a", big), entry("7", "a", big), entry("8", "a", big)}, &buf)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.logs) != 3 || len(rec.batches) != 2 || rec.batches[0] != 2 || rec.batches[1] != 1 {
		t.Errorf("three large logs: %d logs in messages of %v, want 3 in [2 1]", len(rec.logs), rec.batches)
	}
	if got := testutil.ToFloat64(h.s.metrics.logs.WithLabelValues("published")); got != 8 {
		t.Errorf("published counter %v, want 8", got)
	}
}
