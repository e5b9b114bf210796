package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plinthai/plinth/internal/platform/bus/bustest"
)

func TestParseAck(t *testing.T) {
	tests := []struct {
		name string
		msg  *nats.Msg
		want outcome
	}{
		{"stored", &nats.Msg{Data: []byte(`{"stream":"EVENTS","seq":12}`)}, stored},
		{"stored in a domain", &nats.Msg{Data: []byte(`{"stream":"EVENTS","domain":"hub","seq":12}`)}, stored},
		{"duplicate", &nats.Msg{Data: []byte(`{"stream":"EVENTS","seq":12,"duplicate":true}`)}, duplicate},
		{"not a duplicate", &nats.Msg{Data: []byte(`{"stream":"EVENTS","seq":12,"duplicate":false}`)}, stored},
		{"error", &nats.Msg{Data: []byte(`{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"EVENTS"}`)}, failed},
		{"null error", &nats.Msg{Data: []byte(`{"error":null,"stream":"EVENTS","seq":1}`)}, stored},
		{"no stream", &nats.Msg{Data: []byte(`{"seq":12}`)}, failed},
		{"empty stream", &nats.Msg{Data: []byte(`{"stream":"","seq":12}`)}, failed},
		{"malformed", &nats.Msg{Data: []byte(`{"stream":"EVENTS"`)}, failed},
		{"no responders", &nats.Msg{Header: nats.Header{"Status": {"503"}}}, failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := parseAck(tt.msg)
			if got != tt.want {
				t.Errorf("got %d (%q), want %d", got, reason, tt.want)
			}
			if (got == failed) != (reason != "") {
				t.Errorf("outcome %d with reason %q: want a reason exactly when failed", got, reason)
			}
		})
	}
}

func TestParseReply(t *testing.T) {
	tests := []struct {
		in    string
		batch uint64
		index int
		ok    bool
	}{
		{"7.0", 7, 0, true},
		{"18446744073709551615.999", 18446744073709551615, 999, true},
		{"7", 0, 0, false},
		{"7.", 0, 0, false},
		{".3", 0, 0, false},
		{"7.-1", 0, 0, false},
		{"x.1", 0, 0, false},
		{"7.1.2", 0, 0, false},
	}
	for _, tt := range tests {
		b, i, ok := parseReply(tt.in)
		if ok != tt.ok || (ok && (b != tt.batch || i != tt.index)) {
			t.Errorf("parseReply(%q) = %d, %d, %v; want %d, %d, %v", tt.in, b, i, ok, tt.batch, tt.index, tt.ok)
		}
	}
}

func testEvents(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{Data: []byte(`{}`), Time: time.Unix(1, 0), ID: []byte{byte('a' + i)}}
	}
	return evs
}

// TestPublishTimeout: when something listens on the subject but nothing
// acknowledges (a core subscriber, no stream), the events are failed once
// the timeout passes, and the publisher forgets the batch.
func TestPublishTimeout(t *testing.T) {
	b := bustest.Embedded(t)
	sub, err := b.Conn().SubscribeSync("silent.>")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	p, err := newPublisher(b.Conn())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	start := time.Now()
	got, _ := p.publish(context.Background(), "silent.x", "s", testEvents(3), 200*time.Millisecond)
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("returned after %s, before the timeout", took)
	}
	for i, o := range got {
		if o != failed {
			t.Errorf("event %d: got outcome %d, want failed", i, o)
		}
	}
	msg, err := sub.NextMsg(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if id, want := msg.Header.Get("Nats-Msg-Id"), "s/a"; id != want {
		t.Errorf("message id %q, want %q", id, want)
	}
	if id := msg.Header.Get(HeaderEventID); id != "a" {
		t.Errorf("event id %q, want %q", id, "a")
	}
	if ts := msg.Header.Get(HeaderEventTime); ts != "1000000000" {
		t.Errorf("event time %q, want 1000000000", ts)
	}
	if n := len(p.batches); n != 0 {
		t.Errorf("%d batches still registered", n)
	}
}

// TestFailAll: a reconnection fails every event still waiting at once.
func TestFailAll(t *testing.T) {
	p := &publisher{batches: map[uint64]*pubBatch{}}
	id, b := p.register(2)
	p.mu.Lock()
	b.set(0, stored)
	p.mu.Unlock()
	p.failAll()
	select {
	case <-b.done:
	default:
		t.Fatal("batch not done after failAll")
	}
	got, _ := p.wait(context.Background(), id, b, time.Hour)
	if got[0] != stored || got[1] != failed {
		t.Errorf("outcomes %v, want [stored failed]", got)
	}
}
