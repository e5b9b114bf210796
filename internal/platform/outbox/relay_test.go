package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/trace"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
)

const subject = "models.fraud.version_created"

// setups pair a bus with a database: embedded NATS with SQLite, as
// `plinth serve` runs, and the external NATS with PostgreSQL, as production.
var setups = []struct {
	name string
	bus  func(testing.TB) *bus.Bus
	db   func(testing.TB) *sqlstore.DB
}{
	{"embedded+sqlite", bustest.Embedded, sqltest.SQLite},
	{"external+postgres", bustest.External, sqltest.Postgres},
}

type env struct {
	bus *bus.Bus
	db  *sqlstore.DB
}

func TestOutbox(t *testing.T) {
	suite := []struct {
		name string
		fn   func(*testing.T, env)
	}{
		{"CrashBetweenPublishAndMark", testCrashBetweenPublishAndMark},
		{"KilledRunRestarts", testKilledRunRestarts},
		{"TwoRelaysNeverDoublePublish", testTwoRelays},
		{"RolledBackNeverPublished", testRolledBack},
		{"HeadersAndTrace", testHeadersAndTrace},
		{"BusErrorsBackOffAndKeepRows", testBusErrors},
		{"NotifyWakesRun", testNotify},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					e := env{bus: s.bus(t), db: s.db(t)}
					if err := Migrate(testCtx(t), e.db); err != nil {
						t.Fatalf("migrate: %v", err)
					}
					tc.fn(t, e)
				})
			}
		})
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newRelay(t *testing.T, e env, reg prometheus.Registerer) *Relay {
	t.Helper()
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	r, err := NewRelay(e.db, e.bus, RelayConfig{PollInterval: 20 * time.Millisecond, BatchSize: 7}, nil, reg)
	if err != nil {
		t.Fatalf("new relay: %v", err)
	}
	return r
}

// enqueue commits n events, one transaction each, and returns their ids.
func enqueue(t *testing.T, e env, n int) []int64 {
	t.Helper()
	ctx := testCtx(t)
	var ids []int64
	for i := range n {
		err := e.db.InTx(ctx, func(tx *sql.Tx) error {
			id, err := Enqueue(ctx, tx, subject, fmt.Appendf(nil, "event %d", i), nil)
			ids = append(ids, id)
			return err
		})
		if err != nil {
			t.Fatalf("enqueue: %v", err)
		}
	}
	return ids
}

// drain runs PublishPending until nothing is pending.
func drain(t *testing.T, r *Relay) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for pending(t, r.db) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox not drained after 30s")
		}
		if _, err := r.PublishPending(testCtx(t)); err != nil {
			t.Fatalf("publish pending: %v", err)
		}
	}
}

func pending(t *testing.T, db *sqlstore.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(testCtx(t), "SELECT count(*) FROM outbox WHERE published_at IS NULL").Scan(&n); err != nil {
		t.Fatalf("count pending: %v", err)
	}
	return n
}

// waitFor polls cond until it holds or 30 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// streamMsgs reads every message of the MODELS stream.
func streamMsgs(t *testing.T, b *bus.Bus) []jetstream.Msg {
	t.Helper()
	ctx := testCtx(t)
	s, err := b.JetStream().Stream(ctx, b.Stream(bus.StreamModels))
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	total := int(s.CachedInfo().State.Msgs)
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	var msgs []jetstream.Msg
	for len(msgs) < total {
		batch, err := cons.Fetch(total-len(msgs), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("fetch: %v", err)
		}
	}
	return msgs
}

// assertExactlyOnce checks that the stream holds each row once, in order.
func assertExactlyOnce(t *testing.T, e env, r *Relay, ids []int64) {
	t.Helper()
	instance, err := r.instanceID(testCtx(t))
	if err != nil {
		t.Fatalf("instance id: %v", err)
	}
	var want, got []string
	for _, id := range ids {
		want = append(want, fmt.Sprintf("outbox-%s-%d", instance, id))
	}
	for _, m := range streamMsgs(t, e.bus) {
		got = append(got, m.Headers().Get(jetstream.MsgIDHeader))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("message ids in the stream (-want +got):\n%s", diff)
	}
}

var errCrash = errors.New("relay crashed")

func testCrashBetweenPublishAndMark(t *testing.T, e env) {
	ids := enqueue(t, e, 20)
	crashed := newRelay(t, e, nil)
	crashAt := ids[9]
	crashed.afterPublish = func(_ context.Context, id int64) error {
		if id == crashAt {
			return errCrash
		}
		return nil
	}
	var err error
	for err == nil {
		_, err = crashed.PublishPending(testCtx(t))
	}
	if !errors.Is(err, errCrash) {
		t.Fatalf("got %v, want the crash", err)
	}
	// The crashed row is on the bus but still unpublished in the table.
	if got, want := pending(t, e.db), 11; got != want {
		t.Fatalf("got %d pending rows after the crash, want %d", got, want)
	}
	restarted := newRelay(t, e, nil)
	drain(t, restarted)
	assertExactlyOnce(t, e, restarted, ids)
}

func testKilledRunRestarts(t *testing.T, e env) {
	ids := enqueue(t, e, 15)
	ctx, kill := context.WithCancel(testCtx(t))
	killed := newRelay(t, e, nil)
	killed.afterPublish = func(_ context.Context, id int64) error {
		if id == ids[3] {
			kill()
			return context.Canceled
		}
		return nil
	}
	if err := killed.Run(ctx); err != nil {
		t.Fatalf("killed Run: got %v, want nil", err)
	}
	if got := pending(t, e.db); got != 12 {
		t.Fatalf("got %d pending after the kill, want 12", got)
	}
	restarted := newRelay(t, e, nil)
	runCtx, stop := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- restarted.Run(runCtx) }()
	waitFor(t, "the restarted relay to drain", func() bool { return pending(t, e.db) == 0 })
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: got %v, want nil", err)
	}
	assertExactlyOnce(t, e, restarted, ids)
}

func testTwoRelays(t *testing.T, e env) {
	ids := enqueue(t, e, 40)
	reg := prometheus.NewRegistry()
	relays := []*Relay{newRelay(t, e, reg), newRelay(t, e, reg)} // one registry: collectors are shared
	ctx, stop := context.WithCancel(testCtx(t))
	var wg sync.WaitGroup
	for _, r := range relays {
		wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	waitFor(t, "two relays to drain", func() bool { return pending(t, e.db) == 0 })
	stop()
	wg.Wait()
	assertExactlyOnce(t, e, relays[0], ids)
	if got := testutil.ToFloat64(relays[0].published); got < 40 {
		t.Errorf("got plinth_outbox_published_total %v, want at least 40", got)
	}
}

func testRolledBack(t *testing.T, e env) {
	ctx := testCtx(t)
	rollback := errors.New("rollback")
	err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := Enqueue(ctx, tx, subject, []byte("ghost"), nil); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("got %v, want the rollback", err)
	}
	ids := enqueue(t, e, 1)
	r := newRelay(t, e, nil)
	drain(t, r)
	assertExactlyOnce(t, e, r, ids)
	if got := string(streamMsgs(t, e.bus)[0].Data()); got != "event 0" {
		t.Errorf("got payload %q, want %q", got, "event 0")
	}
}

func testHeadersAndTrace(t *testing.T, e env) {
	ctx := testCtx(t)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0xa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		SpanID:     trace.SpanID{0xb, 1, 2, 3, 4, 5, 6, 7},
		TraceFlags: trace.FlagsSampled,
	})
	hdr := map[string]string{"Plinth-Model": "fraud"}
	err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := Enqueue(trace.ContextWithSpanContext(ctx, sc), tx, subject, []byte("x"), hdr)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if len(hdr) != 1 {
		t.Errorf("Enqueue changed the caller's headers: %v", hdr)
	}
	drain(t, newRelay(t, e, nil))
	msg := streamMsgs(t, e.bus)[0]
	if got := msg.Headers().Get("Plinth-Model"); got != "fraud" {
		t.Errorf("got Plinth-Model %q, want %q", got, "fraud")
	}
	got := trace.SpanContextFromContext(bus.ExtractContext(ctx, msg))
	if got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() {
		t.Errorf("got trace %v span %v, want %v %v", got.TraceID(), got.SpanID(), sc.TraceID(), sc.SpanID())
	}
	if got := msg.Subject(); got != e.bus.Subject(subject) {
		t.Errorf("got subject %q, want %q", got, e.bus.Subject(subject))
	}
}

// flakyPublisher fails its first calls, as a bus that is down would.
type flakyPublisher struct {
	Publisher
	mu       sync.Mutex
	failures int
}

func (p *flakyPublisher) Publish(ctx context.Context, subject string, data []byte, msgID string, hdr nats.Header) (*jetstream.PubAck, error) {
	p.mu.Lock()
	fail := p.failures > 0
	if fail {
		p.failures--
	}
	p.mu.Unlock()
	if fail {
		return nil, nats.ErrNoResponders
	}
	return p.Publisher.Publish(ctx, subject, data, msgID, hdr)
}

func testBusErrors(t *testing.T, e env) {
	ids := enqueue(t, e, 3)
	pub := &flakyPublisher{Publisher: e.bus, failures: 3}
	r, err := NewRelay(e.db, pub, RelayConfig{PollInterval: 5 * time.Millisecond}, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("new relay: %v", err)
	}
	ctx, stop := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	waitFor(t, "the relay to recover", func() bool { return pending(t, e.db) == 0 })
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	assertExactlyOnce(t, e, r, ids)
	metrics := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"publish errors", r.errors, 3},
		{"published", r.published, 3},
		{"pending", r.pending, 0},
	}
	for _, m := range metrics {
		if got := testutil.ToFloat64(m.c); got != m.want {
			t.Errorf("%s: got %v, want %v", m.name, got, m.want)
		}
	}
}

func testNotify(t *testing.T, e env) {
	// A poll interval longer than the test: only Notify can wake the relay.
	r, err := NewRelay(e.db, e.bus, RelayConfig{PollInterval: time.Hour}, nil, nil)
	if err != nil {
		t.Fatalf("new relay: %v", err)
	}
	ctx, stop := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	ids := enqueue(t, e, 2)
	r.Notify()
	r.Notify() // merged, never blocks
	waitFor(t, "Notify to wake the relay", func() bool { return pending(t, e.db) == 0 })
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	assertExactlyOnce(t, e, r, ids)
}

func TestEnqueueRejectsBadSubjects(t *testing.T) {
	db := sqltest.SQLite(t)
	if err := Migrate(testCtx(t), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for _, s := range []string{"", "models..x", "models.*", "models.>", "a b", ".models", "models."} {
		err := db.InTx(testCtx(t), func(tx *sql.Tx) error {
			_, err := Enqueue(testCtx(t), tx, s, nil, nil)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "outbox subject") {
			t.Errorf("Enqueue(%q): got %v, want a subject error", s, err)
		}
	}
}

func TestMigrateIdempotent(t *testing.T) {
	db := sqltest.SQLite(t)
	for i := range 2 {
		if err := Migrate(testCtx(t), db); err != nil {
			t.Fatalf("migrate %d: %v", i, err)
		}
	}
}

func TestRelayConfig(t *testing.T) {
	tests := []struct {
		cfg     RelayConfig
		wantErr bool
	}{
		{RelayConfig{}, false},
		{RelayConfig{PollInterval: time.Second, BatchSize: 10}, false},
		{RelayConfig{PollInterval: -1}, true},
		{RelayConfig{BatchSize: -1}, true},
		{RelayConfig{BatchSize: maxBatchSize + 1}, true},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err != nil) != tt.wantErr {
			t.Errorf("Validate(%+v): got %v, want error %v", tt.cfg, err, tt.wantErr)
		}
	}
	if got, want := (RelayConfig{}).withDefaults(), (RelayConfig{PollInterval: DefaultPollInterval, BatchSize: DefaultBatchSize}); got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
}
