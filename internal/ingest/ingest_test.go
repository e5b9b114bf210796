package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/ingest/client"
	"github.com/plinthai/plinth/internal/ingest/ingesttest"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
	"github.com/plinthai/plinth/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const streamsFile = "testdata/streams.yaml"

// newService returns a started ingest service over b.
func newService(t *testing.T, b *bus.Bus, cfg ingest.Config) *ingest.Service {
	t.Helper()
	cfg.StreamsFile = streamsFile
	svc, err := ingest.New(cfg, b, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry(),
		func() time.Time { return ingesttest.Now })
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Starting(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

// published returns a function reading the first n messages of a stream.
func published(t *testing.T, b *bus.Bus) func(string, int) []string {
	return func(stream string, n int) []string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cons, err := b.JetStream().OrderedConsumer(ctx, b.Stream(bus.StreamEvents), jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{b.Subject(wire.EventSubject(stream))},
		})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for len(out) < n && ctx.Err() == nil {
			batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for msg := range batch.Messages() {
				out = append(out, string(msg.Data()))
			}
		}
		// Nothing more than n must be there.
		if extra, err := cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond)); err == nil {
			for msg := range extra.Messages() {
				out = append(out, string(msg.Data()))
			}
		}
		return out
	}
}

func viaGRPC(t *testing.T, api ingest.API) ingest.API {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ingest.NewGRPC(api, ingest.DefaultConfig()).Register(srv)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); srv.Stop() })
	return client.New(conn)
}

// TestContract runs the behaviour suite on the embedded and the external
// bus, in process and through the gRPC client.
func TestContract(t *testing.T) {
	buses := []struct {
		name string
		open func(testing.TB) *bus.Bus
	}{{"embedded", bustest.Embedded}, {"external", bustest.External}}
	cfg := ingest.DefaultConfig()
	cfg.MaxBatch = ingesttest.MaxBatch
	for _, bb := range buses {
		t.Run(bb.name+"/in-process", func(t *testing.T) {
			ingesttest.Run(t, func(t *testing.T) (ingest.API, func(string, int) []string) {
				b := bb.open(t)
				return newService(t, b, cfg), published(t, b)
			})
		})
		t.Run(bb.name+"/grpc", func(t *testing.T) {
			ingesttest.Run(t, func(t *testing.T) (ingest.API, func(string, int) []string) {
				b := bb.open(t)
				return viaGRPC(t, newService(t, b, cfg)), published(t, b)
			})
		})
	}
}

// TestBusy: when JetStream does not persist the events (here the stream is
// gone, so nothing answers), valid events are reported retryable and the
// error is ErrBusy; nothing is dropped silently.
func TestBusy(t *testing.T) {
	cfg := ingest.DefaultConfig()
	cfg.PublishTimeout = 2 * time.Second
	b := bustest.Embedded(t)
	svc := newService(t, b, cfg)
	if err := b.JetStream().DeleteStream(context.Background(), b.Stream(bus.StreamEvents)); err != nil {
		t.Fatal(err)
	}
	ev := []byte(`{"txn_id":"b1","card_id":"c1","ts":"2026-03-01T12:00:00Z","amount":1}`)
	for name, api := range map[string]ingest.API{"in-process": svc, "grpc": viaGRPC(t, svc)} {
		res, err := api.Ingest(context.Background(), "transactions", [][]byte{ev, []byte(`{}`)})
		if !errors.Is(err, ingest.ErrBusy) {
			t.Errorf("%s: got %v, want ErrBusy", name, err)
		}
		want := ingest.Result{Rejected: []ingest.Rejection{
			{Index: 0, Reason: "not persisted in time by the event bus; retry", Retryable: true},
			{Index: 1, Field: "txn_id", Reason: "required"},
		}}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("%s: result (-want +got):\n%s", name, diff)
		}
	}
}

// benchBatches returns a function giving batches of 100 events of about
// 200 bytes, with ids never seen before: the ids are rewritten in place,
// so that preparing a batch costs no allocation.
func benchBatches(now time.Time) func() ([][]byte, []byte) {
	const n = 100
	events := make([][]byte, n)
	var body []byte
	body = append(body, '[')
	idAt := make([]int, n)
	for i := range events {
		if i > 0 {
			body = append(body, ',')
		}
		start := len(body)
		body = fmt.Appendf(body, `{"txn_id":"b%012d","card_id":"card-%06d","ts":%q,"amount":%d.5,"merchant":"merchant-%04d-of-a-long-descriptive-name","country":"FR","online":true,"items":2}`,
			0, i%5000, now.Format(time.RFC3339Nano), i%500, i%997)
		idAt[i] = start + len(`{"txn_id":"b`)
		events[i] = body[start:len(body):len(body)]
	}
	body = append(body, ']')
	seq := uint64(0)
	return func() ([][]byte, []byte) {
		for i := range events {
			seq++
			id := body[idAt[i] : idAt[i]+12]
			for k, v := len(id)-1, seq; k >= 0; k, v = k-1, v/10 {
				id[k] = byte('0' + v%10)
			}
		}
		return events, body
	}
}

func benchService(b *testing.B) *ingest.Service {
	bb := bustest.Embedded(b)
	cfg := ingest.DefaultConfig()
	cfg.StreamsFile, cfg.MaxEventAge = streamsFile, 0
	svc, err := ingest.New(cfg, bb, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Starting(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Stopping(context.Background()) })
	return svc
}

// BenchmarkIngest is the in-process cost of a batch of 100 events of about
// 200 bytes: checking and publishing until JetStream acknowledged them.
// The embedded NATS server runs in the same process: its work and
// allocations are in the figures too.
func BenchmarkIngest(b *testing.B) {
	svc := benchService(b)
	next := benchBatches(time.Now().UTC())
	b.ReportAllocs()
	for b.Loop() {
		batch, _ := next()
		if res, err := svc.Ingest(context.Background(), "transactions", batch); err != nil || res.Accepted != 100 {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngestHTTP is the same batch as a JSON array through POST
// /v1/events/{stream} on a loopback listener, client included.
func BenchmarkIngestHTTP(b *testing.B) {
	svc := benchService(b)
	mux := http.NewServeMux()
	ingest.NewHTTP(svc, ingest.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()
	url := srv.URL + "/v1/events/transactions"
	next := benchBatches(time.Now().UTC())
	b.ReportAllocs()
	for b.Loop() {
		_, body := next()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}
