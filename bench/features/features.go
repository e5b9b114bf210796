package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/plinthai/plinth/internal/features"
	"github.com/plinthai/plinth/internal/features/online/redisstore"
	"github.com/plinthai/plinth/internal/features/view"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/kv"
	"github.com/plinthai/plinth/internal/wire"
)

const views50File = "internal/features/testdata/views50.yaml"

// startFeatures runs a features service with the embedded store until stop.
func startFeatures(b *bus.Bus, viewsFile string) (*features.Service, func(), error) {
	dir, err := os.MkdirTemp("", "plinth-bench-blobs-*")
	if err != nil {
		return nil, nil, err
	}
	blobs, err := blob.Open(context.Background(), blob.Config{}, dir)
	if err != nil {
		return nil, nil, err
	}
	cfg := features.DefaultConfig()
	cfg.ViewsFile = viewsFile
	svc, err := features.New(cfg, features.Deps{Bus: b, Blobs: blobs}, discard, prometheus.NewRegistry())
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Starting(ctx); err != nil {
		cancel()
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() { _ = svc.Running(ctx); close(done) }()
	return svc, func() { cancel(); <-done; _ = svc.Stopping(context.Background()); _ = blobs.Close(); os.RemoveAll(dir) }, nil
}

// benchFreshness sends 5,000 events/s (batches of 50 every 10 ms) through
// ingest and measures, for the last event of each batch (a probe entity),
// the time from the start of its ingest call to its features being found.
func benchFreshness(ctx context.Context, o options) ([]Result, error) {
	b, closeBus, err := openBus(ctx)
	if err != nil {
		return nil, err
	}
	defer closeBus()
	in, err := newIngest(b)
	if err != nil {
		return nil, err
	}
	svc, stop, err := startFeatures(b, viewsFile)
	if err != nil {
		return nil, err
	}
	defer stop()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	done := make(chan struct{})
	go poll(svc, &mu, sent, &lat, done)
	tick := time.NewTicker(10 * time.Millisecond)
	end := time.Now().Add(o.freshness)
	for k := 0; time.Now().Before(end); k++ {
		<-tick.C
		batch := events(fmt.Sprint("fresh", k), 50, time.Now())
		probe := fmt.Sprint("probe-", k)
		batch[49] = []byte(fmt.Sprintf(`{"txn_id":"p%d","card_id":%q,"ts":%q,"amount":1}`, k, probe, time.Now().UTC().Format(time.RFC3339Nano)))
		mu.Lock()
		sent[probe] = time.Now()
		mu.Unlock()
		if _, err := in.Ingest(ctx, "transactions", batch); err != nil {
			return nil, err
		}
	}
	tick.Stop()
	waitDrained(&mu, sent)
	close(done)
	mu.Lock()
	defer mu.Unlock()
	p50, p99 := percentile(lat, 0.5)/1000, percentile(lat, 0.99)/1000
	fmt.Printf("freshness: %d probes, p50 %.2f ms, p99 %.2f ms\n", len(lat), p50, p99)
	return []Result{
		{Name: "event → visible online p50 at 5,000 events/s", Unit: "ms", Value: p50},
		{Name: "event → visible online p99 at 5,000 events/s", Unit: "ms", Value: p99, Target: "<= 50 ms", Met: met(p99 <= 50)},
	}, nil
}

func poll(svc *features.Service, mu *sync.Mutex, sent map[string]time.Time, lat *[]time.Duration, done chan struct{}) {
	for {
		select {
		case <-done:
			return
		default:
		}
		mu.Lock()
		probes := make([]string, 0, len(sent))
		for p := range sent {
			probes = append(probes, p)
		}
		mu.Unlock()
		for _, p := range probes {
			fv, err := svc.Lookup(context.Background(), "card", []string{p})
			if err == nil && fv.Found[0] {
				now := time.Now()
				mu.Lock()
				*lat = append(*lat, now.Sub(sent[p]))
				delete(sent, p)
				mu.Unlock()
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func waitDrained(mu *sync.Mutex, sent map[string]time.Time) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(sent)
		mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// population returns rows of the 50-feature view: 20 events for each of
// 10,000 cards over the last 2 hours.
func population(v *view.View, now time.Time) ([]view.Row, []string, error) {
	const cards, perCard = 10000, 20
	rows := make([]view.Row, 0, cards*perCard)
	for i := range cards * perCard {
		t := now.Add(-time.Duration(cards*perCard-i) * 36 * time.Millisecond)
		data := fmt.Appendf(nil, `{"card_id":"card-%05d","amount":%d.5,"merchant":"m%d","country":"FR","online":true,"items":3}`, i%cards, i%300, i%41)
		r, err := v.Extract(data, t, uint64(i+1), "")
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, r)
	}
	ents := make([]string, cards)
	for i := range ents {
		ents[i] = fmt.Sprintf("card-%05d", i)
	}
	return rows, ents, nil
}

// benchLookups measures the embedded store in process, then stops that
// service and lets the collector take its state before it measures Redis:
// a process that reads features from Redis holds no embedded store, and
// marking one (some hundred MB here) would only add the collector's pauses
// to the Redis figures.
func benchLookups(ctx context.Context, o options) ([]Result, error) {
	results, v, rows, ents, now, err := benchEmbedded(ctx, o)
	if err != nil || o.redisURL == "" {
		return results, err
	}
	rs, err := benchRedis(ctx, o, v, rows, ents, now)
	return append(results, rs...), err
}

func benchEmbedded(ctx context.Context, o options) ([]Result, *view.View, []view.Row, []string, time.Time, error) {
	now := time.Now()
	b, closeBus, err := openBus(ctx)
	if err != nil {
		return nil, nil, nil, nil, now, err
	}
	defer closeBus()
	svc, stop, err := startFeatures(b, views50File)
	if err != nil {
		return nil, nil, nil, nil, now, err
	}
	defer stop()
	v, _ := svc.View("card50")
	rows, ents, err := population(v, now)
	if err != nil {
		return nil, nil, nil, nil, now, err
	}
	if _, err := svc.Store().Apply(ctx, v, rows, now); err != nil {
		return nil, nil, nil, nil, now, err
	}
	lat := timeCalls(o.lookups, func(i int) error {
		_, err := svc.Lookup(ctx, "card50", ents[i%len(ents):i%len(ents)+1])
		return err
	})
	p50, p99 := percentile(lat, 0.5), percentile(lat, 0.99)
	fmt.Printf("lookup embedded 1x50: %d calls, p50 %.2f µs, p99 %.2f µs\n", len(lat), p50, p99)
	return []Result{
		{Name: "lookup 1 entity × 50 features, embedded, in process p50", Unit: "µs", Value: p50},
		{Name: "lookup 1 entity × 50 features, embedded, in process p99", Unit: "µs", Value: p99, Target: "<= 20 µs", Met: met(p99 <= 20)},
	}, v, rows, ents, now, nil
}

func benchRedis(ctx context.Context, o options, v *view.View, rows []view.Row, ents []string, now time.Time) ([]Result, error) {
	rdb, err := kv.Open(ctx, kv.Config{URL: o.redisURL})
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	prefix := "bench" + hex.EncodeToString(tag[:]) + ":"
	defer deleteKeys(ctx, rdb, prefix)
	st := redisstore.New(rdb, prefix)
	for i := 0; i < len(rows); i += 5000 {
		if _, err := st.Apply(ctx, v, rows[i:min(i+5000, len(rows))], now); err != nil {
			return nil, err
		}
	}
	rows = nil
	runtime.GC()
	var results []Result
	for _, c := range []struct {
		n      int
		at     time.Time
		what   string
		target float64
	}{
		{1, now, "cached", 1000}, {100, now, "cached", 5000},
		{1, now.Add(time.Hour), "1h later (recomputed once, written back)", 0}, {100, now.Add(time.Hour), "1h later (recomputed once, written back)", 0},
	} {
		out, found := make([]float64, c.n*v.Width()), make([]bool, c.n)
		lat := timeCalls(o.lookups, func(i int) error {
			j := (i * c.n) % (len(ents) - c.n)
			return st.Lookup(ctx, v, ents[j:j+c.n], c.at, out, found)
		})
		p50, p99 := percentile(lat, 0.5), percentile(lat, 0.99)
		fmt.Printf("lookup redis %dx50 %s: %d calls, p50 %.0f µs, p99 %.0f µs\n", c.n, c.what, len(lat), p50, p99)
		name := fmt.Sprintf("lookup %d × 50 features, Redis, %s", c.n, c.what)
		results = append(results, Result{Name: name + " p50", Unit: "µs", Value: p50})
		r := Result{Name: name + " p99", Unit: "µs", Value: p99}
		if c.target > 0 {
			r.Target, r.Met = fmt.Sprintf("<= %g ms", c.target/1000), met(p99 <= c.target)
		}
		results = append(results, r)
	}
	return results, nil
}

func deleteKeys(ctx context.Context, rdb *redis.Client, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 500 {
			rdb.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}

// timeCalls calls fn for d and returns each call's latency.
func timeCalls(d time.Duration, fn func(i int) error) []time.Duration {
	var lat []time.Duration
	end := time.Now().Add(d)
	for i := 0; time.Now().Before(end); i++ {
		start := time.Now()
		if err := fn(i); err != nil {
			fmt.Fprintln(os.Stderr, "call:", err)
			return lat
		}
		lat = append(lat, time.Since(start))
	}
	return lat
}

// benchRebuild publishes events as ingest does and measures how fast a
// features service with an empty store replays them.
func benchRebuild(ctx context.Context, o options) ([]Result, error) {
	var rates []float64
	for r := range o.repeats {
		rate, err := rebuildOnce(ctx, o.events)
		if err != nil {
			return nil, err
		}
		fmt.Printf("rebuild run %d: %.0f events/s\n", r+1, rate)
		rates = append(rates, rate)
	}
	return []Result{{Name: "rebuild by replay (12-feature view, embedded store, offline log on)", Unit: "events/s", Value: median(rates), Runs: rates}}, nil
}

func rebuildOnce(ctx context.Context, n int) (float64, error) {
	b, closeBus, err := openBus(ctx)
	if err != nil {
		return 0, err
	}
	defer closeBus()
	js, _ := jetstream.New(b.Conn(), jetstream.WithPublishAsyncMaxPending(4096))
	now := time.Now()
	subject := b.Subject(wire.EventSubject("transactions"))
	for i, e := range events("rebuild", n, now) {
		msg := &nats.Msg{Subject: subject, Data: e, Header: nats.Header{}}
		msg.Header.Set(ingest.HeaderEventTime, strconv.FormatInt(now.Add(-time.Duration(n-i)*time.Millisecond).UnixNano(), 10))
		if _, err := js.PublishMsgAsync(msg, jetstream.WithStallWait(ingest.DefaultPublishTimeout)); err != nil {
			return 0, err
		}
	}
	<-js.PublishAsyncComplete()
	start := time.Now()
	svc, stop, err := startFeatures(b, viewsFile)
	if err != nil {
		return 0, err
	}
	defer stop()
	v, _ := svc.View("card")
	for {
		pos, _, _ := svc.Store().Position(ctx, v)
		if pos >= uint64(n) {
			return float64(n) / time.Since(start).Seconds(), nil
		}
		if time.Since(start) > 5*time.Minute {
			return 0, fmt.Errorf("rebuild: at %d of %d after 5 minutes", pos, n)
		}
		time.Sleep(time.Millisecond)
	}
}
