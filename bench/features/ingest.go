package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/wire"
)

const (
	streamsFile = "internal/ingest/testdata/streams.yaml"
	viewsFile   = "internal/features/testdata/views.yaml"
	batchSize   = 100
	clients     = 16
)

// openBus starts an embedded bus in a fresh temporary directory.
func openBus(ctx context.Context) (*bus.Bus, func(), error) {
	dir, err := os.MkdirTemp("", "plinth-bench-features-*")
	if err != nil {
		return nil, nil, err
	}
	b, err := bus.Open(ctx, bus.Config{}, dir, discard)
	if err == nil {
		err = b.EnsureStreams(ctx)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return b, func() { _ = b.Close(); os.RemoveAll(dir) }, nil
}

// events returns n transactions of about 200 bytes, ids tagged with run.
func events(run string, n int, now time.Time) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"txn_id":"%s-%08d","card_id":"card-%06d","ts":%q,"amount":%d.%02d,"merchant":"merchant-%04d-of-a-long-descriptive-name","country":"FR","online":true,"items":%d}`,
			run, i, i%50000, now.Add(-time.Duration(n-i)*time.Millisecond).Format(time.RFC3339Nano), i%500, i%100, i%997, i%5)
	}
	return out
}

func newIngest(b *bus.Bus) (*ingest.Service, error) {
	cfg := ingest.DefaultConfig()
	cfg.StreamsFile = streamsFile
	cfg.MaxEventAge = 0
	svc, err := ingest.New(cfg, b, discard, prometheus.NewRegistry(), nil)
	if err != nil {
		return nil, err
	}
	return svc, svc.Starting(context.Background())
}

// ingestMethod is one way of putting a round's events on the bus; it
// returns the wall time it took.
type ingestMethod struct {
	name string
	run  func(evs [][]byte, tag string) (time.Duration, error)
}

// benchIngest measures the four methods in interleaved rounds, each
// round starting with a different method, so that the load of the shared
// machine falls on all of them alike; a method's rate is its events over
// its summed time, and the CPU time the process spent per event is
// reported beside it.
func benchIngest(ctx context.Context, o options) ([]Result, error) {
	b, closeBus, err := openBus(ctx)
	if err != nil {
		return nil, err
	}
	defer closeBus()
	svc, err := newIngest(b)
	if err != nil {
		return nil, err
	}
	srv, addr, err := serveHTTP(svc)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	viaHTTP, inProcess := httpSender(addr), apiSender(svc)
	methods := []ingestMethod{
		{"raw", func(evs [][]byte, _ string) (time.Duration, error) { return rawPublish(b, evs, "") }},
		{"raw ids", func(evs [][]byte, tag string) (time.Duration, error) { return rawPublish(b, evs, tag) }},
		{"http", func(evs [][]byte, tag string) (time.Duration, error) { return ingestRate(evs, tag, viaHTTP) }},
		{"in process", func(evs [][]byte, tag string) (time.Duration, error) { return ingestRate(evs, tag, inProcess) }},
	}
	perRound := max(batchSize, o.events/o.rounds)
	wall, cpu := make([]time.Duration, len(methods)), make([]time.Duration, len(methods))
	var ratios []float64
	for r := range o.rounds {
		evs := events(fmt.Sprint("r", r), perRound, time.Now())
		took := make([]time.Duration, len(methods))
		for k := range methods {
			m := (r + k) % len(methods)
			c0 := cpuTime()
			d, err := methods[m].run(evs, fmt.Sprint(m, "-", r, "-"))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", methods[m].name, err)
			}
			took[m], wall[m], cpu[m] = d, wall[m]+d, cpu[m]+cpuTime()-c0
		}
		ratios = append(ratios, took[0].Seconds()/took[2].Seconds())
		fmt.Printf("ingest round %d: raw %.0f/s, raw with ids %.0f/s, http %.0f/s, in-process %.0f/s\n", r+1,
			rate(perRound, took[0]), rate(perRound, took[1]), rate(perRound, took[2]), rate(perRound, took[3]))
	}
	n := perRound * o.rounds
	ratio := wall[0].Seconds() / wall[2].Seconds()
	perEvent := func(m int) float64 { return float64(cpu[m]) / float64(time.Microsecond) / float64(n) }
	return []Result{
		{Name: "raw JetStream async publish", Unit: "events/s", Value: rate(n, wall[0])},
		{Name: "raw JetStream async publish with message ids (dedup)", Unit: "events/s", Value: rate(n, wall[1])},
		{Name: "ingest over HTTP, batches of 100", Unit: "events/s", Value: rate(n, wall[2])},
		{Name: "ingest in process, batches of 100", Unit: "events/s", Value: rate(n, wall[3])},
		{Name: "process CPU per event, raw JetStream async publish", Unit: "µs", Value: perEvent(0)},
		{Name: "process CPU per event, raw publish with message ids", Unit: "µs", Value: perEvent(1)},
		{Name: "process CPU per event, ingest over HTTP (client, server and bus)", Unit: "µs", Value: perEvent(2)},
		{Name: "process CPU per event, ingest in process", Unit: "µs", Value: perEvent(3)},
		{Name: "ingest HTTP / raw publish (summed over rounds; runs are the rounds)", Unit: "ratio", Value: ratio, Runs: ratios,
			Target: ">= 0.5", Met: met(ratio >= 0.5)},
		{Name: "ingest HTTP / raw publish, median round", Unit: "ratio", Value: median(ratios)},
	}, nil
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func serveHTTP(svc *ingest.Service) (*http.Server, string, error) {
	mux := http.NewServeMux()
	ingest.NewHTTP(svc, ingest.DefaultConfig(), discard).Register(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln.Addr().String(), nil
}

// rawPublish publishes the events as JetStream async publishes with the
// same subject, and waits for every ack. A non-empty idTag gives each a
// message id, so that JetStream does the duplicate tracking ingest asks of it.
func rawPublish(b *bus.Bus, evs [][]byte, idTag string) (time.Duration, error) {
	js, err := jetstream.New(b.Conn(), jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return 0, err
	}
	subject := b.Subject(wire.EventSubject("transactions"))
	msgs := make([]*nats.Msg, len(evs))
	for i, e := range evs {
		msgs[i] = &nats.Msg{Subject: subject, Data: e}
		if idTag != "" {
			msgs[i].Header = nats.Header{jetstream.MsgIDHeader: {fmt.Sprint(idTag, i)}}
		}
	}
	start := time.Now()
	for _, m := range msgs {
		// The default stall wait of 200 ms fails a publish on a loaded
		// machine; wait as long as the ingest service waits for acks.
		if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(ingest.DefaultPublishTimeout)); err != nil {
			return 0, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		return 0, fmt.Errorf("raw publish: acks not complete after a minute")
	}
	return time.Since(start), nil
}

type sender func(batch [][]byte, body []byte) error

// request is one prepared batch: its events and its JSON array body.
type request struct {
	batch [][]byte
	body  []byte
}

// prepare builds the requests before the clock starts, as the raw
// publisher has its events ready: ids are retagged so that JetStream does
// not drop them as repeats of another run.
func prepare(evs [][]byte, tag string) []request {
	var out []request
	for i := 0; i < len(evs); i += batchSize {
		batch := retag(evs[i:min(i+batchSize, len(evs))], tag)
		body := append([]byte{'['}, bytes.Join(batch, []byte{','})...)
		out = append(out, request{batch: batch, body: append(body, ']')})
	}
	return out
}

// ingestRate sends the events in batches of 100 from concurrent clients.
func ingestRate(evs [][]byte, tag string, send sender) (time.Duration, error) {
	reqs := prepare(evs, tag)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				if err := send(reqs[i].batch, reqs[i].body); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	took := time.Since(start)
	if err := <-errs; err != nil {
		return 0, err
	}
	return took, nil
}

func retag(batch [][]byte, tag string) [][]byte {
	out := make([][]byte, len(batch))
	for i, e := range batch {
		out[i] = bytes.Replace(e, []byte(`"txn_id":"`), []byte(`"txn_id":"`+tag), 1)
	}
	return out
}

func httpSender(addr string) sender {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	url := "http://" + addr + "/v1/events/transactions"
	return func(_ [][]byte, body []byte) error {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(buf.Bytes(), []byte(`"rejected":[]`)) {
			return fmt.Errorf("ingest over HTTP: %d %.200s", resp.StatusCode, buf.Bytes())
		}
		return nil
	}
}

func apiSender(svc *ingest.Service) sender {
	return func(batch [][]byte, _ []byte) error {
		res, err := svc.Ingest(context.Background(), "transactions", batch)
		if err != nil || len(res.Rejected) > 0 {
			return fmt.Errorf("ingest in process: %v %+v", err, res.Rejected)
		}
		return nil
	}
}
