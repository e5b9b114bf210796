package features_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/plinthai/plinth/internal/features"
	"github.com/plinthai/plinth/internal/features/client"
	"github.com/plinthai/plinth/internal/features/featurestest"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
	"github.com/plinthai/plinth/internal/platform/kv/kvtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a bus, a blob store and an ingest service to feed views with.
type env struct {
	bus    *bus.Bus
	blobs  *blob.Store
	ingest *ingest.Service
}

func newEnv(t *testing.T, b *bus.Bus) *env {
	t.Helper()
	blobs, err := blob.Open(context.Background(), blob.Config{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	cfg := ingest.DefaultConfig()
	cfg.StreamsFile = "../ingest/testdata/streams.yaml"
	in, err := ingest.New(cfg, b, discard, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Starting(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &env{bus: b, blobs: blobs, ingest: in}
}

// start runs a features service until the test ends (or stop is called).
func (e *env) start(t *testing.T, rdb redis.UniversalClient, prefix, snapDir string) (*features.Service, func()) {
	t.Helper()
	return e.startWith(t, e.blobs, rdb, prefix, snapDir)
}

func (e *env) startWith(t *testing.T, blobs features.Blobs, rdb redis.UniversalClient, prefix, snapDir string) (*features.Service, func()) {
	t.Helper()
	return e.startReg(t, prometheus.NewRegistry(), blobs, rdb, prefix, snapDir)
}

// startReg is startWith registering the service's metrics in reg.
func (e *env) startReg(t *testing.T, reg *prometheus.Registry, blobs features.Blobs, rdb redis.UniversalClient, prefix, snapDir string) (*features.Service, func()) {
	t.Helper()
	cfg := features.DefaultConfig()
	cfg.ViewsFile, cfg.RedisPrefix, cfg.OfflineFlush = "testdata/views.yaml", prefix, 50*time.Millisecond
	svc, err := features.New(cfg, features.Deps{Bus: e.bus, Blobs: blobs, Redis: rdb, SnapshotDir: snapDir}, discard, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Starting(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Running(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Running: %v", err)
		}
		if err := svc.Stopping(context.Background()); err != nil {
			t.Errorf("Stopping: %v", err)
		}
	}
	t.Cleanup(stop)
	return svc, stop
}

// send ingests n transactions spread over cards, amounts 1..n, ids with tag.
func (e *env) send(t *testing.T, tag string, n, cards int) {
	t.Helper()
	now := time.Now().UTC()
	var batch [][]byte
	for i := range n {
		ts := now.Add(-time.Duration(n-i) * time.Second).Format(time.RFC3339Nano)
		batch = append(batch, fmt.Appendf(nil, `{"txn_id":"%s%d","card_id":"card%d","ts":%q,"amount":%d,"merchant":"m%d","country":"FR"}`, tag, i, i%cards, ts, i+1, i%4))
		if len(batch) == 100 || i == n-1 {
			if res, err := e.ingest.Ingest(context.Background(), "transactions", batch); err != nil || len(res.Rejected) > 0 {
				t.Fatalf("ingest: %+v %v", res, err)
			}
			batch = batch[:0]
		}
	}
}

// waitCount polls until the 1h counts of the cards add up to want.
func waitCount(t *testing.T, api features.API, cards int, want float64) {
	t.Helper()
	ents := make([]string, cards)
	for i := range ents {
		ents[i] = fmt.Sprint("card", i)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		fv, err := api.Lookup(context.Background(), "card", ents)
		if err != nil {
			t.Fatal(err)
		}
		got := 0.0
		for i := range ents {
			got += fv.Values[i*len(fv.Names)+1] // txn_count_1h
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("1h count %v, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

func states(t *testing.T, svc *features.Service, cards int) map[string]string {
	t.Helper()
	v, _ := svc.View("card")
	out := map[string]string{}
	for i := range cards {
		b, err := svc.Store().State(context.Background(), v, fmt.Sprint("card", i))
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint("card", i)] = string(b)
	}
	return out
}

func viaGRPC(t *testing.T, api features.API) features.API {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	features.NewGRPC(api).Register(srv)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); srv.Stop() })
	return client.New(conn)
}

// buses are the two kinds of bus every integration test runs on: the
// embedded server, and the real one at PLINTH_TEST_NATS_URL.
var buses = []struct {
	name string
	open func(testing.TB) *bus.Bus
}{{"embedded", bustest.Embedded}, {"external", bustest.External}}

// TestContract runs the behaviour suite of the API in process and through
// the gRPC client, on both buses and both online stores (Redis at
// PLINTH_TEST_REDIS_URL).
func TestContract(t *testing.T) {
	for _, bb := range buses {
		for _, store := range []string{"embedded", "redis"} {
			for _, transport := range []string{"in-process", "grpc"} {
				t.Run(bb.name+"/"+store+"/"+transport, func(t *testing.T) {
					featurestest.Run(t, func(t *testing.T) (features.API, func(...string)) {
						e := newEnv(t, bb.open(t))
						var rdb redis.UniversalClient
						prefix := ""
						if store == "redis" {
							rdb, prefix = kvtest.Open(t)
						}
						var api features.API
						api, _ = e.start(t, rdb, prefix, "")
						if transport == "grpc" {
							api = viaGRPC(t, api)
						}
						return api, e.ingestAll(t)
					})
				})
			}
		}
	}
}

// ingestAll returns a function that ingests events, all of which must be
// accepted.
func (e *env) ingestAll(t *testing.T) func(...string) {
	return func(events ...string) {
		t.Helper()
		batch := make([][]byte, len(events))
		for i, ev := range events {
			batch[i] = []byte(ev)
		}
		if res, err := e.ingest.Ingest(context.Background(), "transactions", batch); err != nil || len(res.Rejected) > 0 {
			t.Fatalf("ingest: %+v %v", res, err)
		}
	}
}

// TestRedisReplicas: two replicas share the durable consumer over one Redis
// store, on the embedded and the real NATS server: each applies a share of
// the events, and the state they build together equals an embedded replay
// of the stream.
func TestRedisReplicas(t *testing.T) {
	for _, bb := range buses {
		t.Run(bb.name, func(t *testing.T) {
			rdb, prefix := kvtest.Open(t)
			e := newEnv(t, bb.open(t))
			reg1, reg2 := prometheus.NewRegistry(), prometheus.NewRegistry()
			r1, _ := e.startReg(t, reg1, e.blobs, rdb, prefix, "")
			r2, _ := e.startReg(t, reg2, e.blobs, rdb, prefix, "")
			for k := range 10 {
				e.send(t, fmt.Sprint("r", k, "-"), 100, 11)
			}
			waitCount(t, r1, 11, 1000)
			waitCount(t, r2, 11, 1000)
			// A replica counts a batch just after the store has it, so the
			// counters may trail the state for a moment.
			n1, n2 := applied(t, reg1), applied(t, reg2)
			for deadline := time.Now().Add(5 * time.Second); n1+n2 < 1000 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
				n1, n2 = applied(t, reg1), applied(t, reg2)
			}
			if n1 == 0 || n2 == 0 || n1+n2 != 1000 {
				t.Errorf("replicas applied %v and %v events, want both some, 1000 in all", n1, n2)
			}
			replay, _ := e.start(t, nil, "", t.TempDir())
			waitCount(t, replay, 11, 1000)
			// Replicas apply an entity's events in another order than the stream
			// (the state keeps ids in apply order), so compare features.
			ents := make([]string, 11)
			for i := range ents {
				ents[i] = fmt.Sprint("card", i)
			}
			a, _ := r1.Lookup(context.Background(), "card", ents)
			b, _ := replay.Lookup(context.Background(), "card", ents)
			if diff := cmp.Diff(b, a, cmpopts.EquateNaNs(), cmpopts.EquateApprox(1e-9, 0)); diff != "" {
				t.Errorf("replicas vs replay (-replay +replicas):\n%s", diff)
			}
		})
	}
}

// TestLiveRestartAndReplay: events flow ingest → bus → features; a restart
// from the snapshot resumes where it stopped; a replay from the start of the
// stream into an empty store rebuilds exactly the live state. It runs on
// the embedded and the real NATS server.
func TestLiveRestartAndReplay(t *testing.T) {
	for _, bb := range buses {
		t.Run(bb.name, func(t *testing.T) { testLiveRestartAndReplay(t, bb.open(t)) })
	}
}

func testLiveRestartAndReplay(t *testing.T, b *bus.Bus) {
	e := newEnv(t, b)
	snap := t.TempDir()
	live, stop := e.start(t, nil, "", snap)
	e.send(t, "a", 300, 7)
	waitCount(t, live, 7, 300)
	stop()

	restarted, stop2 := e.start(t, nil, "", snap)
	e.send(t, "b", 200, 7)
	e.send(t, "a", 300, 7) // repeats within the duplicate window: dropped by JetStream
	waitCount(t, restarted, 7, 500)
	liveStates := states(t, restarted, 7)
	grpcAPI := viaGRPC(t, restarted)
	fv1, _ := restarted.Lookup(context.Background(), "card", []string{"card1", "nobody"})
	fv2, err := grpcAPI.Lookup(context.Background(), "card", []string{"card1", "nobody"})
	if err != nil || !cmp.Equal(fv1, fv2, cmpopts.EquateNaNs()) {
		t.Errorf("gRPC lookup = %+v, %v; want %+v", fv2, err, fv1)
	}
	stop2()

	replay, _ := e.start(t, nil, "", t.TempDir())
	waitCount(t, replay, 7, 500)
	if diff := cmp.Diff(liveStates, states(t, replay, 7)); diff != "" {
		t.Errorf("replayed state differs from live (-live +replay):\n%s", diff)
	}
}

// applied reads plinth_features_events_total{outcome="applied"} of reg.
func applied(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "plinth_features_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == "applied" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// flakyBlobs fails the first writes, as a blob store that is briefly down.
type flakyBlobs struct {
	*blob.Store
	fail atomic.Int32
}

func (f *flakyBlobs) PutKey(ctx context.Context, key string, data []byte) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("blob store down")
	}
	return f.Store.PutKey(ctx, key, data)
}

// TestRedelivery: while the offline log cannot be written, JetStream
// redelivers the events; the online store counts each event once, and the
// offline log ends up holding them.
func TestRedelivery(t *testing.T) {
	e := newEnv(t, bustest.Embedded(t))
	fb := &flakyBlobs{Store: e.blobs}
	fb.fail.Store(3)
	svc, _ := e.startWith(t, fb, nil, "", "")
	e.send(t, "x", 100, 3)
	waitCount(t, svc, 3, 100)
	deadline := time.Now().Add(15 * time.Second)
	for fb.fail.Load() >= 0 || offlineEvents(t, e.blobs) < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("offline log holds %d events, failures left %d", offlineEvents(t, e.blobs), fb.fail.Load())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	waitCount(t, svc, 3, 100)
	ts, err := svc.TrainingSet(context.Background(), "card", []features.Label{{Entity: "card0", Time: time.Now().Add(time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ts.Values[1]; got != 34 {
		t.Errorf("training set 1h count of card0 = %v, want 34 (redelivered events counted once)", got)
	}
}

// offlineEvents counts the distinct events in the offline log.
func offlineEvents(t *testing.T, blobs *blob.Store) int {
	keys, err := blobs.ListKeys(context.Background(), "offline/card/")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		data, err := blobs.GetKey(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.SplitSeq(bytes.TrimSpace(data), []byte("\n")) {
			var rec struct{ Seq uint64 }
			_ = json.Unmarshal(line, &rec)
			seen[fmt.Sprint(rec.Seq)] = true
		}
	}
	return len(seen)
}

// TestOfflineSegments: the offline log is time-partitioned: every segment
// lies under the event-time hour of each of its records, and events of
// three different hours make three partitions.
func TestOfflineSegments(t *testing.T) {
	e := newEnv(t, bustest.Embedded(t))
	e.start(t, nil, "", "")
	hour := time.Now().UTC().Truncate(time.Hour)
	var evs []string
	for i := range 6 {
		ts := hour.Add(-time.Duration(i/2) * time.Hour).Add(time.Duration(i) * time.Minute)
		evs = append(evs, fmt.Sprintf(`{"txn_id":"o%d","card_id":"card0","ts":%q,"amount":1}`, i, ts.Format(time.RFC3339Nano)))
	}
	e.ingestAll(t)(evs...)
	deadline := time.Now().Add(15 * time.Second)
	for offlineEvents(t, e.blobs) < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("offline log holds %d events, want 6", offlineEvents(t, e.blobs))
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	keys, err := e.blobs.ListKeys(context.Background(), "offline/card/")
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]bool{}
	for _, k := range keys {
		dir := path.Dir(strings.TrimPrefix(k, "offline/card/")) // yyyy-mm-dd/hh
		parts[dir] = true
		data, err := e.blobs.GetKey(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.SplitSeq(bytes.TrimSpace(data), []byte("\n")) {
			var rec struct{ T int64 }
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Fatalf("segment %s: %v", k, err)
			}
			if got := time.Unix(0, rec.T).UTC().Format("2006-01-02/15"); got != dir {
				t.Errorf("segment %s holds an event of hour %s", k, got)
			}
		}
	}
	if len(parts) != 3 {
		t.Errorf("partitions %v, want 3", parts)
	}
}

// TestRestartAfterSnapshotKeepsTheOfflineLog: the embedded store's
// snapshot holds events whose offline segment was never written (the blob
// store was down until the process stopped); after the restart the
// offline log gets them all, and the online counts stay exact.
func TestRestartAfterSnapshotKeepsTheOfflineLog(t *testing.T) {
	e := newEnv(t, bustest.Embedded(t))
	snap := t.TempDir()
	down := &flakyBlobs{Store: e.blobs}
	down.fail.Store(1 << 30)
	svc, stop := e.startWith(t, down, nil, "", snap)
	e.send(t, "s", 100, 3)
	waitCount(t, svc, 3, 100)
	stop() // snapshots the store; the offline flush fails
	if n := offlineEvents(t, e.blobs); n != 0 {
		t.Fatalf("offline log holds %d events before the restart, want 0", n)
	}
	restarted, _ := e.start(t, nil, "", snap)
	deadline := time.Now().Add(15 * time.Second)
	for offlineEvents(t, e.blobs) < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("offline log holds %d events after the restart, want 100", offlineEvents(t, e.blobs))
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	waitCount(t, restarted, 3, 100)
}
