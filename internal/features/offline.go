package features

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/features/view"
)

// record is one event in the offline log.
type record struct {
	Seq     uint64          `json:"seq"`
	ID      string          `json:"id,omitempty"`
	Time    int64           `json:"t"`       // event time, Unix ns
	Arrived int64           `json:"arrived"` // applied to the online store, service clock, Unix ns
	Data    json.RawMessage `json:"data"`
}

func (r *record) row(v *view.View) (view.Row, error) {
	return v.Extract(r.Data, time.Unix(0, r.Time), r.Seq, r.ID)
}

// offlinePrefix is where a view's segments live.
func offlinePrefix(viewName string) string { return "offline/" + viewName + "/" }

// partition is the event-time hour of a record: "2026-03-01/12".
func partition(t int64) string { return time.Unix(0, t).UTC().Format("2006-01-02/15") }

func writerID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// offlineLog buffers one view's records by partition, and the messages to
// acknowledge once they are written. It runs on its own goroutine (run),
// fed by the view's consumer through in, so that encoding and writing
// segments never delays the online store: a record is visible online as
// soon as it is applied, and acknowledged once its segment is written.
// When the writer falls behind, in fills and the consumer waits; the
// consumer's MaxAckPending bounds what waits unacknowledged.
type offlineLog struct {
	s     *Service
	v     *view.View
	in    chan offlineBatch
	parts map[string]*bytes.Buffer
	first map[string]uint64
	last  map[string]uint64
	acks  []jetstream.Msg
}

// offlineBatch is what one applied batch hands to the offline log; the
// consumer does not touch its slices again.
type offlineBatch struct {
	recs []record
	msgs []jetstream.Msg
}

// offlineQueue is how many applied batches may wait for the offline writer.
const offlineQueue = 64

func newOfflineLog(s *Service, v *view.View) *offlineLog {
	return &offlineLog{s: s, v: v, in: make(chan offlineBatch, offlineQueue),
		parts: map[string]*bytes.Buffer{}, first: map[string]uint64{}, last: map[string]uint64{}}
}

// run writes segments until in is closed, every OfflineFlush and whenever
// OfflineFlushEvents wait, then writes what is left. Writes use ctx
// without its cancellation: what was applied is written (and acknowledged)
// even while the service stops.
func (o *offlineLog) run(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	tick := time.NewTicker(o.s.cfg.OfflineFlush)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			o.flush(ctx)
		case b, ok := <-o.in:
			if !ok {
				o.flush(ctx)
				return
			}
			o.add(b.recs, b.msgs)
			if len(o.acks) >= o.s.cfg.OfflineFlushEvents {
				o.flush(ctx)
			}
		}
	}
}

// add buffers records; msgs are acknowledged after the next flush.
func (o *offlineLog) add(recs []record, msgs []jetstream.Msg) {
	for i := range recs {
		p := partition(recs[i].Time)
		buf := o.parts[p]
		if buf == nil {
			buf = &bytes.Buffer{}
			o.parts[p], o.first[p] = buf, recs[i].Seq
		}
		line, _ := json.Marshal(&recs[i])
		buf.Write(line)
		buf.WriteByte('\n')
		o.last[p] = max(o.last[p], recs[i].Seq)
		o.first[p] = min(o.first[p], recs[i].Seq)
	}
	o.acks = append(o.acks, msgs...)
}

// flush writes one segment per partition, then acknowledges the messages;
// on failure it asks for their redelivery instead (the online store
// ignores them the second time, the offline log gets them again).
func (o *offlineLog) flush(ctx context.Context) {
	if len(o.acks) == 0 {
		return
	}
	var failed error
	for _, p := range slices.Sorted(maps.Keys(o.parts)) {
		key := fmt.Sprintf("%s%s/%020d-%020d-%s.ndjson", offlinePrefix(o.v.Name), p, o.first[p], o.last[p], o.s.writer)
		if err := o.s.deps.Blobs.PutKey(ctx, key, o.parts[p].Bytes()); err != nil {
			failed = err
			break
		}
	}
	for _, m := range o.acks {
		if failed != nil {
			_ = m.NakWithDelay(time.Second)
		} else {
			_ = m.Ack()
		}
	}
	if failed != nil {
		o.s.metrics.offlineErr.Inc()
		o.s.logger.Warn("write offline log; asking for redelivery", "view", o.v.Name, "events", len(o.acks), "err", failed)
	}
	clear(o.parts)
	clear(o.first)
	clear(o.last)
	o.acks = o.acks[:0]
}
