package trainer

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/wire"
)

// feedbackBatch bounds the labels of one fetch.
const feedbackBatch = 1000

// FeedbackLabels reads labels from the FEEDBACK stream with an ordered
// consumer filtered by model. It implements Labels.
type FeedbackLabels struct {
	Bus *bus.Bus
	// FetchWait bounds one fetch; the read ends at the stream's end.
	FetchWait time.Duration
}

// Labels implements Labels: every feedback of the model whose event time
// (or arrival time, when it names none) is in [from, to), in stream order.
// A zero from or to leaves that end open, so a job without a range trains
// on every label the stream holds. It starts at stream time from (labels
// arrive after their events) and reads to the end of the stream, since
// late labels of the range may come after to.
func (f FeedbackLabels) Labels(ctx context.Context, model string, from, to time.Time) ([]LabelRow, error) {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{f.Bus.Subject(wire.FeedbackSubject(model))},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	// Stream time is the wall clock: a from ahead of it (a replay in
	// accelerated time) would skip every message, so read them all.
	if !from.IsZero() && from.Before(time.Now()) {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &from
	}
	cons, err := f.Bus.JetStream().OrderedConsumer(ctx, f.Bus.Stream(bus.StreamFeedback), cfg)
	if err != nil {
		return nil, fmt.Errorf("read FEEDBACK of %q: %w", model, err)
	}
	wait := f.FetchWait
	if wait <= 0 {
		wait = time.Second
	}
	var out []LabelRow
	// The first fetch asks for one label, to learn from its metadata how
	// many follow; each next fetch asks for no more than follow, so it ends
	// as soon as they came rather than at its expiry.
	want := 1
	for {
		batch, err := cons.Fetch(want, jetstream.FetchMaxWait(wait))
		if err != nil {
			return nil, fmt.Errorf("read FEEDBACK of %q: %w", model, err)
		}
		n, last := 0, uint64(1)
		for msg := range batch.Messages() {
			n++
			if md, err := msg.Metadata(); err == nil {
				last = md.NumPending
			}
			if row, ok := labelRow(msg.Data(), from, to); ok {
				out = append(out, row)
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("read FEEDBACK of %q: %w", model, err)
		}
		if n == 0 || last == 0 {
			return out, nil
		}
		want = int(min(last, feedbackBatch))
	}
}

func labelRow(data []byte, from, to time.Time) (LabelRow, bool) {
	var fb wire.Feedback
	if json.Unmarshal(data, &fb) != nil {
		return LabelRow{}, false
	}
	at := fb.EventTime
	if at.IsZero() {
		at = fb.At
	}
	if at.Before(from) || (!to.IsZero() && !at.Before(to)) {
		return LabelRow{}, false
	}
	return LabelRow{Entity: fb.Entity, At: at, Label: fb.Label, Items: fb.Items}, true
}
