package ingest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
)

func testEvents(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{Data: []byte(strconv.Itoa(i)), Time: time.Unix(1, int64(i)), ID: []byte{byte('a' + i)}}
	}
	return evs
}

// TestPublishEventsHeaders: every event goes out with its own data, time,
// event id and message id, out of one header map; when nothing
// acknowledges them (a core subscriber, no stream) they fail once the
// timeout passes.
func TestPublishEventsHeaders(t *testing.T) {
	b := bustest.Embedded(t)
	sub, err := b.Conn().SubscribeSync("silent.>")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for _, scope := range []string{"s", ""} {
		res := publishEvents(context.Background(), b.Publisher(), "silent.x", scope, testEvents(3), 100*time.Millisecond)
		for i, o := range res.Outcomes {
			if o != bus.Failed {
				t.Errorf("scope %q, event %d: got outcome %s, want failed", scope, i, o)
			}
		}
		for i := range 3 {
			msg, err := sub.NextMsg(time.Second)
			if err != nil {
				t.Fatal(err)
			}
			id, msgID := string(rune('a'+i)), "s/"+string(rune('a'+i))
			if scope == "" {
				id, msgID = "", ""
			}
			got := [4]string{string(msg.Data), msg.Header.Get(HeaderEventTime), msg.Header.Get(HeaderEventID), msg.Header.Get(jetstream.MsgIDHeader)}
			want := [4]string{strconv.Itoa(i), strconv.Itoa(1e9 + i), id, msgID}
			if got != want {
				t.Errorf("scope %q, event %d: got data, time, id, message id %q, want %q", scope, i, got, want)
			}
		}
	}
}
