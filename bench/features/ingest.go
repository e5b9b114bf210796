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
	var raw, rawIDs, viaHTTP, inProc []float64
	for r := range o.repeats {
		evs := events(fmt.Sprint("raw", r), o.events, time.Now())
		rate, err := rawPublish(b, evs, "")
		if err != nil {
			return nil, err
		}
		raw = append(raw, rate)
		if rate, err = rawPublish(b, evs, fmt.Sprint("ids", r)); err != nil {
			return nil, err
		}
		rawIDs = append(rawIDs, rate)
		if rate, err = ingestRate(evs, fmt.Sprint("http", r), httpSender(addr)); err != nil {
			return nil, err
		}
		viaHTTP = append(viaHTTP, rate)
		if rate, err = ingestRate(evs, fmt.Sprint("api", r), apiSender(svc)); err != nil {
			return nil, err
		}
		inProc = append(inProc, rate)
		fmt.Printf("ingest run %d: raw %.0f/s, raw with ids %.0f/s, http %.0f/s, in-process %.0f/s\n", r+1, raw[r], rawIDs[r], viaHTTP[r], inProc[r])
	}
	ratio := make([]float64, len(raw))
	for i := range raw {
		ratio[i] = viaHTTP[i] / raw[i]
	}
	return []Result{
		{Name: "raw JetStream async publish", Unit: "events/s", Value: median(raw), Runs: raw},
		{Name: "raw JetStream async publish with message ids (dedup)", Unit: "events/s", Value: median(rawIDs), Runs: rawIDs},
		{Name: "ingest over HTTP, batches of 100", Unit: "events/s", Value: median(viaHTTP), Runs: viaHTTP},
		{Name: "ingest in process, batches of 100", Unit: "events/s", Value: median(inProc), Runs: inProc},
		{Name: "ingest HTTP / raw publish", Unit: "ratio", Value: median(ratio), Runs: ratio, Target: ">= 0.5", Met: met(median(ratio) >= 0.5)},
	}, nil
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
func rawPublish(b *bus.Bus, evs [][]byte, idTag string) (float64, error) {
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
		if _, err := js.PublishMsgAsync(m); err != nil {
			return 0, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		return 0, fmt.Errorf("raw publish: acks not complete after a minute")
	}
	return float64(len(evs)) / time.Since(start).Seconds(), nil
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
func ingestRate(evs [][]byte, tag string, send sender) (float64, error) {
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
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(len(evs)) / time.Since(start).Seconds(), nil
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
