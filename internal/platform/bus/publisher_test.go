package bus_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/platform/bus"
)

func TestPublisher(t *testing.T) {
	suite := []struct {
		name string
		fn   func(*testing.T, *bus.Bus)
	}{
		{"StoredAndDuplicate", testPublisherStored},
		{"NoResponders", testPublisherNoResponders},
		{"Timeout", testPublisherTimeout},
		{"ContextDoneBefore", testPublisherContextDoneBefore},
		{"ContextDoneWaiting", testPublisherContextDoneWaiting},
		{"Reconnect", testPublisherReconnect},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, be.open(t)) })
			}
		})
	}
}

// testMsg is one message to publish: subject without the bus's prefix, and
// the message id ("" for none).
type testMsg struct{ subject, data, id string }

// publish publishes msgs through b's publisher, with a header map per
// message to show that fill may hand over any header.
func publish(ctx context.Context, b *bus.Bus, timeout time.Duration, msgs []testMsg) bus.BatchResult {
	return b.Publisher().Publish(ctx, len(msgs), timeout, func(i int, m *nats.Msg) {
		m.Subject, m.Data, m.Header = b.Subject(msgs[i].subject), []byte(msgs[i].data), nats.Header{"X-Index": {strconv.Itoa(i)}}
		if msgs[i].id != "" {
			m.Header.Set(jetstream.MsgIDHeader, msgs[i].id)
		}
	})
}

func outcomes(n int, o bus.Outcome) []bus.Outcome {
	out := make([]bus.Outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

// testPublisherStored: 120 messages (reply subjects of one to three
// digits), the last 20 repeating ids of the first 20, are stored or
// duplicate by index; a second batch of known ids is all duplicate.
func testPublisherStored(t *testing.T, b *bus.Bus) {
	ctx := testCtx(t)
	var msgs []testMsg
	for i := range 120 {
		msgs = append(msgs, testMsg{"predictions.p", strconv.Itoa(i), "id-" + strconv.Itoa(i%100)})
	}
	res := publish(ctx, b, 10*time.Second, msgs)
	want := bus.BatchResult{Outcomes: append(outcomes(100, bus.Stored), outcomes(20, bus.Duplicate)...), Persisted: 120, ErrIndex: -1}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("result (-want +got):\n%s", diff)
	}
	s, err := b.JetStream().Stream(ctx, b.Stream(bus.StreamPredictions))
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{1, 100} {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		i := strconv.Itoa(int(seq) - 1)
		if string(m.Data) != i || m.Header.Get("X-Index") != i || m.Header.Get(jetstream.MsgIDHeader) != "id-"+i {
			t.Errorf("message %d: data %q headers %v, want %s with X-Index %s and id id-%s", seq, m.Data, m.Header, i, i, i)
		}
	}
	res = publish(ctx, b, 10*time.Second, msgs[:3])
	if diff := cmp.Diff(bus.BatchResult{Outcomes: outcomes(3, bus.Duplicate), Persisted: 3, ErrIndex: -1}, res); diff != "" {
		t.Errorf("republished ids: result (-want +got):\n%s", diff)
	}
}

// testPublisherNoResponders: a subject no stream takes fails at once on
// its own; the rest are stored.
func testPublisherNoResponders(t *testing.T, b *bus.Bus) {
	res := publish(testCtx(t), b, 10*time.Second, []testMsg{{"feedback.m", "a", ""}, {"nostream.m", "b", ""}, {"feedback.m", "c", ""}})
	if diff := cmp.Diff([]bus.Outcome{bus.Stored, bus.Failed, bus.Stored}, res.Outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if res.Persisted != 2 || res.ErrIndex != 1 || res.Err == nil || !strings.Contains(res.Err.Error(), "no stream answered (status 503)") {
		t.Errorf("got %d persisted, error %v at %d; want 2, no stream answered (status 503) at 1", res.Persisted, res.Err, res.ErrIndex)
	}
}

// silent subscribes to silent.> on b's connection, so that publishes
// there reach a subscriber (no "no responders" status) but no stream:
// nothing acknowledges them. onMsg, when not nil, runs for each.
func silent(t *testing.T, b *bus.Bus, onMsg func(*nats.Msg)) chan *nats.Msg {
	ch := make(chan *nats.Msg, 64)
	sub, err := b.Conn().Subscribe(b.Subject("silent.>"), func(m *nats.Msg) {
		ch <- m
		if onMsg != nil {
			onMsg(m)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return ch
}

func silentMsgs(n int) []testMsg {
	msgs := make([]testMsg, n)
	for i := range msgs {
		msgs[i] = testMsg{"silent.x", strconv.Itoa(i), "s-" + strconv.Itoa(i)}
	}
	return msgs
}

// checkAllFailed checks that every outcome is Failed, with an error at
// index 0 that errors.Is target or, when target is nil, says text.
func checkAllFailed(t *testing.T, res bus.BatchResult, n int, target error, text string) {
	t.Helper()
	if diff := cmp.Diff(outcomes(n, bus.Failed), res.Outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if res.Persisted != 0 || res.ErrIndex != 0 || res.Err == nil ||
		(target != nil && !errors.Is(res.Err, target)) || !strings.Contains(res.Err.Error(), text) {
		t.Errorf("got %d persisted, error %v at %d; want 0, an error (%v, %q) at 0", res.Persisted, res.Err, res.ErrIndex, target, text)
	}
}

// testPublisherTimeout: what nothing acknowledges fails once the timeout
// passes, and the publisher forgets the batch. The messages went out with
// their reply subjects <inbox>.<batch>.<index>.
func testPublisherTimeout(t *testing.T, b *bus.Bus) {
	got := silent(t, b, nil)
	start := time.Now()
	res := publish(testCtx(t), b, 200*time.Millisecond, silentMsgs(3))
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("returned after %s, before the timeout", took)
	}
	checkAllFailed(t, res, 3, nil, "no acknowledgement within 200ms")
	if n := bus.PendingBatches(b.Publisher()); n != 0 {
		t.Errorf("%d batches still registered, want 0", n)
	}
	var batch string
	for i := range 3 {
		m := <-got
		parts := strings.Split(m.Reply, ".")
		head, index := parts[len(parts)-2], parts[len(parts)-1]
		if i == 0 {
			batch = head
		}
		if string(m.Data) != strconv.Itoa(i) || index != strconv.Itoa(i) || head != batch || m.Header.Get(jetstream.MsgIDHeader) != "s-"+strconv.Itoa(i) {
			t.Errorf("message %d: data %q reply %q id %q, want %d, <inbox>.%s.%d, s-%d", i, m.Data, m.Reply, m.Header.Get(jetstream.MsgIDHeader), i, batch, i, i)
		}
	}
}

// testPublisherContextDoneBefore: a context done already publishes
// nothing.
func testPublisherContextDoneBefore(t *testing.T, b *bus.Bus) {
	got := silent(t, b, nil)
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	checkAllFailed(t, publish(ctx, b, time.Minute, silentMsgs(2)), 2, context.Canceled, "context canceled")
	// A round trip: a published message would be delivered before the
	// answer to it.
	if err := b.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	if n := len(got); n != 0 {
		t.Errorf("%d messages published, want 0", n)
	}
}

// testPublisherContextDoneWaiting: a context done while waiting ends the
// wait at once.
func testPublisherContextDoneWaiting(t *testing.T, b *bus.Bus) {
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	silent(t, b, func(*nats.Msg) { cancel() })
	start := time.Now()
	checkAllFailed(t, publish(ctx, b, time.Minute, silentMsgs(3)), 3, context.Canceled, "context canceled")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("returned after %s, want at once", took)
	}
}

// testPublisherReconnect: a reconnection fails every message still
// waiting at once, rather than at the timeout.
func testPublisherReconnect(t *testing.T, b *bus.Bus) {
	var once sync.Once
	silent(t, b, func(*nats.Msg) {
		once.Do(func() {
			if err := b.Conn().ForceReconnect(); err != nil {
				t.Errorf("force reconnect: %v", err)
			}
		})
	})
	start := time.Now()
	checkAllFailed(t, publish(testCtx(t), b, time.Minute, silentMsgs(3)), 3, nil, "connection to NATS lost")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("returned after %s, want at once", took)
	}
	// The publisher works again once reconnected.
	deadline := time.Now().Add(10 * time.Second)
	for b.Conn().Status() != nats.CONNECTED && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	res := publish(testCtx(t), b, 10*time.Second, []testMsg{{"feedback.m", "after", ""}})
	if res.Persisted != 1 || res.Err != nil {
		t.Errorf("after the reconnection: %d persisted, %v; want 1, nil", res.Persisted, res.Err)
	}
}

// TestPublisherClosed: once the bus is closed, a batch fails at once.
func TestPublisherClosed(t *testing.T) {
	b, err := bus.Open(testCtx(t), bus.Config{}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := b.Publisher()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	res := pub.Publish(testCtx(t), 2, time.Minute, func(int, *nats.Msg) { t.Error("fill called after Close") })
	checkAllFailed(t, res, 2, nil, "closed")
}
