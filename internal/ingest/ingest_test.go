package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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

// BenchmarkIngest is the in-process cost of a batch of 100 events of about
// 200 bytes: checking and publishing until JetStream acknowledged them.
func BenchmarkIngest(b *testing.B) {
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
	now := time.Now().UTC()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		batch := make([][]byte, 100)
		for i := range batch {
			n++
			batch[i] = fmt.Appendf(nil, `{"txn_id":"b%09d","card_id":"card-%06d","ts":%q,"amount":%d.5,"merchant":"merchant-%04d-of-a-long-descriptive-name","country":"FR","online":true,"items":2}`,
				n, n%5000, now.Format(time.RFC3339Nano), n%500, n%997)
		}
		if res, err := svc.Ingest(context.Background(), "transactions", batch); err != nil || res.Accepted != 100 {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}
