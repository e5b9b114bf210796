package bus_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
)

// backends opens the same behaviour suite on every kind of bus.
var backends = []struct {
	name string
	open func(testing.TB) *bus.Bus
}{
	{"embedded", bustest.Embedded},
	{"external", bustest.External},
}

func TestBus(t *testing.T) {
	suite := []struct {
		name string
		fn   func(*testing.T, *bus.Bus)
	}{
		{"Streams", testStreams},
		{"EnsureStreamsIdempotent", testEnsureStreamsIdempotent},
		{"PublishDedup", testPublishDedup},
		{"PublishBatch", testPublishBatch},
		{"TracePropagation", testTracePropagation},
		{"Ready", testReady},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, be.open(t)) })
			}
		})
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type streamShape struct {
	Subjects   []string
	Retention  jetstream.RetentionPolicy
	Storage    jetstream.StorageType
	Duplicates time.Duration
	MaxAge     time.Duration
}

func testStreams(t *testing.T, b *bus.Bus) {
	ctx := testCtx(t)
	want := map[string]streamShape{
		"EVENTS":      {[]string{b.Subject("events.>")}, jetstream.LimitsPolicy, jetstream.FileStorage, 2 * time.Minute, 0},
		"FEEDBACK":    {[]string{b.Subject("feedback.>")}, jetstream.LimitsPolicy, jetstream.FileStorage, 2 * time.Minute, 0},
		"PREDICTIONS": {[]string{b.Subject("predictions.>")}, jetstream.LimitsPolicy, jetstream.FileStorage, 2 * time.Minute, 7 * 24 * time.Hour},
		"MODELS":      {[]string{b.Subject("models.>")}, jetstream.LimitsPolicy, jetstream.FileStorage, 24 * time.Hour, 0},
		"JOBS":        {[]string{b.Subject("jobs.>")}, jetstream.WorkQueuePolicy, jetstream.FileStorage, 2 * time.Minute, 0},
	}
	for name, w := range want {
		s, err := b.JetStream().Stream(ctx, b.Stream(name))
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		c := s.CachedInfo().Config
		got := streamShape{c.Subjects, c.Retention, c.Storage, c.Duplicates, c.MaxAge}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("stream %s (-want +got):\n%s", name, diff)
		}
	}
}

func testEnsureStreamsIdempotent(t *testing.T, b *bus.Bus) {
	ctx := testCtx(t)
	if _, err := b.Publish(ctx, "feedback.m", []byte("x"), "", nil); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatalf("second EnsureStreams: %v", err)
	}
	s, err := b.JetStream().Stream(ctx, b.Stream("FEEDBACK"))
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if got := s.CachedInfo().State.Msgs; got != 1 {
		t.Errorf("got %d messages after EnsureStreams, want 1 (kept)", got)
	}
}

func testPublishDedup(t *testing.T, b *bus.Bus) {
	ctx := testCtx(t)
	first, err := b.Publish(ctx, "models.fraud.version_created", []byte("v1"), "id-1", nil)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	second, err := b.Publish(ctx, "models.fraud.version_created", []byte("v1"), "id-1", nil)
	if err != nil {
		t.Fatalf("republish: %v", err)
	}
	if first.Stream != b.Stream("MODELS") || first.Duplicate {
		t.Errorf("first ack: got stream %q duplicate %v, want %q false", first.Stream, first.Duplicate, b.Stream("MODELS"))
	}
	if !second.Duplicate || second.Sequence != first.Sequence {
		t.Errorf("second ack: got duplicate %v seq %d, want true %d", second.Duplicate, second.Sequence, first.Sequence)
	}
	third, err := b.Publish(ctx, "models.fraud.version_created", []byte("v1"), "", nil)
	if err != nil {
		t.Fatalf("publish without id: %v", err)
	}
	if third.Duplicate {
		t.Errorf("publish without id: got duplicate, want a new message")
	}
}

func testPublishBatch(t *testing.T, b *bus.Bus) {
	ctx := testCtx(t)
	var msgs []bus.Message
	for i := range 300 {
		msgs = append(msgs, bus.Message{Subject: "predictions.m", Data: []byte(strconv.Itoa(i)), MsgID: "p-" + strconv.Itoa(i%250)})
	}
	// The last 50 repeat message ids: acknowledged as duplicates, not stored.
	if n, err := b.PublishBatch(ctx, msgs); n != 300 || err != nil {
		t.Fatalf("PublishBatch: %d persisted, %v; want 300, nil", n, err)
	}
	s, err := b.JetStream().Stream(ctx, b.Stream("PREDICTIONS"))
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if info.State.Msgs != 250 {
		t.Errorf("stream holds %d messages, want 250", info.State.Msgs)
	}
	for _, seq := range []uint64{1, 250} {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		if want := strconv.Itoa(int(seq) - 1); string(m.Data) != want || m.Header.Get(jetstream.MsgIDHeader) != "p-"+want {
			t.Errorf("message %d: data %q id %q, want %q p-%s", seq, m.Data, m.Header.Get(jetstream.MsgIDHeader), want, want)
		}
	}

	// A subject no stream takes fails on its own; the rest are persisted.
	n, err := b.PublishBatch(ctx, []bus.Message{{Subject: "predictions.m", Data: []byte("a")}, {Subject: "nostream.m", Data: []byte("b")}, {Subject: "feedback.m", Data: []byte("c")}})
	if n != 2 || err == nil || !strings.Contains(err.Error(), "nostream.m") {
		t.Errorf("batch with a subject no stream takes: %d persisted, %v; want 2 and an error naming it", n, err)
	}

	// A done context stops the wait.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if n, err := b.PublishBatch(done, []bus.Message{{Subject: "nostream.m", Data: []byte("d")}}); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("with a done context: %d persisted, %v; want 0 and context.Canceled", n, err)
	}
}

func testTracePropagation(t *testing.T, b *bus.Bus) {
	ctx := testCtx(t)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	})
	hdr := nats.Header{"X-Key": []string{"v"}}
	if _, err := b.Publish(trace.ContextWithSpanContext(ctx, sc), "events.card", []byte("e"), "", hdr); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if diff := cmp.Diff(nats.Header{"X-Key": []string{"v"}}, hdr); diff != "" {
		t.Errorf("caller's header changed (-want +got):\n%s", diff)
	}
	msg := nextMsg(t, b, "EVENTS")
	if got := msg.Headers().Get("X-Key"); got != "v" {
		t.Errorf("got X-Key %q, want %q", got, "v")
	}
	if got := msg.Headers().Get("traceparent"); !strings.HasPrefix(got, "00-0102") {
		t.Errorf("got traceparent %q, want a W3C header with the trace id", got)
	}
	got := trace.SpanContextFromContext(bus.ExtractContext(context.Background(), msg))
	if got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() || !got.IsRemote() {
		t.Errorf("got span context %v/%v remote %v, want %v/%v remote", got.TraceID(), got.SpanID(), got.IsRemote(), sc.TraceID(), sc.SpanID())
	}
}

func testReady(t *testing.T, b *bus.Bus) {
	if err := b.Ready(testCtx(t)); err != nil {
		t.Errorf("got Ready %v, want nil", err)
	}
}

// nextMsg fetches the first message of stream through a fresh consumer.
func nextMsg(t *testing.T, b *bus.Bus, stream string) jetstream.Msg {
	t.Helper()
	ctx := testCtx(t)
	cons, err := b.JetStream().CreateConsumer(ctx, b.Stream(stream), jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("consumer on %s: %v", stream, err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatalf("next message on %s: %v", stream, err)
	}
	return msg
}

func TestPrefixNames(t *testing.T) {
	tests := []struct {
		prefix, stream, subject string
	}{
		{"", "MODELS", "models.fraud.created"},
		{"t1", "t1_MODELS", "t1.models.fraud.created"},
	}
	for _, tt := range tests {
		b, err := bus.Open(context.Background(), bus.Config{StreamPrefix: tt.prefix}, t.TempDir(), nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if got := b.Stream("MODELS"); got != tt.stream {
			t.Errorf("prefix %q: got stream %q, want %q", tt.prefix, got, tt.stream)
		}
		if got := b.Subject("models.fraud.created"); got != tt.subject {
			t.Errorf("prefix %q: got subject %q, want %q", tt.prefix, got, tt.subject)
		}
		if got := b.ClientURL(); got != "" {
			t.Errorf("got ClientURL %q without listener, want empty", got)
		}
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

func TestEmbeddedListener(t *testing.T) {
	ctx := testCtx(t)
	server, err := bus.Open(ctx, bus.Config{Listen: "127.0.0.1:0", StreamPrefix: "p"}, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open embedded: %v", err)
	}
	defer server.Close()
	url := server.ClientURL()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(url, "nats://"))
	if err != nil || port == "0" || port == "4222" {
		t.Fatalf("got ClientURL %q, want nats://127.0.0.1:<free port>", url)
	}
	if err := server.EnsureStreams(ctx); err != nil {
		t.Fatalf("ensure streams: %v", err)
	}
	client, err := bus.Open(ctx, bus.Config{URL: url, StreamPrefix: "p"}, "", nil)
	if err != nil {
		t.Fatalf("connect over TCP: %v", err)
	}
	defer client.Close()
	if got := client.ClientURL(); got != url {
		t.Errorf("got external ClientURL %q, want %q", got, url)
	}
	if _, err := client.Publish(ctx, "jobs.train.fraud", []byte("j"), "", nil); err != nil {
		t.Fatalf("publish over TCP: %v", err)
	}
	if got := nextMsg(t, server, "JOBS").Subject(); got != "p.jobs.train.fraud" {
		t.Errorf("got subject %q, want %q", got, "p.jobs.train.fraud")
	}
}

func TestEmbeddedPersists(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	for i := range 2 {
		b, err := bus.Open(ctx, bus.Config{SyncAlways: true}, dir, nil)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := b.EnsureStreams(ctx); err != nil {
			t.Fatalf("ensure streams %d: %v", i, err)
		}
		if i == 0 {
			if _, err := b.Publish(ctx, "predictions.fraud", []byte("p"), "", nil); err != nil {
				t.Fatalf("publish: %v", err)
			}
		} else {
			s, err := b.JetStream().Stream(ctx, "PREDICTIONS")
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			if got := s.CachedInfo().State.Msgs; got != 1 {
				t.Errorf("got %d messages after restart, want 1", got)
			}
		}
		if err := b.Close(); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
}

func TestClose(t *testing.T) {
	b, err := bus.Open(context.Background(), bus.Config{}, t.TempDir(), nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second close: got %v, want nil", err)
	}
	if err := b.Ready(context.Background()); err == nil {
		t.Errorf("Ready after Close: got nil, want an error")
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     bus.Config
		dataDir string
	}{
		{"invalid config", bus.Config{URL: "http://x"}, "d"},
		{"embedded without data dir", bus.Config{}, ""},
		{"unreachable server", bus.Config{URL: "nats://127.0.0.1:1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := bus.Open(context.Background(), tt.cfg, tt.dataDir, nil); err == nil {
				b.Close()
				t.Fatalf("got nil error, want one")
			}
		})
	}
}
