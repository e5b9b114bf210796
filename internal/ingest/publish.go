package ingest

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/platform/bus"
)

// publishEvents publishes evs to subject through pub, each with its time
// header, its id and message id headers when idScope is not empty (the
// message id is "<idScope>/<id>", so JetStream drops a repeat within its
// duplicate window), and the trace context of ctx. It waits as
// bus.Publisher.Publish does and returns every event's outcome. The
// headers of all the events share one map and their values one
// allocation.
func publishEvents(ctx context.Context, pub *bus.Publisher, subject, idScope string, evs []Event, timeout time.Duration) bus.BatchResult {
	strs, offs := eventStrings(idScope, evs)
	hdr := nats.Header{HeaderEventTime: {""}}
	bus.InjectContext(ctx, hdr)
	timeHdr := hdr[HeaderEventTime]
	var idHdr, msgIDHdr []string
	if idScope != "" {
		idHdr, msgIDHdr = []string{""}, []string{""}
		hdr[HeaderEventID], hdr[jetstream.MsgIDHeader] = idHdr, msgIDHdr
	}
	return pub.Publish(ctx, len(evs), timeout, func(i int, m *nats.Msg) {
		o := offs[3*i : 3*i+4]
		m.Subject, m.Data, m.Header, timeHdr[0] = subject, evs[i].Data, hdr, strs[o[0]:o[1]]
		if idHdr != nil {
			idHdr[0], msgIDHdr[0] = strs[o[2]:o[3]], strs[o[1]:o[3]]
		}
	})
}

// eventStrings builds the event-time header and message id of every
// event into one string; event i's pieces are strs[offs[3i]:offs[3i+1]]
// and strs[offs[3i+1]:offs[3i+3]] (the message id is "<idScope>/<id>",
// and offs[3i+2] is where its id starts). idScope is "" for events
// without ids.
func eventStrings(idScope string, evs []Event) (string, []int) {
	var sb strings.Builder
	size := 0
	for i := range evs {
		size += 20 + len(idScope) + 1 + len(evs[i].ID)
	}
	sb.Grow(size)
	offs := make([]int, 0, 3*len(evs)+1)
	var num [20]byte
	for i := range evs {
		offs = append(offs, sb.Len())
		sb.Write(strconv.AppendInt(num[:0], evs[i].Time.UnixNano(), 10))
		offs = append(offs, sb.Len())
		if idScope != "" {
			sb.WriteString(idScope)
			sb.WriteByte('/')
		}
		offs = append(offs, sb.Len())
		sb.Write(evs[i].ID)
	}
	offs = append(offs, sb.Len())
	// String does not copy: the pieces share the builder's one allocation.
	return sb.String(), offs
}
